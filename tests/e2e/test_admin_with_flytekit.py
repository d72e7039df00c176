"""Admin against the real, unmodified flytekit 1.16.31: `pyflyte register`, `pyflyte run --remote`, FlyteRemote.

Each module-scoped fixture below makes one flytekit call per database kind; the tests then check
one consequence each, through flytekit's own view (FlyteRemote), admin's RecordingEngine and
admin's object store.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any, TypeVar

import pytest
from google.protobuf.message import Message

from flyteidl_py.admin import execution_pb2, launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl_py.core import compiler_pb2, identifier_pb2, literals_pb2
from flyteidl_py.core import workflow_pb2 as core_workflow_pb2
from tests.conftest import RunningAdmin
from tests.support.flytekit import Finished, Flytekit, registered_entities
from tests.support.literals import plain_map

M = TypeVar("M", bound=Message)

PROBE = Path(__file__).with_name("flyteremote_probe.py")
VERSION = "v1"
PROJECT, DOMAIN = "flytesnacks", "development"

TASKS = {
    "workflows.typed_io.primitives",
    "workflows.typed_io.spread",
    "workflows.typed_io.make_point",
    "workflows.typed_io.move_point",
    "workflows.typed_io.write_lines",
    "workflows.typed_io.count_lines",
    "workflows.typed_io.count_optional_lines",
    "workflows.control_flow.square",
    "workflows.control_flow.add",
    "workflows.control_flow.total",
    "workflows.control_flow.halve",
    "workflows.control_flow.negate",
    "workflows.control_flow.sum_of_squares",
    "workflows.configured.cached_double",
    "workflows.configured.retried",
    "workflows.configured.resourced",
    "workflows.launch_plans.affine",
}
MAP_TASK_PREFIX = "workflows.control_flow.map_square_"  # + a hash of the mapped task, + "-arraynode"
WORKFLOWS = {
    "workflows.typed_io.typed_io_wf",
    "workflows.control_flow.square_plus",
    "workflows.control_flow.control_flow_wf",
    "workflows.configured.configured_wf",
    "workflows.launch_plans.affine_wf",
}
LAUNCH_PLANS = WORKFLOWS | {"workflows.control_flow.square_plus_lp", "workflows.launch_plans.affine_lp"}

WORKFLOW_RUN = "run-typed-io"
CONTROL_FLOW_RUN = "run-control-flow"
LAUNCH_PLAN_RUN = "exec-affine-lp"
INPUT_FILE_TEXT = "line one\nline two\n"


# -- what flytekit did, once per database kind ------------------------------------------------------


@pytest.fixture(scope="module")
async def registration(flytekit: Flytekit) -> Finished:
    return await flytekit.register("workflows", version=VERSION)


@pytest.fixture(scope="module")
def registered(registration: Finished) -> dict[str, set[str]]:
    return registered_entities(registration.stdout)


@pytest.fixture(scope="module")
async def fetched(flytekit: Flytekit, registered: dict[str, set[str]]) -> dict[str, dict[str, Any]]:
    """Every registered entity fetched with FlyteRemote: {kind: {name: {"admin": b64} or {"error": ...}}}."""
    answer: dict[str, dict[str, Any]] = await flytekit.remote(
        PROBE,
        {
            "action": "fetch_entities",
            "version": VERSION,
            "tasks": sorted(registered["Task"]),
            "workflows": sorted(registered["Workflow"]),
            "launch_plans": sorted(registered["Launch Plan"]),
        },
    )
    return answer


@pytest.fixture(scope="module")
def input_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inputs") / "input.txt"
    path.write_text(INPUT_FILE_TEXT)
    return path


@pytest.fixture(scope="module")
async def workflow_run(flytekit: Flytekit, input_file: Path) -> Finished:
    return await flytekit.run_remote(
        "workflows/typed_io.py", "typed_io_wf",
        "--a", "5", "--b", "world", "--xs", "[4, 5]", "--f", str(input_file),
        name=WORKFLOW_RUN,
    )  # fmt: skip


@pytest.fixture(scope="module")
async def control_flow_run(flytekit: Flytekit) -> Finished:
    return await flytekit.run_remote("workflows/control_flow.py", "control_flow_wf", "--n", "2", name=CONTROL_FLOW_RUN)


@pytest.fixture(scope="module")
async def task_run(flytekit: Flytekit) -> str:
    """The name admin gave the execution (none is asked for), as the console URL pyflyte prints shows it."""
    finished = await flytekit.run_remote("workflows/configured.py", "retried", "--x", "7")
    found = re.search(r"/console/projects/\S+/domains/\S+/executions/(\S+)", finished.stdout)
    assert found, f"pyflyte printed no execution URL:\n{finished.stdout}"
    return found.group(1)


@pytest.fixture(scope="module")
async def launch_plan_run(flytekit: Flytekit, registration: Finished) -> dict[str, Any]:
    answer: dict[str, Any] = await flytekit.remote(
        PROBE,
        {
            "action": "execute_launch_plan",
            "name": "workflows.launch_plans.affine_lp",
            "version": VERSION,
            "inputs": {"x": 5},
            "execution_name": LAUNCH_PLAN_RUN,
        },
    )
    return answer


# -- reading it back --------------------------------------------------------------------------------


def decode(message_type: type[M], encoded: str) -> M:
    message = message_type()
    message.ParseFromString(base64.b64decode(encoded))
    return message


def admin_view(fetched: dict[str, dict[str, Any]], kind: str, name: str, message_type: type[M]) -> M:
    """What admin answered FlyteRemote for one entity; fails with flytekit's error if the fetch failed."""
    entry = fetched[kind][name]
    assert "error" not in entry, f"FlyteRemote could not fetch {kind} {name}: {entry['error']}"
    return decode(message_type, entry["admin"])


