"""The gRPC face of DataCatalog: one table mapping each RPC of `datacatalog.DataCatalog` to its manager call.

An RPC missing from the table answers UNIMPLEMENTED (grpcio's default); a name that is not an
RPC of the service fails at start-up, so the table cannot drift from the IDL silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from datacatalog.managers.artifacts import ArtifactManager
from datacatalog.managers.context import CatalogContext
from datacatalog.managers.datasets import DatasetManager
from datacatalog.managers.reservations import ReservationManager
from datacatalog.managers.tags import TagManager
from flyteidl_py.datacatalog import datacatalog_pb2, datacatalog_pb2_grpc
from flyteplane.rpc import Handler, servicer

SERVICE = datacatalog_pb2.DESCRIPTOR.services_by_name["DataCatalog"]


@dataclass(frozen=True)
class Managers:
    datasets: DatasetManager
    artifacts: ArtifactManager
    tags: TagManager
    reservations: ReservationManager

    @classmethod
    def build(cls, ctx: CatalogContext) -> Managers:
        return cls(DatasetManager(ctx), ArtifactManager(ctx), TagManager(ctx), ReservationManager(ctx))


def routes(m: Managers) -> dict[str, Handler]:
    return {
        "CreateDataset": m.datasets.create,
        "GetDataset": m.datasets.get,
        "ListDatasets": m.datasets.list,
        "CreateArtifact": m.artifacts.create,
        "GetArtifact": m.artifacts.get,
        "ListArtifacts": m.artifacts.list,
        "UpdateArtifact": m.artifacts.update,
        "AddTag": m.tags.add,
        "GetOrExtendReservation": m.reservations.get_or_extend,
        "ReleaseReservation": m.reservations.release,
    }


def add_service(server: grpc.aio.Server, managers: Managers) -> list[str]:
    """Registers DataCatalog on a grpc.aio server; returns the full service names it serves."""
    datacatalog_pb2_grpc.add_DataCatalogServicer_to_server(
        servicer(datacatalog_pb2_grpc.DataCatalogServicer, SERVICE, routes(managers)),  # type: ignore[type-abstract]
        server,
    )
    return [SERVICE.full_name]
