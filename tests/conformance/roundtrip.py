"""Decode protobuf files with flyteidl_py and re-encode them; print one JSON verdict per file.

Run as a subprocess with PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python: that implementation
re-emits map entries in the order they were read, so a byte-identical re-encoding proves the
schema (numbers, types, packing) reproduces what flytekit wrote. The default upb implementation
iterates maps in hash order, which would make the comparison about hashing, not about the schema.

Input on stdin: JSON list of [label, message full name, hex bytes].
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys

from google.protobuf import message_factory, unknown_fields
from google.protobuf.message import Message

import flyteidl_py


def _load_all() -> None:
    for info in pkgutil.walk_packages(flyteidl_py.__path__, "flyteidl_py."):
        if info.name.endswith("_pb2") and ".typed" not in info.name:
            importlib.import_module(info.name)


def _unknown(message: Message, path: str = "") -> list[str]:
    found = [path or "<root>"] if len(unknown_fields.UnknownFieldSet(message)) else []
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].message_type is not None:
                found += [u for k, v in value.items() for u in _unknown(v, f"{path}.{field.name}[{k}]")]
        elif field.is_repeated:
            found += [u for i, v in enumerate(value) for u in _unknown(v, f"{path}.{field.name}[{i}]")]
        else:
            found += _unknown(value, f"{path}.{field.name}")
    return found


def main() -> None:
    _load_all()
    from google.protobuf import descriptor_pool

    pool = descriptor_pool.Default()
    verdicts = {}
    for label, type_name, hexdata in json.load(sys.stdin):
        data = bytes.fromhex(hexdata)
        cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(type_name))
        msg = cls()
        msg.ParseFromString(data)
        verdicts[label] = {
            "unknown_fields": _unknown(msg),
            "identical": msg.SerializeToString() == data,
            "size": len(data),
        }
    json.dump(verdicts, sys.stdout)


if __name__ == "__main__":
    main()
