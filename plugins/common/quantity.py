"""Kubernetes resource quantities (`500m`, `1.5Gi`, `2e3`), as the task's resources state them for every backend."""

from __future__ import annotations

import re
from decimal import Decimal

from plugins.core import BadTaskDefinition

_QUANTITY = re.compile(
    r"^([+-]?[0-9]+(?:\.[0-9]*)?|[+-]?\.[0-9]+)(?:[eE]([+-]?[0-9]+))?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$"
)
_SUFFIX = {
    None: Decimal(1), "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("0.001"),
    "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15, "E": Decimal(10) ** 18, "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}  # fmt: skip


def quantity(text: str) -> Decimal:
    """A Kubernetes quantity (`500m`, `1.5Gi`, `2e3`) as a number; BadTaskDefinition if it is not one."""
    match = _QUANTITY.match(str(text).strip())
    if not match:
        raise BadTaskDefinition(f"invalid resource quantity {text!r}")
    number, exponent, suffix = match.groups()
    return Decimal(number) * Decimal(10) ** int(exponent or 0) * _SUFFIX[suffix]


def whole_units(text: str) -> int:
    """A non-negative quantity in whole units (bytes, say), rounded up; BadTaskDefinition if it is not one."""
    value = quantity(text)
    if value < 0:
        raise BadTaskDefinition(f"invalid resource quantity {text!r}")
    return int(value.to_integral_value(rounding="ROUND_CEILING"))
