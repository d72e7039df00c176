"""Stubs over the running admin's channel."""

from __future__ import annotations

import pytest

from flyteidl_py.service import admin_pb2_grpc, dataproxy_pb2_grpc, signal_pb2_grpc
from tests.conftest import RunningAdmin


@pytest.fixture
def stub(admin: RunningAdmin) -> admin_pb2_grpc.AdminServiceStub:
    return admin_pb2_grpc.AdminServiceStub(admin.channel)


@pytest.fixture
def dataproxy(admin: RunningAdmin) -> dataproxy_pb2_grpc.DataProxyServiceStub:
    return dataproxy_pb2_grpc.DataProxyServiceStub(admin.channel)


@pytest.fixture
def signals(admin: RunningAdmin) -> signal_pb2_grpc.SignalServiceStub:
    return signal_pb2_grpc.SignalServiceStub(admin.channel)