def entity_id(
    resource_type: identifier_pb2.ResourceType, name: str, version: str = VERSION
) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=resource_type, project=PROJECT, domain=DOMAIN, name=name, version=version
    )


def map_task_name(names: set[str]) -> str:
    (name,) = [n for n in names if n.startswith(MAP_TASK_PREFIX) and n.endswith("-arraynode")]
    return name


def recorded_launch(admin: RunningAdmin, execution_name: str) -> Any:
    launches = [launch for launch in admin.engine.launches if launch.execution_id.name == execution_name]  # type: ignore[attr-defined]
    assert len(launches) == 1, f"expected one launch of {execution_name}, engine recorded {len(launches)}"
    return launches[0]


async def launched_inputs(admin: RunningAdmin, execution_name: str) -> dict[str, Any]:
    storage = admin.server.managers.ctx.storage  # type: ignore[attr-defined]
    launch = recorded_launch(admin, execution_name)
    return plain_map(await storage.read_proto(launch.inputs_uri, literals_pb2.LiteralMap))


def nodes_of(template: core_workflow_pb2.WorkflowTemplate) -> list[core_workflow_pb2.Node]:
    """Every node of a template, including branch cases and array sub-nodes."""
    found: list[core_workflow_pb2.Node] = []
    pending = list(template.nodes)
    while pending:
        node = pending.pop()
        found.append(node)
        if node.HasField("branch_node"):
            if_else = node.branch_node.if_else
            pending += [if_else.case.then_node, *(case.then_node for case in if_else.other)]
            if if_else.HasField("else_node"):
                pending.append(if_else.else_node)
        if node.HasField("array_node"):
            pending.append(node.array_node.node)
    return found


def templates_of(closure: compiler_pb2.CompiledWorkflowClosure) -> list[core_workflow_pb2.WorkflowTemplate]:
    return [closure.primary.template, *(sub.template for sub in closure.sub_workflows)]


def referenced_task_ids(closure: compiler_pb2.CompiledWorkflowClosure) -> set[str]:
    return {
        str(node.task_node.reference_id)
        for template in templates_of(closure)
        for node in nodes_of(template)
        if node.HasField("task_node")
    }


# -- pyflyte register -------------------------------------------------------------------------------


