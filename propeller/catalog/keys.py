"""Propeller's cache keys in DataCatalog's terms: the dataset of a task, the tag of its inputs, and the
metadata that records which execution produced an artifact.

For a task with id (project, domain, name, version), `discovery_version` V and interface I:

- dataset id: project and domain of the task, name `flyte_task-<task name>`, version
  `<V trimmed>-<inputs hash[:8]>-<outputs hash[:8]>` (so a new cache version or a changed
  interface is a new dataset, while a new task version with the same V and interface is not);
- artifact tag: `flyte_cached-<hash of the inputs without cache_ignore_input_vars>`;
- artifact id: a random UUID, one per stored result.

Map-task elements are keyed like a task of their own: the array's sub-task with each element's
inputs and, unless the array says its sub-node keeps the original interface, the element interface
(collection inputs and outputs unwrapped), so a cached element's outputs type-check as one value.

Beyond what Flyte records, an artifact's metadata carries each input's hash and a dataset's
metadata each variable's type hash, so `propeller.catalog.explain` can say which part of a key
differs from what is cached.

The hashes are `propeller.catalog.hashing`'s (canonical, not byte-identical to Flyte's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flyteidl_py.core import (
    catalog_pb2,
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    tasks_pb2,
    types_pb2,
    workflow_pb2,
)
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from flyteplane.errors import InvalidArgument
from propeller.catalog.hashing import literal_hash, literal_map_hash, variable_map_hash

TASK_NAMESPACE = "flyte_task"
CACHED_TAG_PREFIX = "flyte_cached"
_SIGNATURE_HASH_LENGTH = 8

# Metadata keys, as Flyte writes them (dataset metadata, then artifact metadata).
TASK_VERSION_KEY = "task-version"
EXEC_PROJECT_KEY = "exec-project"
EXEC_DOMAIN_KEY = "exec-domain"
EXEC_NAME_KEY = "execution-name"
EXEC_NODE_KEY = "exec-node"
EXEC_ATTEMPT_KEY = "exec-attempt"
# Ours: the element of a map task that produced an artifact, and the hashes behind keys (for explain).
ARRAY_INDEX_KEY = "flyteplane.array-index"
INPUT_HASH_PREFIX = "flyteplane.input/"
INPUT_TYPE_PREFIX = "flyteplane.input-type/"
OUTPUT_TYPE_PREFIX = "flyteplane.output-type/"
SIGNATURE_LENGTH = 2 * _SIGNATURE_HASH_LENGTH + 1  # `<inputs hash>-<outputs hash>` at the end of a version


def interface_signature(interface: interface_pb2.TypedInterface) -> str:
    """`<inputs hash[:8]>-<outputs hash[:8]>`; a missing side hashes like an empty one."""
    inputs = variable_map_hash(interface.inputs)[:_SIGNATURE_HASH_LENGTH]
    outputs = variable_map_hash(interface.outputs)[:_SIGNATURE_HASH_LENGTH]
    return f"{inputs}-{outputs}"


def dataset_version(cache_version: str, interface: interface_pb2.TypedInterface) -> str:
    """`<cache version>-<interface signature>`; an empty (or blank) cache version is INVALID_ARGUMENT."""
    trimmed = cache_version.strip(" ")
    if not trimmed:
        raise InvalidArgument("task cannot have an empty discovery_version", field="metadata.discovery_version")
    return f"{trimmed}-{interface_signature(interface)}"


def dataset_id(
    task_id: identifier_pb2.Identifier, cache_version: str, interface: interface_pb2.TypedInterface
) -> dc.DatasetID:
    return dc.DatasetID(
        project=task_id.project,
        domain=task_id.domain,
        name=f"{TASK_NAMESPACE}-{task_id.name}",
        version=dataset_version(cache_version, interface),
        org=task_id.org,
    )


def split_dataset_version(version: str) -> tuple[str, str, str]:
    """(cache version, inputs hash, outputs hash) of a dataset version. The hashes are fixed-length and
    may themselves contain `-`, so the version is cut by length, not split on dashes."""
    if len(version) <= SIGNATURE_LENGTH or version[-SIGNATURE_LENGTH - 1] != "-":
        return version, "", ""
    signature = version[-SIGNATURE_LENGTH:]
    return (
        version[: -SIGNATURE_LENGTH - 1],
        signature[:_SIGNATURE_HASH_LENGTH],
        signature[_SIGNATURE_HASH_LENGTH + 1 :],
    )


def element_interface(
    interface: interface_pb2.TypedInterface, bound_inputs: tuple[str, ...] | list[str] = ()
) -> interface_pb2.TypedInterface:
    """One map-task element's interface: the array task's collection inputs (all but the bound ones) and
    its collection outputs taken one element at a time."""
    element = interface_pb2.TypedInterface()
    element.CopyFrom(interface)
    sides = [
        (name, variable) for name, variable in element.inputs.variables.items() if name not in bound_inputs
    ] + list(element.outputs.variables.items())
    for _, variable in sides:
        if variable.type.HasField("collection_type"):
            item = types_pb2.LiteralType()
            item.CopyFrom(variable.type.collection_type)
            variable.type.CopyFrom(item)
    return element


def input_hashes(
    inputs: literals_pb2.LiteralMap, cache_ignore_input_vars: tuple[str, ...] | list[str] = ()
) -> dict[str, str]:
    """Each input's own hash, for the inputs that make up the tag."""
    return {
        name: literal_hash(literal) for name, literal in inputs.literals.items() if name not in cache_ignore_input_vars
    }


