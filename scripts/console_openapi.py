"""Writes admin's OpenAPI document (every annotated RPC, from the descriptors) for the console's type generation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from google.protobuf.message import Message

from admin.rest import openapi, routes_from
from admin.server import ENGINE_ONLY_RPCS
from admin.service import SERVICES


async def _unserved(request: Message) -> Message:  # never called: only the routes' shapes are read
    raise NotImplementedError


def main(target: str) -> None:
    tables = ((d, {m.name: _unserved for m in d.methods}) for d, _ in SERVICES)
    document = openapi(routes_from(tables, engine_only=ENGINE_ONLY_RPCS))
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