def test_register_registers_every_task_of_the_package(registered: dict[str, set[str]]) -> None:
    assert registered["Task"] - {map_task_name(registered["Task"])} == TASKS


def test_register_registers_every_workflow_of_the_package(registered: dict[str, set[str]]) -> None:
    assert registered["Workflow"] == WORKFLOWS


def test_register_registers_default_and_named_launch_plans(registered: dict[str, set[str]]) -> None:
    assert registered["Launch Plan"] == LAUNCH_PLANS


def test_register_uploads_the_code_bundle_through_the_data_proxy(
    fetched: dict[str, dict[str, Any]], module_admin: RunningAdmin
) -> None:
    task = admin_view(fetched, "tasks", "workflows.typed_io.primitives", task_pb2.Task)
    args = list(task.closure.compiled_task.template.container.args)
    bundle = args[args.index("--additional-distribution") + 1]
    # On a local store the data proxy names uploads local:///path (fsspec's name for the local file system):
    # flytekit treats it as remote, as it does s3:// on a sandbox, and tasks read it from local disk.
    assert bundle.startswith("local:///")
    path = Path(bundle.removeprefix("local://"))
    assert path.is_relative_to(module_admin.storage_root)
    assert path.stat().st_size > 0


async def test_registering_the_same_version_again_succeeds(
    flytekit: Flytekit, registration: Finished, registered: dict[str, set[str]]
) -> None:
    again = await flytekit.register("workflows", version=VERSION)

    assert registered_entities(again.stdout) == registered


# -- FlyteRemote fetches what was registered --------------------------------------------------------


def test_flyteremote_fetches_every_task_with_its_compiled_template(
    registered: dict[str, set[str]], fetched: dict[str, dict[str, Any]]
) -> None:
    for name in registered["Task"]:
        task = admin_view(fetched, "tasks", name, task_pb2.Task)
        assert task.id == entity_id(identifier_pb2.TASK, name)
        assert task.closure.compiled_task.template.id == task.id


def test_flyteremote_fetches_every_workflow_with_its_compiled_closure(
    registered: dict[str, set[str]], fetched: dict[str, dict[str, Any]]
) -> None:
    for name in registered["Workflow"]:
        workflow = admin_view(fetched, "workflows", name, workflow_pb2.Workflow)
        assert workflow.id == entity_id(identifier_pb2.WORKFLOW, name)
        assert workflow.closure.compiled_workflow.primary.template.id == workflow.id


def test_flyteremote_fetches_every_launch_plan(
    registered: dict[str, set[str]], fetched: dict[str, dict[str, Any]]
) -> None:
    for name in registered["Launch Plan"]:
        launch_plan = admin_view(fetched, "launch_plans", name, launch_plan_pb2.LaunchPlan)
        assert launch_plan.id == entity_id(identifier_pb2.LAUNCH_PLAN, name)
        assert launch_plan.spec.workflow_id.resource_type == identifier_pb2.WORKFLOW


def test_workflow_closure_holds_every_task_its_nodes_reference(
    registered: dict[str, set[str]], fetched: dict[str, dict[str, Any]]
) -> None:
    for name in registered["Workflow"]:
        closure = admin_view(fetched, "workflows", name, workflow_pb2.Workflow).closure.compiled_workflow
        compiled = {str(task.template.id) for task in closure.tasks}
        assert referenced_task_ids(closure) <= compiled, name


def test_workflow_closure_holds_tasks_of_branches_maps_dynamics_and_sub_workflows(
    registered: dict[str, set[str]], fetched: dict[str, dict[str, Any]]
) -> None:
    workflow = admin_view(fetched, "workflows", "workflows.control_flow.control_flow_wf", workflow_pb2.Workflow)

    compiled = {task.template.id.name for task in workflow.closure.compiled_workflow.tasks}
    expected = {name for name in TASKS if name.startswith("workflows.control_flow.")}
    assert compiled == expected | {map_task_name(registered["Task"])}


