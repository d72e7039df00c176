"""flyteidl_py describes exactly the wire protocol of the published flyteidl 1.16.8."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.venvs import ensure_venv

DESCRIBE = Path(__file__).with_name("describe_idl.py")
PUBLISHED = ["flyteidl==1.16.8"]


def _describe(python: str, package: str) -> dict[str, object]:
    done = subprocess.run(
        [python, str(DESCRIBE), package], check=True, capture_output=True, text=True, cwd=DESCRIBE.parent
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def published() -> dict[str, object]:
    return _describe(str(ensure_venv("flyteidl-1.16.8", PUBLISHED)), "flyteidl")


@pytest.fixture(scope="module")
def ours() -> dict[str, object]:
    # A subprocess as well, so the published descriptors and ours never share a pool by accident.
    return _describe(sys.executable, "flyteidl_py")


def test_every_message_field_enum_and_rpc_matches_published_flyteidl(
    published: dict[str, object], ours: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    missing = sorted(set(published) - set(ours))
    extra = sorted(set(ours) - set(published))
    different = sorted(k for k in set(published) & set(ours) if published[k] != ours[k])
    report = [f"missing: {k}" for k in missing] + [f"extra: {k}" for k in extra]
    report += [f"differs: {k}: ours={ours[k]} published={published[k]}" for k in different]
    assert not report, "\n".join(report[:50])
    kinds: dict[str, int] = {}
    for key in published:
        kind = key.split(" ", 1)[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    with capsys.disabled():
        summary = ", ".join(f"{n} {k}s" for k, n in sorted(kinds.items()))
        print(f"\nwire conformance: compared {len(published)} elements ({summary}), 0 differences")
    assert len(published) > 500


def test_every_service_keeps_its_rest_paths(published: dict[str, object], ours: dict[str, object]) -> None:
    rpcs = [k for k in published if k.startswith("rpc flyteidl.service.AdminService.")]
    with_http = [k for k in rpcs if published[k]["http"]]  # type: ignore[index]
    assert len(with_http) > 50
    assert all(ours[k]["http"] == published[k]["http"] for k in with_http)  # type: ignore[index]
