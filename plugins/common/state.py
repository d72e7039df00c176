"""A plugin's persisted state as versioned JSON: what `Transition.state` carries from one `handle` call to the next."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


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