def test_workflow_closure_holds_its_sub_workflows(fetched: dict[str, dict[str, Any]]) -> None:
    workflow = admin_view(fetched, "workflows", "workflows.control_flow.control_flow_wf", workflow_pb2.Workflow)

    sub_workflows = workflow.closure.compiled_workflow.sub_workflows
    assert [sub.template.id for sub in sub_workflows] == [
        entity_id(identifier_pb2.WORKFLOW, "workflows.control_flow.square_plus")
    ]
    assert {node.id for node in sub_workflows[0].template.nodes} >= {"n0", "n1"}


def test_workflow_closure_keeps_the_launch_plan_node_reference(fetched: dict[str, dict[str, Any]]) -> None:
    workflow = admin_view(fetched, "workflows", "workflows.control_flow.control_flow_wf", workflow_pb2.Workflow)

    references = [
        node.workflow_node.launchplan_ref
        for node in workflow.closure.compiled_workflow.primary.template.nodes
        if node.workflow_node.HasField("launchplan_ref")
    ]
    assert references == [entity_id(identifier_pb2.LAUNCH_PLAN, "workflows.control_flow.square_plus_lp")]


def test_task_closure_keeps_cache_settings(fetched: dict[str, dict[str, Any]]) -> None:
    task = admin_view(fetched, "tasks", "workflows.configured.cached_double", task_pb2.Task)

    metadata = task.closure.compiled_task.template.metadata
    assert (metadata.discoverable, metadata.discovery_version, metadata.cache_serializable) == (
        True,
        "1.0",
        True,
    )


def test_task_closure_keeps_retry_timeout_and_interruptible_settings(
    fetched: dict[str, dict[str, Any]],
) -> None:
    task = admin_view(fetched, "tasks", "workflows.configured.retried", task_pb2.Task)

    metadata = task.closure.compiled_task.template.metadata
    assert (metadata.retries.retries, metadata.timeout.seconds, metadata.interruptible) == (3, 300, True)


# -- pyflyte run --remote of a workflow -------------------------------------------------------------


def test_run_remote_workflow_launches_its_default_launch_plan(
    workflow_run: Finished, module_admin: RunningAdmin
) -> None:
    launch = recorded_launch(module_admin, WORKFLOW_RUN)

    assert launch.launch_plan_id.name == "workflows.typed_io.typed_io_wf"
    assert launch.spec.launch_plan == launch.launch_plan_id
    assert launch.closure.primary.template.id.name == "workflows.typed_io.typed_io_wf"


async def test_run_remote_workflow_launches_with_given_and_default_inputs(
    workflow_run: Finished, module_admin: RunningAdmin
) -> None:
    inputs = await launched_inputs(module_admin, WORKFLOW_RUN)

    assert {k: v for k, v in inputs.items() if k != "f"} == {
        "a": 5, "b": "world", "c": 1.25, "flag": True, "xs": [4, 5], "d": {"k": 10},
    }  # fmt: skip


async def test_run_remote_workflow_uploads_a_file_input_through_the_data_proxy(
    workflow_run: Finished, module_admin: RunningAdmin
) -> None:
    storage = module_admin.server.managers.ctx.storage  # type: ignore[attr-defined]
    inputs = await launched_inputs(module_admin, WORKFLOW_RUN)

    uploaded = inputs["f"] if "://" in inputs["f"] else f"file://{inputs['f']}"  # local stores hand out paths
    assert await storage.read(uploaded) == INPUT_FILE_TEXT.encode()


def test_run_remote_workflow_prints_the_console_url_of_the_execution(
    workflow_run: Finished, module_admin: RunningAdmin
) -> None:
    url = f"/console/projects/{PROJECT}/domains/{DOMAIN}/executions/{WORKFLOW_RUN}"
    assert url in workflow_run.stdout


async def test_flyteremote_fetches_the_execution_run_remote_created(flytekit: Flytekit, workflow_run: Finished) -> None:
    answer = await flytekit.remote(PROBE, {"action": "fetch_execution", "name": WORKFLOW_RUN})

    execution = decode(execution_pb2.Execution, answer["execution"])
    assert execution.id.name == WORKFLOW_RUN
    assert execution.spec.launch_plan.name == "workflows.typed_io.typed_io_wf"
    assert plain_map(decode(literals_pb2.LiteralMap, answer["inputs"]))["a"] == 5


