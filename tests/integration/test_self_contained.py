"""The repository carries everything its tests read: a copy placed where nothing lies beside it still tests.

The copy holds the files git tracks, as they are in the working tree, in a fresh directory with no
siblings (so no `../shared`, no other checkout): the whole suite must collect there, and the tests
that read files (the conformance fixtures, and every unit-test directory whose code opens a path)
must pass there. The rest of the unit tests read nothing but code, which collecting already imports.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO_ROOT

# Paths outside the checkout that a test or script once read; none may be named again.
OUTSIDE = ("../shared", "shared/reference")


def _tracked() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True)
    return [name for name in listed.stdout.decode().split("\0") if name]


def test_no_tracked_file_names_a_place_outside_the_repository() -> None:
    naming: list[str] = []
    for name in _tracked():
        path = REPO_ROOT / name
        if not path.is_file() or path.suffix in (".tgz", ".gz", ".pb", ".png"):
            continue
        text = path.read_text(errors="replace")
        naming += [f"{name}: {outside}" for outside in OUTSIDE if outside in text and name != _this_file()]
    assert not naming


def _unit_tests_reading_files() -> list[str]:
    """Unit-test directories (or top-level modules) with code that names a path: its own, the repo's, fixtures."""
    unit = REPO_ROOT / "tests" / "unit"
    marks = ("__file__", "REPO_ROOT", "fixtures", "read_text", "read_bytes", "open(")
    chosen = {
        path if path.parent == unit else path.parent
        for path in unit.rglob("*.py")
        if any(mark in path.read_text() for mark in marks)
    }
    return sorted(str(path.relative_to(REPO_ROOT)) for path in chosen)


def _this_file() -> str:
    return str(Path(__file__).relative_to(REPO_ROOT))


def test_a_copy_with_nothing_beside_it_collects_the_suite_and_passes_the_fixture_tests(tmp_path: Path) -> None:
    alone = tmp_path / "nothing-beside" / "flyteplane"
    for name in _tracked():
        source = REPO_ROOT / name
        if source.is_file():
            (alone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, alone / name)
    assert not (alone.parent.parent / "shared").exists() and sorted(os.listdir(alone.parent)) == ["flyteplane"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]

    collected = subprocess.run(
        [*pytest, "--collect-only"], cwd=alone, env=env, capture_output=True, text=True, check=False
    )
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    assert " tests collected" in collected.stdout or " collected" in collected.stdout

    ran = subprocess.run(
        [*pytest, "-x", "tests/conformance/test_flytekit_fixtures.py", *_unit_tests_reading_files()],
        cwd=alone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert " passed" in ran.stdout
