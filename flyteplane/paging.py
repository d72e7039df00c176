"""Page tokens: the row offsets admin and DataCatalog hand out as opaque strings, read back safely."""

from __future__ import annotations

from flyteplane.errors import InvalidArgument

# Offsets go to SQL as 64-bit integers; a larger one is no page anyone was given.
MAX_OFFSET = 2**63 - 1
_MAX_DIGITS = len(str(MAX_OFFSET))


def offset_of(token: str, field: str, *, message: str = "invalid pagination token", maximum: int = MAX_OFFSET) -> int:
    """The offset a token stands for (0 for none); InvalidArgument naming `field` for anything else."""
    if not token:
        return 0
    if len(token) > _MAX_DIGITS or not token.isascii() or not token.isdigit() or int(token) > maximum:
        raise InvalidArgument(message, field=field)
    return int(token)
