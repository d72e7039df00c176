"""End-to-end fixtures: one admin per database kind for a whole module, and real clients pointed at it.

flytekit calls cost seconds each, so a module shares one admin (per database kind) and one
registration of the example workflows; tests then only read what those calls left behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import DATABASE_KINDS, RunningAdmin, new_database_url
from tests.support.admin import running_admin
from tests.support.flytekit import Flytekit, flytekit_bin
from tests.support.grpcurl import ensure_grpcurl

WORKFLOWS = Path(__file__).with_name("workflows")


@pytest.fixture(scope="session")
def flytekit_venv() -> Path:
    """Built (once, cached across runs) before any admin serves: building it would starve the loop."""
    return flytekit_bin()


@pytest.fixture(scope="session")
def grpcurl_binary() -> Path:
    return ensure_grpcurl()


@pytest.fixture(scope="module", params=DATABASE_KINDS)
async def module_admin(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningAdmin]:
    """Like the `admin` fixture, but shared by the tests of one module (per database kind)."""
    directory = tmp_path_factory.mktemp(f"admin-{request.param}")
    async with running_admin(new_database_url(request, directory), directory) as running:
        yield running


@pytest.fixture(scope="module")
def flytekit(flytekit_venv: Path, module_admin: RunningAdmin, tmp_path_factory: pytest.TempPathFactory) -> Flytekit:
    """flytekit configured for `module_admin`, with the example workflows as package `workflows`."""
    project_dir = tmp_path_factory.mktemp("project")
    client = Flytekit.for_admin(flytekit_venv, module_admin.grpc_port, module_admin.http_port, project_dir)
    client.add_package(WORKFLOWS, "workflows")
    return client
