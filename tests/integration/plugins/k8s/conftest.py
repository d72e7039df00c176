"""Fixtures of the Kubernetes backends' integration tests: the fake and the real API server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.plugins.k8s.apiserver import ApiServer, Unavailable, running_apiserver
from tests.integration.plugins.k8s.fake_apiserver import FakeApiServer, serving


@pytest.fixture
def fake_api() -> Iterator[FakeApiServer]:
    with serving(FakeApiServer(namespaces={"default", "flytesnacks-development"})) as api:
        yield api


@pytest.fixture(scope="session")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """A real kube-apiserver with etcd (built and started once per session)."""
    try:
        with running_apiserver(tmp_path_factory.mktemp("kube")) as server:
            yield server
    except Unavailable as exc:
        pytest.skip(f"no real kube-apiserver here: {exc}")


def kube(url: str, **extra: object) -> dict[str, object]:
    """A backend's `kube` settings pointing at `url`."""
    return {"connection": {"host": url, "verify_ssl": False}, "watch_interval_seconds": 0.1, **extra}
