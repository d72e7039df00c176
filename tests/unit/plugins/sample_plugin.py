"""A third-party backend as small as one can be: what an entry point or `plugins.factories` names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugins.core import Phase, TaskExecutionContext, Transition


class SamplePlugin:
    id = "sample"
    task_types: tuple[str, ...] = ("sample",)

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        return Transition(Phase.SUCCESS)

    async def abort(self, ctx: TaskExecutionContext) -> None:
        return None

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        return None


def create(config: Mapping[str, Any]) -> SamplePlugin:
    if "bad" in config:
        raise ValueError("sample: 'bad' is not a setting")
    return SamplePlugin(config)


async def create_async(config: Mapping[str, Any]) -> SamplePlugin:
    return SamplePlugin({**config, "built": "async"})


def not_a_plugin(config: Mapping[str, Any]) -> object:
    return object()
