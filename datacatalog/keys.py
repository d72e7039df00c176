"""The keys DataCatalog finds things by: dataset ids, artifact handles (id or tag) and reservation ids."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from flyteidl_py.datacatalog import datacatalog_pb2 as dc


@dataclass(frozen=True)
class DatasetKey:
    """A dataset's identity: Flyte's (project, name, domain, version), plus the org flyteidl 1.16 carries."""

    project: str
    name: str
    domain: str
    version: str
    org: str = ""

    def to_proto(self, uuid: str = "") -> dc.DatasetID:
        return dc.DatasetID(
            project=self.project, name=self.name, domain=self.domain, version=self.version, org=self.org, UUID=uuid
        )

    def columns(self) -> dict[str, str]:
        """The key as column values of the rows it names (datasets and reservations use these column names)."""
        return asdict(self)

    def __str__(self) -> str:
        org = f" org:{self.org}" if self.org else ""
        return f"project:{self.project} domain:{self.domain} name:{self.name} version:{self.version}{org}"


@dataclass(frozen=True)
class ArtifactHandle:
    """How a request names an artifact of a dataset: by its id or by a tag pointing at it."""

    artifact_id: str = ""
    tag_name: str = ""

    def __str__(self) -> str:
        return f"artifact id {self.artifact_id}" if self.artifact_id else f"tag {self.tag_name}"


@dataclass(frozen=True)
class ReservationKey:
    """A reservation's identity: the dataset id it is for and the tag (the input hash) being computed."""

    dataset: DatasetKey
    tag_name: str

    def to_proto(self) -> dc.ReservationID:
        return dc.ReservationID(dataset_id=self.dataset.to_proto(), tag_name=self.tag_name)