async def test_flyteremote_fetches_the_newest_version_when_none_is_given(
    flytekit: Flytekit, registration: Finished, workflow_run: Finished, module_admin: RunningAdmin
) -> None:
    run_version = recorded_launch(module_admin, WORKFLOW_RUN).launch_plan_id.version
    names = {
        "tasks": ["workflows.typed_io.primitives"],
        "workflows": ["workflows.typed_io.typed_io_wf"],
        "launch_plans": ["workflows.typed_io.typed_io_wf"],
    }

    latest = await flytekit.remote(PROBE, {"action": "fetch_latest", **names})

    assert run_version != VERSION
    assert latest == {kind: dict.fromkeys(entities, run_version) for kind, entities in names.items()}


def test_run_remote_of_a_workflow_with_every_node_kind_launches_its_whole_closure(
    control_flow_run: Finished, module_admin: RunningAdmin
) -> None:
    closure = recorded_launch(module_admin, CONTROL_FLOW_RUN).closure

    assert [sub.template.id.name for sub in closure.sub_workflows] == ["workflows.control_flow.square_plus"]
    assert referenced_task_ids(closure) <= {str(task.template.id) for task in closure.tasks}
    assert {task.template.id.name for task in closure.tasks} >= {
        "workflows.control_flow.sum_of_squares",
        "workflows.control_flow.halve",
        "workflows.control_flow.negate",
    }


# -- pyflyte run --remote of a single task ----------------------------------------------------------


def test_run_remote_task_launches_a_task_execution(task_run: str, module_admin: RunningAdmin) -> None:
    launch = recorded_launch(module_admin, task_run)

    assert launch.spec.launch_plan.resource_type == identifier_pb2.TASK
    assert launch.spec.launch_plan.name == "workflows.configured.retried"
    assert [task.template.id.name for task in launch.closure.tasks] == ["workflows.configured.retried"]


async def test_run_remote_task_launches_with_its_inputs(task_run: str, module_admin: RunningAdmin) -> None:
    assert await launched_inputs(module_admin, task_run) == {"x": 7}


def test_an_execution_created_without_a_name_gets_a_flyteadmin_style_one(task_run: str) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9]{19}", task_run)


async def test_flyteremote_fetches_the_task_execution_run_remote_created(flytekit: Flytekit, task_run: str) -> None:
    answer = await flytekit.remote(PROBE, {"action": "fetch_execution", "name": task_run})

    execution = decode(execution_pb2.Execution, answer["execution"])
    assert execution.spec.launch_plan == entity_id(
        identifier_pb2.TASK, "workflows.configured.retried", execution.spec.launch_plan.version
    )
    assert plain_map(decode(literals_pb2.LiteralMap, answer["inputs"])) == {"x": 7}


# -- FlyteRemote.execute of a launch plan with only some inputs -------------------------------------


def test_execute_launch_plan_creates_the_named_execution(launch_plan_run: dict[str, Any]) -> None:
    execution = decode(execution_pb2.Execution, launch_plan_run["execution"])

    assert execution.id.name == LAUNCH_PLAN_RUN
    assert execution.spec.launch_plan == entity_id(identifier_pb2.LAUNCH_PLAN, "workflows.launch_plans.affine_lp")


async def test_execute_launch_plan_merges_its_default_inputs(
    launch_plan_run: dict[str, Any], module_admin: RunningAdmin
) -> None:
    inputs = await launched_inputs(module_admin, LAUNCH_PLAN_RUN)

    assert (inputs["x"], inputs["factor"]) == (5, 3)


async def test_execute_launch_plan_adds_its_fixed_inputs(
    launch_plan_run: dict[str, Any], module_admin: RunningAdmin
) -> None:
    inputs = await launched_inputs(module_admin, LAUNCH_PLAN_RUN)

    assert inputs["offset"] == 1
