"""Fixtures shared by every kind of test: databases (SQLite and a real PostgreSQL) and a running admin."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

from tests.support.admin import RunningAdmin, running_admin
from tests.support.dex import ensure_dex
from tests.support.kube_node import Node, Unavailable, shared_node
from tests.support.postgres import create_database, postgres_server

__all__ = ["RunningAdmin"]  # re-exported: tests import it from here

# The test modules that run pods on the machine's one Kubernetes node (the `k8s_node` fixture). The node has two
# allocatable CPUs, which one module's pods fill: two such modules at once on the two xdist workers leave one's
# pods Pending behind the other's until its waits time out. They run one after another, on one worker.
NODE_MODULES = (
    "tests/e2e/test_k8s_",
    "tests/e2e/test_kuberay_with_flytekit.py",
    "tests/integration/admin/test_pod_logs.py",
)

_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def dex_binary() -> Path:
    """Dex (a real OpenID Connect provider), built once from the Go module proxy (tests/support/dex.py)."""
    return ensure_dex()


DATABASE_KINDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def k8s_node() -> Iterator[Node]:
    """A real single-node Kubernetes cluster, one for the whole machine's test run (see tests/support/kube_node.py).

    Built and cached on first use (the Kubernetes commands, the sandbox and task images); skipped where a node
    cannot run (not root, no Go toolchain), with the reason.
    """
    try:
        with shared_node() as node:
            yield node
    except Unavailable as exc:
        pytest.skip(f"no Kubernetes node here: {exc}")


def new_database_url(request: pytest.FixtureRequest, directory: Path) -> str:
    """A fresh, empty database of the kind `request.param` names (SQLite files go in `directory`)."""
    if request.param == "sqlite":
        return f"sqlite:///{directory / 'test.db'}"
    base: str = request.getfixturevalue("postgres_base_url")
    return create_database(base, f"t{next(_counter)}_{abs(hash(request.node.nodeid)) % 10**8}")


@pytest.fixture(params=DATABASE_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    return new_database_url(request, tmp_path)


@pytest.fixture
async def admin(database_url: str, tmp_path: Path) -> AsyncIterator[RunningAdmin]:
    """Admin on loopback with free ports, a migrated database and a local store (see running_admin)."""
    async with running_admin(database_url, tmp_path) as running:
        yield running


class OneNodeAtATime(LoadFileScheduling):
    """`--dist loadfile` (scripts/test.sh), with the modules of `NODE_MODULES` as one unit: one worker runs them all."""

    def _split_scope(self, nodeid: str) -> str:
        scope: str = super()._split_scope(nodeid)
        return "kubernetes-node" if scope.startswith(NODE_MODULES) else scope


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadFileScheduling | None:
    return OneNodeAtATime(config, log) if config.getoption("dist") == "loadfile" else None
