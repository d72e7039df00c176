"""DataCatalog's persistent records (SQLAlchemy 2 typed ORM): one module per aggregate, one metadata for all."""

from datacatalog.models.artifact import Artifact, ArtifactData, Partition, Tag
from datacatalog.models.base import CatalogBase
from datacatalog.models.dataset import Dataset, DatasetPartitionKey
from datacatalog.models.reservation import Reservation

__all__ = [
    "Artifact",
    "ArtifactData",
    "CatalogBase",
    "Dataset",
    "DatasetPartitionKey",
    "Partition",
    "Reservation",
    "Tag",
]
