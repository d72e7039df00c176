"""Files written by real flytekit decode completely with flyteidl_py and re-encode byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import text_format

from flyteidl_py.core import dynamic_job_pb2, literals_pb2
from tests.support.paths import fixtures_dir

RUNTIME_TYPES = {
    "futures.pb": "flyteidl.core.DynamicJobSpec",
    "inputs.pb": "flyteidl.core.LiteralMap",
    "outputs.pb": "flyteidl.core.LiteralMap",
}
# flytekit's package naming: NN_<name>_1.pb TaskSpec, _2.pb WorkflowSpec, _3.pb LaunchPlan.
PACKAGE_TYPES = {
    "_1.pb": "flyteidl.admin.TaskSpec",
    "_2.pb": "flyteidl.admin.WorkflowSpec",
    "_3.pb": "flyteidl.admin.LaunchPlan",
}


def _runtime_files() -> list[str]:
    return sorted(p.name for p in (fixtures_dir() / "runtime").glob("*.pb"))


def _package_members() -> list[str]:
    members = []
    for archive in sorted(fixtures_dir().glob("*.tgz")):
        with tarfile.open(archive) as tar:
            members += [f"{archive.name}/{m.name}" for m in tar.getmembers() if m.name.endswith(".pb")]
    return members


def _type_for(name: str, table: dict[str, str]) -> str:
    return next(t for suffix, t in table.items() if name.endswith(suffix))


@pytest.fixture(scope="module")
def verdicts() -> dict[str, dict[str, Any]]:
    """Every fixture decoded and re-encoded once, in a subprocess (see roundtrip.py for why)."""
    jobs: list[list[str]] = []
    for name in _runtime_files():
        data = (fixtures_dir() / "runtime" / name).read_bytes()
        jobs.append([name, _type_for(name, RUNTIME_TYPES), data.hex()])
    for archive in sorted(fixtures_dir().glob("*.tgz")):
        with tarfile.open(archive) as tar:
            for m in tar.getmembers():
                extracted = tar.extractfile(m) if m.name.endswith(".pb") else None
                if extracted is not None:
                    label = f"{archive.name}/{m.name}"
                    jobs.append([label, _type_for(m.name, PACKAGE_TYPES), extracted.read().hex()])
    env = dict(os.environ, PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION="python")
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("roundtrip.py"))],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("name", _runtime_files())
def test_runtime_file_round_trips_byte_identically(name: str, verdicts: dict[str, dict[str, Any]]) -> None:
    verdict = verdicts[name]
    assert verdict["unknown_fields"] == []
    assert verdict["identical"]


@pytest.mark.parametrize("name", _runtime_files())
def test_runtime_file_reads_the_values_flytekit_dumped(name: str) -> None:
    path = fixtures_dir() / "runtime" / name
    cls = dynamic_job_pb2.DynamicJobSpec if name.endswith("futures.pb") else literals_pb2.LiteralMap
    decoded = cls.FromString(path.read_bytes())
    dumped = cls()
    text = path.with_suffix(".txt").read_text()
    text_format.Parse("\n".join(line for line in text.splitlines() if not line.startswith("#")), dumped)
    assert decoded == dumped


@pytest.mark.parametrize("label", _package_members())
def test_package_entity_decodes_completely_and_round_trips(label: str, verdicts: dict[str, dict[str, Any]]) -> None:
    verdict = verdicts[label]
    assert verdict["unknown_fields"] == []
    assert verdict["identical"]
    assert verdict["size"] > 0


def test_packages_hold_thirty_entities_each() -> None:
    per_archive: dict[str, int] = {}
    for label in _package_members():
        archive = label.split("/", 1)[0]
        per_archive[archive] = per_archive.get(archive, 0) + 1
    assert per_archive == {"examples-package-fast.tgz": 30, "examples-package.tgz": 30}
