"""ImageSpec without Docker: `pyflyte run --remote` with flyteplane's builder, and the plane builds a virtualenv.

The plane is the command a user types (as in test_sandbox); the client is real flytekit with flyteplane's
flytekit plugin installed (its entry point registers the builder, the default for an ImageSpec without
`builder=`). The sklearn environment is built once and kept under the test cache (with uv's cache), so
only the first run of the suite on a machine pays for downloading scikit-learn.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from flyteidl_py.core import execution_pb2 as core
from tests.e2e.test_runs_with_flytekit import _outputs
from tests.e2e.test_sandbox import S3_KEY, S3_SECRET, Sandbox, _client, _env, _wait, moto
from tests.support.flytekit import Flytekit, flyteplane_plugin_path
from tests.support.venvs import cache_root

WORKFLOWS = Path(__file__).with_name("imagespec_workflows")
PROBE = Path(__file__).with_name("imagespec_document_probe.py")
__all__ = ["moto"]  # the S3-compatible server's fixture, used here as in test_sandbox


def _plane(tmp_path: Path, flytekit_venv: Path, args: list[str], extra: dict[str, str] | None = None) -> Sandbox:
    local = {
        "default_environment": {"venv": str(flytekit_venv.parent)},
        # Kept across runs, as the test virtualenvs are: a second run finds the environment built.
        "image_spec": {"env_dir": str(cache_root() / "imagespec-envs")},
    }
    plugins = json.dumps({"backends": {"local": local}})
    return Sandbox(
        tmp_path / "plane", args, _env(flytekit_venv, {"FLYTEPLANE_PROPELLER__PLUGINS": plugins, **(extra or {})})
    )


def _client_with_plugin(plane: Sandbox, flytekit_venv: Path, project: Path) -> Flytekit:
    """flytekit with flyteplane's plugin on its path, and the workflows of this module as a package."""
    client = replace(_client(plane, flytekit_venv, project), python_path=(flyteplane_plugin_path(flytekit_venv),))
    client.add_package(WORKFLOWS, "imagespec_workflows")
    return client


@pytest.fixture
async def sandbox(tmp_path: Path, flytekit_venv: Path) -> AsyncIterator[Sandbox]:
    plane = _plane(tmp_path, flytekit_venv, [])
    await plane.start()
    yield plane
    if plane.process is not None and plane.process.returncode is None:
        await plane.interrupt()


async def test_an_imagespec_task_runs_in_a_virtualenv_built_from_its_spec(
    sandbox: Sandbox, flytekit_venv: Path, tmp_path: Path
) -> None:
    client = _client_with_plugin(sandbox, flytekit_venv, tmp_path / "project")
    # No Docker on this machine: flytekit's own builder could not have built these images.
    await asyncio.gather(
        client.run_remote("imagespec_workflows/specs.py", "sklearn_wf", "--n", "7", name="sklearn-1"),
        client.run_remote("imagespec_workflows/specs.py", "apt_wf", name="apt-1"),
    )

    answer = await _wait(client, "sklearn-1")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    outputs = _outputs(answer, "o0", "o1")
    assert outputs["o0"] == 3.0
    greeting, in_container, sklearn_version = outputs["o1"].split("|")
    assert greeting == "set by the spec"
    assert in_container == "True"  # flytekit's is_container(): the task runs in the spec's image
    assert sklearn_version.split(".")[0] == "1"

    refused = await _wait(client, "apt-1")
    assert refused["phase"] == core.WorkflowExecution.FAILED
    assert "apt_packages" in refused.get("error", ""), refused
    assert "not supported" in refused["error"]


async def test_the_spec_travels_through_the_data_proxy_on_s3_too(
    tmp_path: Path, flytekit_venv: Path, moto: str
) -> None:
    credentials = {
        "FLYTEPLANE_STORAGE__S3__ACCESS_KEY_ID": S3_KEY,
        "FLYTEPLANE_STORAGE__S3__SECRET_ACCESS_KEY": S3_SECRET,
    }
    plane = _plane(tmp_path, flytekit_venv, ["--storage", "s3://plane", "--s3-endpoint", moto], credentials)
    await plane.start()
    try:
        client = _client_with_plugin(plane, flytekit_venv, tmp_path / "project")
        await client.run_remote("imagespec_workflows/specs.py", "sklearn_wf", "--n", "4", name="on-s3")
        answer = await _wait(client, "on-s3")
        assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
        assert _outputs(answer, "o0")["o0"] == 3.0
        objects = boto3.client(
            "s3", endpoint_url=moto, region_name="us-east-1", aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET
        ).list_objects_v2(Bucket="plane")
        assert any(o["Key"].endswith("/flyteplane-imagespec.json") for o in objects.get("Contents", []))
    finally:
        await plane.interrupt()


async def test_the_builder_ships_the_spec_its_requirements_text_and_its_source_roots_files(
    flytekit_venv: Path, tmp_path: Path
) -> None:
    """The client side alone: what the builder would upload (no plane needed to see it)."""
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    (project / "requirements.txt").write_text("pandas==2.2.3\n")
    client = Flytekit(
        flytekit_venv, project / "unused.yaml", project, python_path=(flyteplane_plugin_path(flytekit_venv),)
    )
    answer = await client.remote(PROBE, {"root": str(project)})
    assert answer["default_builder"] == "flyteplane"  # above flytekit's Docker builder once installed
    assert {"default", "flyteplane"} <= set(answer["registered"])
    document = answer["document"]
    assert document["format"] == "flyteplane-imagespec/1"
    assert document["packages"] == ["numpy"]
    assert document["requirements"] == {"name": "requirements.txt", "text": "pandas==2.2.3\n"}
    assert document["apt_packages"] == ["curl"]  # the plane refuses it, naming the field
    assert document["flytekit_version"] == "1.16.31"
    assert "pkg/__init__.py" in answer["members"]
    assert answer["same_bytes"]  # content-addressed uploads: the same files give the same archive
