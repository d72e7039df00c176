"""A plugin's persisted state as versioned JSON: what `Transition.state` carries from one `handle` call to the next."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import Field, asdict
from typing import Any, ClassVar, Self


def encode_state(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True).encode()


def decode_state(data: bytes, version: int, plugin: str) -> dict[str, Any] | None:
    """The fields of the state in `data`; None for empty state; ValueError for state this `version` cannot read."""
    if not data:
        return None
    value = json.loads(data)
    if not isinstance(value, dict) or value.get("version") != version:
        raise ValueError(f"unknown {plugin} state {data[:80]!r}")
    return value


class VersionedState:
    """Base of a plugin's state dataclass, stored as the sorted-key JSON of its fields (`version` among them).

    A subclass names its `state_version` (what its `version` field defaults to) and the `plugin` that
    error messages name; one with fields that are themselves dataclasses rebuilds them in `from_fields`.
    """

    __dataclass_fields__: ClassVar[dict[str, Field[object]]]
    state_version: ClassVar[int]
    plugin: ClassVar[str]

    def encode(self) -> bytes:
        return encode_state(asdict(self))

    @classmethod
    def decode(cls, data: bytes) -> Self | None:
        """None for empty state; ValueError for state this version cannot read."""
        value = decode_state(data, cls.state_version, cls.plugin)
        return None if value is None else cls.from_fields(value)

    @classmethod
    def from_fields(cls, value: dict[str, object]) -> Self:
        return cls(**value)
