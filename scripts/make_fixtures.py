"""Regenerate tests/fixtures/flytekit-<version>/ by running real flytekit on tests/fixtures/flytekit-examples/.

What the tests decode, compile and run as "what real flytekit writes" is made here, never by hand:

- `examples-package.tgz` and `examples-package-fast.tgz`: `pyflyte --pkgs examples package`, without
  and with the fast-register code bundle (`--copy all`), for the example workflows;
- `*.txt` beside them: every proto of each package in text format, and `LISTING.txt`, one line a file;
- `runtime/`: files real task runs wrote (`pyflyte-execute` / `pyflyte-map-execute` of the packaged
  tasks' own container commands): a task's inputs and outputs, a dataclass output, a map-task
  element's outputs and a @dynamic task's futures.

One edit is made to flytekit's bytes: the @dynamic task carries its serialization settings
(`_F_SS_C`: base64 of gzipped JSON) whose `source_root` is the directory the package was made in; it
is set to `/root` (the image's code directory) so the fixtures do not depend on where they were made.

    .venv/bin/python scripts/make_fixtures.py            # rewrite the fixtures
    .venv/bin/python scripts/make_fixtures.py --check    # regenerate into a scratch dir and compare

flytekit runs in its own virtualenv (tests.support.flytekit), never in this process: it registers the
published flyteidl in protobuf's descriptor pool, and this script decodes with flyteidl_py.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from google.protobuf import message, text_format  # noqa: E402

from flyteidl_py.admin import launch_plan_pb2, task_pb2, workflow_pb2  # noqa: E402
from flyteidl_py.core import dynamic_job_pb2, literals_pb2, tasks_pb2  # noqa: E402
from tests.support.flytekit import FLYTEKIT_VERSION, flytekit_bin  # noqa: E402
from tests.support.paths import examples_dir, fixtures_dir  # noqa: E402

IMAGE = f"localhost/flytekit-probe:{FLYTEKIT_VERSION}"
SERIALIZATION_SETTINGS_ENV = "_F_SS_C"
CODE_DIR_IN_IMAGE = "/root"
# flytekit's package file names: NN_<name>_<kind>.pb, kind 1 = TaskSpec, 2 = WorkflowSpec, 3 = LaunchPlan.
KINDS: dict[str, type[message.Message]] = {
    "1": task_pb2.TaskSpec,
    "2": workflow_pb2.WorkflowSpec,
    "3": launch_plan_pb2.LaunchPlan,
}
PACKAGES = {"examples-package.tgz": [], "examples-package-fast.tgz": ["--copy", "all"]}
PROJECT, DOMAIN, VERSION = "flytesnacks", "development", "v1"


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _kind(name: str) -> type[message.Message] | None:
    stem = name.removesuffix(".pb")
    return KINDS.get(stem.rsplit("_", 1)[-1]) if name.endswith(".pb") else None


# --- packages -----------------------------------------------------------------------------------


def _scrub_source_root(spec: task_pb2.TaskSpec) -> bool:
    """Point a @dynamic task's serialized source_root at the image's code directory; True if changed."""
    for pair in spec.template.container.env:
        if pair.key != SERIALIZATION_SETTINGS_ENV:
            continue
        settings = json.loads(gzip.decompress(base64.b64decode(pair.value)))
        settings["source_root"] = CODE_DIR_IN_IMAGE
        packed = gzip.compress(json.dumps(settings).encode(), mtime=0)
        pair.value = base64.b64encode(packed).decode()
        return True
    return False


def _scrub_package(path: Path) -> None:
    """Rewrite the package with every member as flytekit wrote it except the scrubbed @dynamic tasks."""
    members: list[tuple[tarfile.TarInfo, bytes]] = []
    with tarfile.open(path) as package:
        for info in package.getmembers():
            data = _member_bytes(package, info) if info.isfile() else b""
            if _kind(info.name) is task_pb2.TaskSpec:
                spec = task_pb2.TaskSpec.FromString(data)
                if _scrub_source_root(spec):
                    data = spec.SerializeToString()
                    info.size = len(data)
            members.append((info, data))
    with tarfile.open(path, "w:gz") as package:
        for info, data in members:
            package.addfile(info, io.BytesIO(data))


def _member_bytes(package: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    member = package.extractfile(info)
    if member is None:
        raise SystemExit(f"{info.name}: not a regular file in the package")
    return member.read()


def _read_package(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as package:
        return {info.name: _member_bytes(package, info) for info in package.getmembers() if info.isfile()}


def _summary(name: str, data: bytes) -> tuple[str, str]:
    """(proto type, one-line summary) of a package member, as LISTING.txt shows it."""
    kind = _kind(name)
    if kind is None:
        return "fast-register code bundle (tar.gz of the source root)", ""
    proto = kind.FromString(data)
    type_name = proto.DESCRIPTOR.full_name
    if isinstance(proto, task_pb2.TaskSpec):
        template = proto.template
        meta = template.metadata
        parts = [f"type={template.type}", f"v={template.task_type_version}", f"cmd={template.container.args[0]}"]
        if any(e.key == SERIALIZATION_SETTINGS_ENV for e in template.container.env):
            parts.append(f"env {SERIALIZATION_SETTINGS_ENV} (dynamic)")
        if meta.discoverable:
            parts.append(f"cache(version={meta.discovery_version},serialize={meta.cache_serializable})")
        if meta.retries.retries:
            parts.append(f"retries={meta.retries.retries}")
        if meta.HasField("timeout"):
            parts.append(f"timeout={meta.timeout.seconds}s")
        if meta.interruptible:
            parts.append("interruptible")
        if template.container.resources.requests or template.container.resources.limits:
            parts.append("requests/limits")
        if meta.generates_deck.value:
            parts.append("deck")
        return type_name, " ".join(parts)
    if isinstance(proto, workflow_pb2.WorkflowSpec):
        nodes = proto.template.nodes
        kinds = sorted({n.WhichOneof("target") for n in nodes if n.WhichOneof("target")})
        return type_name, f"nodes={len(nodes)} {kinds} sub_workflows={len(proto.sub_workflows)}"
    assert isinstance(proto, launch_plan_pb2.LaunchPlan)
    defaults = sorted(proto.spec.default_inputs.parameters)
    return type_name, f"workflow={proto.spec.workflow_id.name} defaults={defaults}"


def _listing(packages: dict[str, dict[str, bytes]]) -> str:
    lines: list[str] = []
    for package, members in packages.items():
        lines.append(f"=== {package}")
        for name in sorted(members):
            type_name, summary = _summary(name, members[name])
            lines.append(f"{name:<75}  {len(members[name]):>5}  {type_name:<28} {summary}".rstrip())
        lines.append("")
    return "\n".join(lines) + "\n"


def _dump(members: dict[str, bytes]) -> str:
    out: list[str] = []
    for name in sorted(members):
        kind = _kind(name)
        if kind is None:
            out.append(f"##### {name}  ({len(members[name])} bytes, not a proto)\n")
            continue
        out.append(f"##### {name}  -> {kind.DESCRIPTOR.full_name}")
        out.append(text_format.MessageToString(kind.FromString(members[name])))
    return "\n".join(out) + "\n"


def make_packages(work: Path, out: Path, bin_dir: Path) -> dict[str, dict[str, bytes]]:
    made: dict[str, dict[str, bytes]] = {}
    for package, flags in PACKAGES.items():
        target = out / package
        args = [str(bin_dir / "pyflyte"), "--pkgs", "examples", "package", "--image", IMAGE]
        _run([*args, *flags, "--output", str(target), "--force"], cwd=work)
        _scrub_package(target)
        made[package] = _read_package(target)
        (out / package.replace(".tgz", ".txt")).write_text(_dump(made[package]))
    (out / "LISTING.txt").write_text(_listing(made))
    return made


# --- runtime files -------------------------------------------------------------------------------


def _int(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


def _str(value: str) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=value)))


def _float(value: float) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(float_value=value)))


def _ints(values: list[int]) -> literals_pb2.Literal:
    return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=[_int(v) for v in values]))


# (fixture name, task name, inputs, keep the inputs too, map-task element index); a run's file is
# outputs.pb, or futures.pb for a @dynamic task.
RUNS: list[tuple[str, str, dict[str, literals_pb2.Literal], bool, int | None]] = [
    ("scalars", "examples.basics.scalars", {"a": _int(2), "b": _str("hi"), "c": _float(0.5)}, True, None),
    ("make_point", "examples.basics.make_point", {"a": _int(1), "c": _float(2.5), "b": _str("p")}, False, None),
    ("map_square", "examples.advanced.map_square", {"x": _ints([1, 2, 3])}, True, 1),
    ("dyn_sum_squares", "examples.advanced.dyn_sum_squares", {"n": _int(3)}, False, None),
]


def _template(members: dict[str, bytes], task_name: str) -> tasks_pb2.TaskTemplate:
    for name, data in members.items():
        if _kind(name) is task_pb2.TaskSpec:
            template = task_pb2.TaskSpec.FromString(data).template
            if template.id.name == task_name or template.id.name.startswith(task_name + "_"):
                return template
    raise SystemExit(f"no task {task_name} in the package")


def _write(path: Path, proto: message.Message) -> None:
    path.write_bytes(proto.SerializeToString())
    path.with_suffix(".txt").write_text(f"# {proto.DESCRIPTOR.full_name}\n{text_format.MessageToString(proto)}")


def make_runtime(work: Path, out: Path, bin_dir: Path, members: dict[str, bytes]) -> None:
    """Run each task with its packaged command, as a container would, and keep what it wrote."""
    runtime = out / "runtime"
    runtime.mkdir(parents=True, exist_ok=True)
    for fixture, task_name, inputs, keep_inputs, index in RUNS:
        template = _template(members, task_name)
        attempt = work / "runs" / fixture
        (attempt / "checkpoint").mkdir(parents=True)
        inputs_pb = attempt / "inputs.pb"
        inputs_pb.write_bytes(literals_pb2.LiteralMap(literals=inputs).SerializeToString())
        values = {
            "{{.input}}": str(inputs_pb),
            "{{.outputPrefix}}": str(attempt / "out"),
            "{{.rawOutputDataPrefix}}": str(attempt / "raw"),
            "{{.checkpointOutputPrefix}}": str(attempt / "checkpoint"),
            "{{.prevCheckpointPrefix}}": '""',
        }
        args = [values.get(arg, arg) for arg in template.container.args]
        args[0] = str(bin_dir / args[0])
        env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(attempt),
            "PYTHONPATH": str(work),
            "FLYTE_INTERNAL_EXECUTION_ID": "fixture",
            "FLYTE_INTERNAL_EXECUTION_PROJECT": PROJECT,
            "FLYTE_INTERNAL_EXECUTION_DOMAIN": DOMAIN,
            "FLYTE_INTERNAL_TASK_PROJECT": PROJECT,
            "FLYTE_INTERNAL_TASK_DOMAIN": DOMAIN,
            "FLYTE_INTERNAL_TASK_NAME": template.id.name,
            "FLYTE_INTERNAL_TASK_VERSION": VERSION,
            "FLYTE_ATTEMPT_NUMBER": "0",
            **{pair.key: pair.value for pair in template.container.env},
        }
        if index is not None:
            env |= {"BATCH_JOB_ARRAY_INDEX_VAR_NAME": "FLYTE_K8S_ARRAY_INDEX", "FLYTE_K8S_ARRAY_INDEX": str(index)}
        _run(args, cwd=attempt, env=env)
        if keep_inputs:
            _write(runtime / f"{fixture}.inputs.pb", literals_pb2.LiteralMap(literals=inputs))
        outputs, futures = attempt / "out" / "outputs.pb", attempt / "out" / "futures.pb"
        if futures.exists():
            _write(runtime / f"{fixture}.futures.pb", dynamic_job_pb2.DynamicJobSpec.FromString(futures.read_bytes()))
        elif outputs.exists():
            name = f"{fixture}_index{index}" if index is not None else fixture
            _write(runtime / f"{name}.outputs.pb", literals_pb2.LiteralMap.FromString(outputs.read_bytes()))
        else:
            written = sorted(p.name for p in (attempt / "out").rglob("*"))
            raise SystemExit(f"{fixture}: the task wrote neither outputs.pb nor futures.pb: {written}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="regenerate into a scratch directory and compare")
    parser.add_argument("--out", type=Path, help="write the fixtures here instead of tests/fixtures/")
    options = parser.parse_args()
    bin_dir = flytekit_bin()
    with tempfile.TemporaryDirectory(prefix="flyteplane-fixtures-") as scratch:
        work = Path(scratch) / "work"
        shutil.copytree(examples_dir(), work / "examples", ignore=shutil.ignore_patterns("__pycache__"))
        out = options.out or (Path(scratch) / "out" if options.check else fixtures_dir())
        out.mkdir(parents=True, exist_ok=True)
        packages = make_packages(work, out, bin_dir)
        make_runtime(work, out, bin_dir, packages["examples-package.tgz"])
        if options.check:
            sys.exit(_compare(out, fixtures_dir()))
    print(f"fixtures written to {options.out or fixtures_dir().relative_to(ROOT)}")


def _futures(data: bytes) -> dynamic_job_pb2.DynamicJobSpec:
    """A DynamicJobSpec with each node's upstream ids sorted: flytekit lists them in no fixed order."""
    spec = dynamic_job_pb2.DynamicJobSpec.FromString(data)
    for node in spec.nodes:
        node.upstream_node_ids.sort()
    return spec


def _same(new: Path, kept: Path) -> bool:
    """Text the same to the byte; a runtime .pb the same message (writers may order map entries differently)."""
    if not kept.exists():
        return False
    if new.name.endswith(".futures.pb"):
        return _futures(new.read_bytes()) == _futures(kept.read_bytes())
    if new.name.endswith(".futures.txt"):
        return True  # compared as the message above
    if new.suffix == ".pb":
        return literals_pb2.LiteralMap.FromString(new.read_bytes()) == literals_pb2.LiteralMap.FromString(
            kept.read_bytes()
        )
    return new.read_bytes() == kept.read_bytes()


def _compare(new: Path, kept: Path) -> int:
    """What the packages hold (their text dumps and listing) and the runtime files must match what is kept;
    the package archives themselves differ in timestamps."""
    differ = [
        str(path.relative_to(new))
        for path in sorted(new.rglob("*"))
        if path.is_file() and path.suffix != ".tgz" and not _same(path, kept / path.relative_to(new))
    ]
    for name in differ:
        print(f"differs from the kept fixture: {name}")
    print("fixtures are current" if not differ else f"{len(differ)} fixture file(s) differ")
    return 1 if differ else 0


if __name__ == "__main__":
    main()