def variable_hashes(variables: interface_pb2.VariableMap) -> dict[str, str]:
    """Each variable's type hash (the same stripped type the interface signature hashes)."""
    return {
        name: variable_map_hash(interface_pb2.VariableMap(variables={name: variable}))[:_SIGNATURE_HASH_LENGTH]
        for name, variable in variables.variables.items()
    }


def artifact_tag(inputs: literals_pb2.LiteralMap, cache_ignore_input_vars: tuple[str, ...] | list[str] = ()) -> str:
    return f"{CACHED_TAG_PREFIX}-{literal_map_hash(inputs, cache_ignore_input_vars)}"


@dataclass(frozen=True)
class CatalogKey:
    """Everything that decides whether a cached result may stand in for running a task."""

    task_id: identifier_pb2.Identifier
    cache_version: str
    interface: interface_pb2.TypedInterface
    inputs: literals_pb2.LiteralMap
    cache_ignore_input_vars: tuple[str, ...] = ()
    # Derived once; a key whose cache version is empty fails here, when it is made.
    dataset_id: dc.DatasetID = field(init=False, compare=False, repr=False)
    tag: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dataset_id", dataset_id(self.task_id, self.cache_version, self.interface))
        object.__setattr__(self, "tag", artifact_tag(self.inputs, self.cache_ignore_input_vars))

    @classmethod
    def for_task(cls, task: tasks_pb2.TaskTemplate, inputs: literals_pb2.LiteralMap) -> CatalogKey:
        """The key of a task template run on `inputs` (its discovery_version and ignored inputs)."""
        return cls(
            task_id=task.id,
            cache_version=task.metadata.discovery_version,
            interface=task.interface,
            inputs=inputs,
            cache_ignore_input_vars=tuple(task.metadata.cache_ignore_input_vars),
        )

    @classmethod
    def for_element(
        cls,
        task: tasks_pb2.TaskTemplate,
        array: workflow_pb2.ArrayNode,
        inputs: literals_pb2.LiteralMap,
    ) -> CatalogKey:
        """The key of one map-task element of the array's sub-task, run on the element's `inputs`."""
        interface = task.interface
        if not array.is_original_sub_node_interface.value:
            interface = element_interface(interface, tuple(array.bound_inputs))
        return cls(
            task_id=task.id,
            cache_version=task.metadata.discovery_version,
            interface=interface,
            inputs=inputs,
            cache_ignore_input_vars=tuple(task.metadata.cache_ignore_input_vars),
        )

    @property
    def input_hashes(self) -> dict[str, str]:
        return input_hashes(self.inputs, self.cache_ignore_input_vars)

    @property
    def reservation_id(self) -> dc.ReservationID:
        return dc.ReservationID(dataset_id=self.dataset_id, tag_name=self.tag)


