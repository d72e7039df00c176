"""Propeller's side of task caching: cache keys (dataset id, input tag), canonical literal hashing,
and the DataCatalog client for lookups, stores and reservations."""

from propeller.catalog.client import CachedOutputs, CatalogClient, CatalogError, PutResult, ReservationResult
from propeller.catalog.hashing import literal_hash, literal_map_hash, strip_type_metadata, variable_map_hash
from propeller.catalog.keys import (
    CatalogKey,
    artifact_tag,
    catalog_metadata,
    dataset_id,
    dataset_identifier,
    dataset_version,
    interface_signature,
    source_from_metadata,
)

__all__ = [
    "CachedOutputs",
    "CatalogClient",
    "CatalogError",
    "CatalogKey",
    "PutResult",
    "ReservationResult",
    "artifact_tag",
    "catalog_metadata",
    "dataset_id",
    "dataset_identifier",
    "dataset_version",
    "interface_signature",
    "literal_hash",
    "literal_map_hash",
    "source_from_metadata",
    "strip_type_metadata",
    "variable_map_hash",
]
