"""Identifier keys and renderings, and the reserved ids of the synthetic start and end nodes."""

from __future__ import annotations

from flyteidl_py.core import identifier_pb2

START_NODE = "start-node"
END_NODE = "end-node"

IdKey = tuple[int, str, str, str, str, str]


def id_key(ident: identifier_pb2.Identifier) -> IdKey:
    """A hashable key equal for equal identifiers (every field counts, as Flyte matches by full id)."""
    return (ident.resource_type, ident.project, ident.domain, ident.name, ident.version, ident.org)


def id_str(ident: identifier_pb2.Identifier) -> str:
    """`resource_type:project:domain:name:version` (org appended when set), for messages."""
    kind = identifier_pb2.ResourceType.Name(ident.resource_type)
    parts = [kind, ident.project, ident.domain, ident.name, ident.version]
    if ident.org:
        parts.append(ident.org)
    return ":".join(parts)
