"""flyteidl_py describes exactly the wire protocol and file options of the published flyteidl 1.16.8."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.venvs import ensure_venv

DESCRIBE = Path(__file__).with_name("describe_idl.py")
PUBLISHED = ["flyteidl==1.16.8"]


# The Go module our generated Go code lives in (scripts/generate_clients.sh); idl/flyteplane's go_package
# is under it, with flyteidl's package layout (gen/pb-go/...).
GO_MODULE = "github.com/flyteplane/flyteplane/flyteidl"


def _describe(python: str, package: str, *include: str) -> dict[str, object]:
    done = subprocess.run(
        [python, str(DESCRIBE), package, *include], check=True, capture_output=True, text=True, cwd=DESCRIBE.parent
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


def test_every_file_option_message_field_enum_and_rpc_matches_published_flyteidl(
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


def test_every_file_carries_the_published_options(published: dict[str, object]) -> None:
    options = [v for k, v in published.items() if k.startswith("file ")]
    assert len(options) > 60
    # go_package is what lets protoc-gen-go place every file without extra flags.
    go_packages = [o.get("go_package", "") if isinstance(o, dict) else "" for o in options]
    assert all(str(p).startswith("github.com/flyteorg/flyte/flyteidl/gen/pb-go/") for p in go_packages)


def test_our_own_services_carry_options_of_our_own() -> None:
    """idl/flyteplane/ follows flyteidl's naming scheme under our own names and Go module."""
    ours = _describe(sys.executable, "flyteidl_py", "flyteplane")
    files = {k.removeprefix("file "): v for k, v in ours.items() if k.startswith("file flyteplane/")}
    assert sorted(files) == [
        "flyteplane/auth/v1/tokens.proto",
        "flyteplane/engine/v1/engine.proto",
        "flyteplane/events/v1/events.proto",
        "flyteplane/schedules/v1/schedules.proto",
    ]
    for name, options in files.items():
        directory, stem = name.rsplit("/", 1)
        parts = directory.split("/")  # flyteplane, engine, v1
        title = [p.capitalize() for p in parts]
        expected = {
            "go_package": f"{GO_MODULE}/gen/pb-go/{directory};{parts[1]}{parts[2]}",
            "java_package": "com." + ".".join(parts),
            "java_outer_classname": stem.removesuffix(".proto").capitalize() + "Proto",
            "java_multiple_files": True,
            "csharp_namespace": ".".join(title),
            "php_namespace": "\\".join(title),
            "php_metadata_namespace": "\\".join(title) + "\\GPBMetadata",
            "ruby_package": "::".join(title),
        }
        assert isinstance(options, dict)
        assert {k: options.get(k) for k in expected} == expected, name
        prefix = options.get("objc_class_prefix")
        assert isinstance(prefix, str) and prefix.startswith("FP"), name
