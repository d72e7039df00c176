"""Print a canonical JSON description of every file's options, message, field, enum value and RPC under a package.

Standalone on purpose: it runs both in our environment (package `flyteidl_py`) and in a
virtualenv holding the published `flyteidl` wheel (package `flyteidl`), and the conformance
test compares the two outputs. Descriptor names are proto names, so they compare directly.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from typing import Any

from google.protobuf import descriptor


def _field(f: descriptor.FieldDescriptor) -> dict[str, Any]:
    oneof = f.containing_oneof
    return {
        "name": f.name,
        "number": f.number,
        "type": f.type,
        "type_name": (f.message_type or f.enum_type).full_name if (f.message_type or f.enum_type) else "",
        "repeated": f.is_repeated if hasattr(f, "is_repeated") else f.label == f.LABEL_REPEATED,
        "oneof": oneof.name if oneof is not None else "",
        "proto3_optional": bool(getattr(f, "has_presence", False))
        and oneof is not None
        and oneof.name.startswith("_")
        and len(oneof.fields) == 1,
        "json_name": f.json_name,
        "deprecated": f.GetOptions().deprecated,
    }


def _enum(e: descriptor.EnumDescriptor, out: dict[str, Any]) -> None:
    out[f"enum {e.full_name}"] = {v.name: v.number for v in e.values}


def _message(m: descriptor.Descriptor, out: dict[str, Any]) -> None:
    out[f"message {m.full_name}"] = {
        "map_entry": m.GetOptions().map_entry,
        "oneofs": sorted(o.name for o in m.oneofs),
    }
    for f in m.fields:
        out[f"field {m.full_name}.{f.name}"] = _field(f)
    for e in m.enum_types:
        _enum(e, out)
    for n in m.nested_types:
        _message(n, out)


def _http_rule(method: descriptor.MethodDescriptor) -> str:
    options = method.GetOptions()
    for field, value in options.ListFields():
        if field.full_name == "google.api.http":
            return str(value).replace("\n", " ").strip()
    return ""


def _file_options(file: descriptor.FileDescriptor) -> dict[str, Any]:
    """The options set on a file (go_package, java_package, ...), by option name."""
    return {f.name: value for f, value in file.GetOptions().ListFields()}


def describe(package: str, include: tuple[str, ...] = ()) -> dict[str, Any]:
    root = importlib.import_module(package)
    out: dict[str, Any] = {}
    for info in sorted(pkgutil.walk_packages(root.__path__, package + "."), key=lambda i: i.name):
        rest = info.name[len(package) + 1 :]
        if not info.name.endswith("_pb2") or rest.startswith("typed"):
            continue
        if rest.startswith("flyteplane") and "flyteplane" not in include:
            continue
        file = importlib.import_module(info.name).DESCRIPTOR
        out[f"file {file.name}"] = _file_options(file)
        for m in file.message_types_by_name.values():
            _message(m, out)
        for e in file.enum_types_by_name.values():
            _enum(e, out)
        for s in file.services_by_name.values():
            out[f"service {s.full_name}"] = sorted(m.name for m in s.methods)
            for m in s.methods:
                out[f"rpc {s.full_name}.{m.name}"] = {
                    "input": m.input_type.full_name,
                    "output": m.output_type.full_name,
                    "client_streaming": m.client_streaming if hasattr(m, "client_streaming") else False,
                    "server_streaming": m.server_streaming if hasattr(m, "server_streaming") else False,
                    "http": _http_rule(m),
                }
    return out


if __name__ == "__main__":
    # google.api.http must be registered for its options to be readable.
    importlib.import_module("google.api.annotations_pb2")
    # `flyteidl_py flyteplane` also describes our own services (in flyteidl_py.flyteplane).
    json.dump(describe(sys.argv[1], tuple(sys.argv[2:])), sys.stdout, indent=1, sort_keys=True)
