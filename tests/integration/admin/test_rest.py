"""The REST API on admin's HTTP port answers as gRPC does, at the routes the IDL's annotations name.

Every GET route of the IDL is walked: the same request (path fields naming what a seeded plane holds,
`limit` where the request has one) goes through REST and through gRPC, and the answers must agree —
the same JSON on success, the same status and message on a refusal.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from google.api import annotations_pb2
from google.protobuf import json_format, symbol_database
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message

from admin.rest import HTTP_STATUS
from admin.service import SERVICES
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import DOMAIN, PROJECT, chain, echo_task
from tests.support.plane import RunningPlane, plane_config, running_plane


@pytest.fixture(scope="module")
async def seeded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[RunningPlane, str]]:
    directory = tmp_path_factory.mktemp("rest")
    config = plane_config(directory, f"sqlite:///{directory}/admin.db", f"sqlite:///{directory}/propeller.db")
    async with running_plane(config) as plane:
        await register(plane.stub, [echo_task(), *chain("rest.chain", 2)])
        execution = await launch(plane.stub, "rest.chain", ints(x=4), name="restexec1")
        assert (await wait(plane.stub, execution)).closure.phase == core.WorkflowExecution.SUCCEEDED
        yield plane, execution.name


def _value(path: str, template: str, execution: str) -> str:
    last = path.rsplit(".", 1)[-1]
    if last == "project":
        return PROJECT
    if last == "domain":
        return DOMAIN
    if last == "version":
        return "v1"
    if last == "node_id":
        return "n0"
    if last == "resource_type":
        return "LAUNCH_PLAN"
    if last == "retry_attempt":
        return "0"
    if last == "id" and "projects" in template:
        return PROJECT
    if "task_id" in path or template.startswith("/api/v1/tasks") or template.startswith("/api/v1/task_ids"):
        return "echo.int"
    if "executions" in template or "execution_id" in path or "data/executions" in template:
        return execution
    return "rest.chain"


def _get_routes() -> list[tuple[str, MethodDescriptor, str]]:
    found = []
    for service, _ in SERVICES:
        for method in service.methods:
            rule = method.GetOptions().Extensions[annotations_pb2.http]
            for binding in (rule, *rule.additional_bindings):
                if binding.WhichOneof("pattern") == "get":
                    found.append((service.full_name, method, binding.get))
    return found


def _class_of(full_name: str) -> type[Message]:
    cls: type[Message] = symbol_database.Default().GetSymbol(full_name)
    return cls


def _set(message: Message, path: str, text: str) -> None:
    *parents, last = path.split(".")
    target = message
    for name in parents:
        target = getattr(target, name)
    field = target.DESCRIPTOR.fields_by_name[last]
    if field.enum_type is not None:
        setattr(target, last, field.enum_type.values_by_name[text].number)
    elif field.type in (field.TYPE_INT32, field.TYPE_UINT32, field.TYPE_INT64, field.TYPE_UINT64):
        setattr(target, last, int(text))
    else:
        setattr(target, last, text)


ROUTES = _get_routes()


@pytest.mark.parametrize(("service", "method", "template"), ROUTES, ids=[t for _, _, t in ROUTES])
async def test_every_get_route_answers_as_grpc_does(
    seeded: tuple[RunningPlane, str], service: str, method: MethodDescriptor, template: str
) -> None:
    plane, execution = seeded
    variables = re.findall(r"\{([a-zA-Z0-9_.]+)(?:=[^}]*)?\}", template)
    request = _class_of(method.input_type.full_name)()
    url = template
    for variable in variables:
        value = _value(variable, template, execution)
        _set(request, variable, value)
        url = re.sub(r"\{" + re.escape(variable) + r"(?:=[^}]*)?\}", value, url, count=1)
    query = {}
    if "limit" in request.DESCRIPTOR.fields_by_name:
        request.limit = 5  # type: ignore[attr-defined]
        query["limit"] = "5"

    call = plane.channel.unary_unary(
        f"/{service}/{method.name}",
        request_serializer=type(request).SerializeToString,
        response_deserializer=_class_of(method.output_type.full_name).FromString,
    )
    try:
        expected = json.loads(json_format.MessageToJson(await call(request)))
        expected_status = 200
    except grpc.aio.AioRpcError as error:
        expected = {"code": error.code().value[0], "message": error.details()}
        expected_status = HTTP_STATUS[error.code()]

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{plane.admin.http_port}") as client:
        answer = await client.get(url, params=query)
    assert answer.status_code == expected_status, answer.text
    body = answer.json()
    if expected_status == 200:
        assert body == expected
    else:
        assert (body["code"], body["message"]) == (expected["code"], expected["message"])


async def test_a_launch_over_rest_runs_with_its_typed_inputs(seeded: tuple[RunningPlane, str]) -> None:
    plane, _ = seeded
    body = {
        "project": PROJECT,
        "domain": DOMAIN,
        "name": "restlaunch1",
        "spec": {
            "launchPlan": {
                "resourceType": "LAUNCH_PLAN",
                "project": PROJECT,
                "domain": DOMAIN,
                "name": "rest.chain",
                "version": "v1",
            }
        },
        "inputs": {"literals": {"x": {"scalar": {"primitive": {"integer": "41"}}}}},
    }
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{plane.admin.http_port}") as client:
        created = await client.post("/api/v1/executions", json=body)
        assert created.status_code == 200, created.text
        assert created.json()["id"]["name"] == "restlaunch1"
        again = await client.post("/api/v1/executions", json=body)
        assert again.status_code == 409 and again.json()["code"] == grpc.StatusCode.ALREADY_EXISTS.value[0]
    ident = identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name="restlaunch1")
    finished = await wait(admin_pb2_grpc.AdminServiceStub(plane.channel), ident)
    assert finished.closure.phase == core.WorkflowExecution.SUCCEEDED


@pytest.mark.parametrize(
    ("verb", "url", "body", "status", "mentions"),
    [
        ("GET", "/api/v1/executions/flytesnacks/development?limit=many", None, 400, "limit"),
        ("GET", "/api/v1/executions/flytesnacks/development?no_such_field=1", None, 400, "no_such_field"),
        ("GET", "/api/v1/executions/flytesnacks/development?limit=99999999999999999999", None, 400, "limit"),
        ("POST", "/api/v1/executions", b"{not json", 400, "body"),
        ("POST", "/api/v1/executions", b'{"project": "flytesnacks", "nope": 1}', 400, "body"),
        ("GET", "/api/v1/no/such/route", None, 404, "no API route"),
        ("DELETE", "/api/v1/executions/flytesnacks/development", None, 400, "not allowed"),
        ("POST", "/api/v1/events/workflows", b"{}", 403, "flyteplane-credential"),
    ],
    ids=[
        "bad-int",
        "unknown-param",
        "int-overflow",
        "bad-json",
        "unknown-json-field",
        "no-route",
        "wrong-verb",
        "forged-event",
    ],
)
async def test_bad_requests_get_the_grpc_status_as_http_and_a_json_message(
    seeded: tuple[RunningPlane, str], verb: str, url: str, body: bytes | None, status: int, mentions: str
) -> None:
    plane, _ = seeded
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{plane.admin.http_port}") as client:
        before = await client.get("/api/v1/executions/flytesnacks/development", params={"limit": "100"})
        answer = await client.request(verb, url, content=body)
        after = await client.get("/api/v1/executions/flytesnacks/development", params={"limit": "100"})
    assert answer.status_code == status, answer.text
    assert mentions in answer.json()["message"]
    assert before.json() == after.json()


async def test_health_and_the_openapi_document(seeded: tuple[RunningPlane, str]) -> None:
    plane, _ = seeded
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{plane.admin.http_port}") as client:
        assert (await client.get("/healthcheck")).status_code == 200
        document = (await client.get("/api/v1/openapi.json")).json()
    assert document["paths"]["/api/v1/tasks/{id.project}/{id.domain}/{id.name}/{id.version}"]["get"]["operationId"] == (
        "AdminService_GetTask"
    )
    routes = sum(len(verbs) for verbs in document["paths"].values())
    annotated = sum(
        1
        for s, _ in SERVICES
        for m in s.methods
        if m.GetOptions().Extensions[annotations_pb2.http].WhichOneof("pattern")
    )
    assert routes >= annotated
    schemas = document["components"]["schemas"]
    assert "flyteidl.admin.ExecutionCreateRequest" in schemas
    # Well-known types as proto3 JSON renders them (the console's generated types rely on it).
    closure = schemas["flyteidl.admin.ExecutionClosure"]["properties"]
    assert closure["createdAt"] == {"type": "string", "format": "date-time"}
    assert closure["duration"] == {"type": "string"}
    assert "google.protobuf.Timestamp" not in schemas
