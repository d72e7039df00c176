"""Why a node's cache lookup missed, from the records of a running plane (admin and DataCatalog over gRPC).

It asks admin for the node execution, its inputs and the execution's compiled workflow (for the
node's task template), computes the cache key the node looked up, lists every cached artifact of
the task in DataCatalog (all its datasets: other cache versions, interfaces, domains) and says how
the nearest one differs (`propeller.catalog.explain`). Artifacts the node stored itself are left
out. For a map task it explains each element (or the one `index` names).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import grpc

from flyteidl_py.admin import common_pb2, execution_pb2, node_execution_pb2, task_execution_pb2
from flyteidl_py.core import compiler_pb2, identifier_pb2, literals_pb2, tasks_pb2, workflow_pb2
from flyteidl_py.service import admin_pb2_grpc
from flyteplane.errors import FlyteplaneError, InvalidArgument, NotFound
from propeller.catalog.client import CatalogClient
from propeller.catalog.explain import Cached, Explanation, Wanted, literal_text, nearest
from propeller.catalog.keys import TASK_NAMESPACE, CatalogKey
from propeller.data.arrays import array_size, element_inputs
from propeller.data.errors import ArrayUserError


@dataclass(frozen=True)
class NodeRef:
    project: str
    domain: str
    execution: str
    node_id: str

    @property
    def ident(self) -> identifier_pb2.NodeExecutionIdentifier:
        return identifier_pb2.NodeExecutionIdentifier(
            node_id=self.node_id,
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                project=self.project, domain=self.domain, name=self.execution
            ),
        )

    def __str__(self) -> str:
        return f"node {self.node_id} of execution {self.project}/{self.domain}/{self.execution}"


async def explain_node(
    admin: str,
    datacatalog: str,
    node: NodeRef,
    *,
    index: int | None = None,
    interceptors: Sequence[grpc.aio.ClientInterceptor] = (),
) -> str:
    """The report for one node (every element of a map task, or element `index`); `interceptors` present
    whatever admin asks of its callers (the plane credential)."""
    channel = grpc.aio.insecure_channel(admin, interceptors=list(interceptors))
    try:
        async with CatalogClient.connect(datacatalog) as catalog:
            stub: admin_pb2_grpc.AdminServiceAsyncStub = admin_pb2_grpc.AdminServiceStub(channel)
            return await _Explainer(stub, catalog).explain(node, index)
    except grpc.aio.AioRpcError as error:
        # A missing execution or node, or a bad id, keeps its status (the console's route answers 404 / 400).
        kind = {grpc.StatusCode.NOT_FOUND: NotFound, grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument}.get(
            error.code(), FlyteplaneError
        )
        raise kind(f"admin at {admin}: {error.code().name}: {error.details()}") from error
    finally:
        await channel.close()


@dataclass(frozen=True)
class _Catalogued:
    """What DataCatalog holds for a task: how many datasets, and their artifacts."""

    datasets: int
    artifacts: list[Cached]


@dataclass(frozen=True)
class _Task:
    template: tasks_pb2.TaskTemplate
    array: workflow_pb2.ArrayNode | None  # the array node, when the node maps the task


class _Explainer:
    def __init__(self, admin: admin_pb2_grpc.AdminServiceAsyncStub, catalog: CatalogClient) -> None:
        self.admin = admin
        self.catalog = catalog

    async def explain(self, node: NodeRef, index: int | None) -> str:
        execution = await self.admin.GetNodeExecution(node_execution_pb2.NodeExecutionGetRequest(id=node.ident))
        data = await self.admin.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=node.ident))
        task = await self._task(node, execution)
        template = task.template
        name = f"{template.id.name} (version {template.id.version})"
        if not template.metadata.discoverable:
            return f"{node}: task {name} is not cacheable (cache is off), so it is never looked up"
        inputs = data.full_inputs
        cached = await self._cached(template)
        if task.array is None:
            status = execution.closure.task_node_metadata.cache_status
            key = CatalogKey.for_task(template, inputs)
            return (await self._explanation(str(node), name, node, key, status, cached, None, None)).render()
        array = task.array
        bound = list(array.bound_inputs)
        try:
            size = array_size(inputs, bound)
        except ArrayUserError as error:
            raise InvalidArgument(f"{node}: {error.message}") from error
        if index is not None and not 0 <= index < size:
            raise InvalidArgument(f"{node} maps {size} elements: there is no element {index}")
        statuses = await self._element_statuses(node)
        reports: list[str] = []
        for i in [index] if index is not None else range(size):
            key = CatalogKey.for_element(template, array, element_inputs(inputs, bound, i))
            subject = f"element {i} of {node}"
            explanation = await self._explanation(subject, name, node, key, statuses.get(i, 0), cached, i, array)
            reports.append(explanation.render())
        return "\n\n".join(reports)

    async def _explanation(
        self,
        subject: str,
        task: str,
        node: NodeRef,
        key: CatalogKey,
        status: int,
        cached: _Catalogued,
        index: int | None,
        array: workflow_pb2.ArrayNode | None,
    ) -> Explanation:
        others = [
            artifact
            for artifact in cached.artifacts
            if not artifact.produced_by(node.project, node.domain, node.execution, node.node_id, index)
        ]
        wanted = Wanted.of(key, node_id=node.node_id, array_index=index)
        comparison = nearest(wanted, others)
        then: dict[str, str] = {}
        if comparison is not None and comparison.input_names():
            then = await self._source_inputs(comparison.cached, array)
        return Explanation(
            subject=subject,
            task=task,
            wanted=wanted,
            cache_status=status,
            datasets=cached.datasets,
            artifacts=len(others),
            comparison=comparison,
            now={name: literal_text(value) for name, value in key.inputs.literals.items()},
            then=then,
        )

    # -- admin ------------------------------------------------------------------------------------

    async def _task(self, node: NodeRef, execution: node_execution_pb2.NodeExecution) -> _Task:
        """The node's task template (and array node), from the execution's compiled workflow, else from
        the node's task executions."""
        spec_id = execution.metadata.spec_node_id or node.node_id
        run = await self.admin.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=node.ident.execution_id))
        candidates: list[_Task] = []
        if run.closure.HasField("workflow_id"):
            workflow = await self.admin.GetWorkflow(common_pb2.ObjectGetRequest(id=run.closure.workflow_id))
            closure = workflow.closure.compiled_workflow
            tasks = {_task_key(t.template.id): t.template for t in closure.tasks}
            for candidate in _nodes(closure):
                if candidate.id != spec_id:
                    continue
                array = candidate.array_node if candidate.HasField("array_node") else None
                task_node = array.node.task_node if array is not None else candidate.task_node
                if (array is not None or candidate.HasField("task_node")) and (
                    _task_key(task_node.reference_id) in tasks
                ):
                    candidates.append(_Task(tasks[_task_key(task_node.reference_id)], array))
        distinct = {_task_key(c.template.id) for c in candidates}
        if len(distinct) == 1:
            return candidates[0]
        listed = await self.admin.ListTaskExecutions(
            task_execution_pb2.TaskExecutionListRequest(node_execution_id=node.ident, limit=1)
        )
        if listed.task_executions:
            task_id = listed.task_executions[0].id.task_id
            for found in candidates:
                if _task_key(found.template.id) == _task_key(task_id):
                    return found
            task = await self.admin.GetTask(common_pb2.ObjectGetRequest(id=task_id))
            return _Task(task.closure.compiled_task.template, None)
        if candidates:
            return candidates[0]
        raise NotFound(f"{node}: cannot find the task it runs (not a task node of the execution's workflow)")

    async def _element_statuses(self, node: NodeRef) -> dict[int, int]:
        """Each element's cache status, from the array node's task execution."""
        listed = await self.admin.ListTaskExecutions(
            task_execution_pb2.TaskExecutionListRequest(node_execution_id=node.ident, limit=100)
        )
        statuses: dict[int, int] = {}
        for task_execution in listed.task_executions:
            for resource in task_execution.closure.metadata.external_resources:
                statuses[resource.index] = resource.cache_status
        return statuses

    async def _source_inputs(self, cached: Cached, array: workflow_pb2.ArrayNode | None) -> dict[str, str]:
        """Readable inputs of the run that stored `cached` (best effort: {} when admin cannot say)."""
        source = cached.source.node_execution_id
        try:
            data = await self.admin.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=source))
        except grpc.aio.AioRpcError:
            return {}
        inputs: literals_pb2.LiteralMap = data.full_inputs
        if cached.array_index is not None:
            if array is None:
                return {}
            try:
                inputs = element_inputs(inputs, list(array.bound_inputs), cached.array_index)
            except IndexError:
                return {}
        return {name: literal_text(value) for name, value in inputs.literals.items()}

    # -- datacatalog --------------------------------------------------------------------------------

    async def _cached(self, template: tasks_pb2.TaskTemplate) -> _Catalogued:
        """Every artifact of every dataset of the task (any project, domain, cache version, interface)."""
        found: list[Cached] = []
        datasets = await self.catalog.datasets(f"{TASK_NAMESPACE}-{template.id.name}")
        for dataset in datasets:
            found.extend(
                Cached.of(dataset, artifact, template.id) for artifact in await self.catalog.artifacts(dataset.id)
            )
        return _Catalogued(len(datasets), found)


def _task_key(ident: identifier_pb2.Identifier) -> tuple[str, str, str, str]:
    return (ident.project, ident.domain, ident.name, ident.version)


def _nodes(closure: compiler_pb2.CompiledWorkflowClosure) -> Iterator[workflow_pb2.Node]:
    """Every node of the primary workflow and its sub-workflows, branches included."""
    templates: Sequence[workflow_pb2.WorkflowTemplate] = [closure.primary.template] + [
        sub.template for sub in closure.sub_workflows
    ]
    for template in templates:
        for node in template.nodes:
            yield from _within(node)


def _within(node: workflow_pb2.Node) -> Iterator[workflow_pb2.Node]:
    yield node
    if node.HasField("branch_node"):
        branch = node.branch_node.if_else
        yield from _within(branch.case.then_node)
        for case in branch.other:
            yield from _within(case.then_node)
        if branch.HasField("else_node"):
            yield from _within(branch.else_node)
