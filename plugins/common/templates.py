"""Flyte's command-line template variables: rendering `{{.input}}` & co. into a task's command, as propeller does.

Variables are matched case-insensitively, with `.` or `$` before the name and spaces allowed
inside the braces (`{{ .outputPrefix }}`, `{{$Input}}`). Unknown variables are left as they are,
like Flyte does. `{{.Inputs.<name>}}` renders a primitive input literal as text.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from flyteidl_py.core import literals_pb2
from flyteplane.storage import LOCAL_ALIAS, file_uri
from plugins.core import BadTaskDefinition

_VARIABLE = re.compile(r"\{\{\s*[.$]\s*([A-Za-z_][\w.]*?)\s*\}\}")
_INPUTS = "inputs."


class TemplateError(BadTaskDefinition):
    """A variable the command uses cannot be rendered (the task definition is unusable here)."""


@dataclass(frozen=True)
class TemplateValues:
    """What each variable stands for in one attempt."""

    input: str  # <data dir>/inputs.pb
    input_prefix: str  # <data dir>
    output_prefix: str
    raw_output_data_prefix: str
    checkpoint_output_prefix: str
    prev_checkpoint_prefix: str = ""  # "" on the first attempt: flytekit reads "" as "no checkpoint"
    task_template_path: str = ""
    remote_package_path: str = ""
    per_retry_unique_key: str = ""
    namespace: str = ""

    def lookup(self) -> dict[str, str]:
        values = {
            "input": self.input,
            "inputprefix": self.input_prefix,
            "outputprefix": self.output_prefix,
            "rawoutputdataprefix": self.raw_output_data_prefix,
            "checkpointoutputprefix": self.checkpoint_output_prefix,
            "prevcheckpointprefix": self.prev_checkpoint_prefix,
            "perretryuniquekey": self.per_retry_unique_key,
            "namespace": self.namespace,
        }
        # Optional ones are substituted only when known, so an unresolved one stays visible.
        if self.task_template_path:
            values["tasktemplatepath"] = self.task_template_path
        if self.remote_package_path:
            values["remote_package_path"] = self.remote_package_path
        return values


def variables_in(args: Sequence[str]) -> frozenset[str]:
    """The lower-cased variable names `args` mention (`inputs.x` for input references)."""
    return _variables_in(tuple(args))


@functools.lru_cache(maxsize=256)
def _variables_in(args: tuple[str, ...]) -> frozenset[str]:
    # Cached: every attempt of a task (every element of a map task) asks about the same command.
    return frozenset(match.group(1).lower() for arg in args for match in _VARIABLE.finditer(arg))


def render(args: Sequence[str], values: TemplateValues, inputs: literals_pb2.LiteralMap | None = None) -> list[str]:
    """`args` with every known variable substituted; TemplateError for an input reference it cannot render."""
    table = values.lookup()

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        if name in table:
            return table[name]
        if name.startswith(_INPUTS):
            input_name = match.group(1)[len(_INPUTS) :]
            if inputs is None or input_name not in inputs.literals:
                raise TemplateError(f"{match.group(0)} names no input of this task")
            return literal_text(inputs.literals[input_name], input_name)
        return match.group(0)

    return [_VARIABLE.sub(substitute, arg) for arg in args]


def literal_text(literal: literals_pb2.Literal, name: str) -> str:
    """An input literal as Flyte writes it into a command line (primitives, blobs, collections of them)."""
    kind = literal.WhichOneof("value")
    if kind == "collection":
        return "[" + ",".join(literal_text(item, name) for item in literal.collection.literals) + "]"
    if kind == "scalar":
        scalar = literal.scalar
        which = scalar.WhichOneof("value")
        if which == "primitive":
            return _primitive_text(scalar.primitive)
        if which == "blob":
            return _uploaded_path(scalar.blob.uri)
        if which == "schema":
            return _uploaded_path(scalar.schema.uri)
        if which == "none_type":
            return ""
    raise TemplateError(f"input {name!r} ({kind}) cannot be rendered into a command line")


def _uploaded_path(uri: str) -> str:
    """A blob's URI for a command line: a `local://` name (what the local store's data proxy hands
    clients for their uploads) as the plain path it is, as the local store's other blobs are written;
    any other URI (s3://, gs://, file://, a path) as it is."""
    if uri.startswith(LOCAL_ALIAS + "://"):
        return file_uri(uri).removeprefix("file://")
    return uri


def _primitive_text(primitive: literals_pb2.Primitive) -> str:
    which = primitive.WhichOneof("value")
    if which == "integer":
        return str(primitive.integer)
    if which == "float_value":
        return _go_float(primitive.float_value)
    if which == "string_value":
        return str(primitive.string_value)
    if which == "boolean":
        return "true" if primitive.boolean else "false"
    if which == "datetime":
        return primitive.datetime.ToJsonString()
    if which == "duration":
        return _go_duration(primitive.duration.seconds * 10**9 + primitive.duration.nanos)
    return ""


def _go_float(value: float) -> str:
    """Go's `%v` of a float64: the shortest digits, in exponent form when the exponent is < -4 or >= 6."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    exact = Decimal(repr(value))
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    exponent = exact.adjusted()
    if -4 <= exponent < 6:
        text = format(exact, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    sign, digits, _ = exact.as_tuple()
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    mantissa = shown[0] + ("." + shown[1:] if len(shown) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent):02d}"


def _go_duration(nanos: int) -> str:
    """Go's `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`."""
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if nanos < 1000:
        return f"{sign}{nanos}ns"
    if nanos < 10**6:
        return f"{sign}{_trim(nanos / 1000)}µs"
    if nanos < 10**9:
        return f"{sign}{_trim(nanos / 10**6)}ms"
    hours, rest = divmod(nanos, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = _trim(rest / 10**9)
    text = f"{hours}h{minutes}m{seconds}s" if hours else f"{minutes}m{seconds}s" if minutes else f"{seconds}s"
    return sign + text


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def rewrite_dest_dir(argv: Sequence[str], dest_dir: str) -> list[str]:
    """`argv` with the `--dest-dir` of a `pyflyte-fast-execute` command pointing at `dest_dir`.

    Fast-registered tasks are serialized with `--dest-dir /root` (the image's working directory);
    a local process needs a directory of its own that exists.
    """
    out = list(argv)
    try:
        start = next(i for i, arg in enumerate(out) if arg.rsplit("/", 1)[-1] == "pyflyte-fast-execute")
    except StopIteration:
        return out
    i = start + 1
    while i < len(out) and out[i] != "--":
        if out[i] == "--dest-dir" and i + 1 < len(out):
            out[i + 1] = dest_dir
            i += 1
        elif out[i].startswith("--dest-dir="):
            out[i] = f"--dest-dir={dest_dir}"
        i += 1
    return out