def dataset_metadata(source: identifier_pb2.TaskExecutionIdentifier, key: CatalogKey | None = None) -> dc.Metadata:
    """What a dataset records about the task that created it: the task version (and, with the key,
    each variable's type hash)."""
    metadata = dc.Metadata(key_map={TASK_VERSION_KEY: source.task_id.version})
    if key is not None:
        for name, digest in variable_hashes(key.interface.inputs).items():
            metadata.key_map[INPUT_TYPE_PREFIX + name] = digest
        for name, digest in variable_hashes(key.interface.outputs).items():
            metadata.key_map[OUTPUT_TYPE_PREFIX + name] = digest
    return metadata


def artifact_metadata(
    source: identifier_pb2.TaskExecutionIdentifier,
    key: CatalogKey | None = None,
    *,
    array_index: int | None = None,
) -> dc.Metadata:
    """What an artifact records about the task execution that produced it (and, with the key, the
    hash of each input that made up its tag)."""
    execution = source.node_execution_id.execution_id
    metadata = dc.Metadata(
        key_map={
            EXEC_PROJECT_KEY: execution.project,
            EXEC_DOMAIN_KEY: execution.domain,
            EXEC_NAME_KEY: execution.name,
            EXEC_NODE_KEY: source.node_execution_id.node_id,
            EXEC_ATTEMPT_KEY: str(source.retry_attempt),
        }
    )
    if array_index is not None:
        metadata.key_map[ARRAY_INDEX_KEY] = str(array_index)
    if key is not None:
        for name, digest in key.input_hashes.items():
            metadata.key_map[INPUT_HASH_PREFIX + name] = digest
    return metadata


def prefixed(metadata: dc.Metadata, prefix: str) -> dict[str, str] | None:
    """The metadata entries under `prefix` (prefix removed); None when there are none at all."""
    found = {key[len(prefix) :]: value for key, value in metadata.key_map.items() if key.startswith(prefix)}
    return found or None


def source_from_metadata(
    dataset: dc.Metadata, artifact: dc.Metadata, task_id: identifier_pb2.Identifier
) -> identifier_pb2.TaskExecutionIdentifier:
    """The task execution that produced a cached artifact; what the metadata lacks reads `unknown`
    (project and domain default to the task's), as in Flyte."""
    dataset_keys, artifact_keys = dataset.key_map, artifact.key_map
    attempt = artifact_keys.get(EXEC_ATTEMPT_KEY, "0")
    return identifier_pb2.TaskExecutionIdentifier(
        task_id=identifier_pb2.Identifier(
            resource_type=task_id.resource_type,
            project=task_id.project,
            domain=task_id.domain,
            name=task_id.name,
            version=dataset_keys.get(TASK_VERSION_KEY, "unknown"),
            org=task_id.org,
        ),
        retry_attempt=int(attempt) if attempt.isdecimal() and int(attempt) < 2**32 else 0,
        node_execution_id=identifier_pb2.NodeExecutionIdentifier(
            node_id=artifact_keys.get(EXEC_NODE_KEY, "unknown"),
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                project=artifact_keys.get(EXEC_PROJECT_KEY, task_id.project),
                domain=artifact_keys.get(EXEC_DOMAIN_KEY, task_id.domain),
                name=artifact_keys.get(EXEC_NAME_KEY, "unknown"),
                org=task_id.org,
            ),
        ),
    )


def dataset_identifier(dataset: dc.DatasetID) -> identifier_pb2.Identifier:
    """The dataset id as the core Identifier (resource type DATASET) that events carry."""
    return identifier_pb2.Identifier(
        resource_type=identifier_pb2.DATASET,
        project=dataset.project,
        domain=dataset.domain,
        name=dataset.name,
        version=dataset.version,
        org=dataset.org,
    )


def catalog_metadata(
    dataset: dc.DatasetID, tag: str, artifact_id: str, source: identifier_pb2.TaskExecutionIdentifier | None
) -> catalog_pb2.CatalogMetadata:
    """The `catalog_key` of a node event for a cache hit or a populated cache."""
    metadata = catalog_pb2.CatalogMetadata(
        dataset_id=dataset_identifier(dataset),
        artifact_tag=catalog_pb2.CatalogArtifactTag(artifact_id=artifact_id, name=tag),
    )
    if source is not None:
        metadata.source_task_execution.CopyFrom(source)
    return metadata
