"""How the agent plugin reads an agent's resource: phases, the deprecated state, failures and their kind."""

from __future__ import annotations

from flyteidl_py.admin import agent_pb2
from flyteidl_py.core import execution_pb2
from plugins.agent import AgentPluginConfig, _AttemptState, _failure, _phase
from plugins.core import Phase

TaskExecution = execution_pb2.TaskExecution


def test_the_resource_phase_maps_onto_plugin_phases() -> None:
    assert _phase(agent_pb2.Resource(phase=TaskExecution.QUEUED)) is Phase.QUEUED
    assert _phase(agent_pb2.Resource(phase=TaskExecution.RUNNING)) is Phase.RUNNING
    assert _phase(agent_pb2.Resource(phase=TaskExecution.SUCCEEDED)) is Phase.SUCCESS
    assert _phase(agent_pb2.Resource(phase=TaskExecution.FAILED)) is Phase.PERMANENT_FAILURE
    assert _phase(agent_pb2.Resource(phase=TaskExecution.ABORTED)) is Phase.PERMANENT_FAILURE


def test_an_undefined_phase_falls_back_to_the_deprecated_state() -> None:
    assert _phase(agent_pb2.Resource(state=agent_pb2.PENDING)) is Phase.INITIALIZING
    assert _phase(agent_pb2.Resource(state=agent_pb2.SUCCEEDED)) is Phase.SUCCESS
    # The state's zero value is RETRYABLE_FAILURE, as Flyte reads an empty resource.
    assert _phase(agent_pb2.Resource()) is Phase.RETRYABLE_FAILURE


def test_a_failed_resource_is_the_users_unless_the_agent_error_says_otherwise() -> None:
    plain = _failure(agent_pb2.Resource(phase=TaskExecution.FAILED, message="quota"), Phase.PERMANENT_FAILURE, b"", {})
    assert plain.error is not None and plain.error.kind == execution_pb2.ExecutionError.USER
    assert plain.phase is Phase.PERMANENT_FAILURE and plain.reason == "quota"
    error = agent_pb2.AgentError(
        code="Throttled", kind=agent_pb2.AgentError.RECOVERABLE, origin=execution_pb2.ExecutionError.SYSTEM
    )
    marked = _failure(
        agent_pb2.Resource(phase=TaskExecution.FAILED, agent_error=error), Phase.PERMANENT_FAILURE, b"", {}
    )
    assert marked.phase is Phase.RETRYABLE_FAILURE
    assert marked.error is not None and marked.error.code == "Throttled"
    assert marked.error.kind == execution_pb2.ExecutionError.SYSTEM


def test_the_attempt_state_survives_its_encoding() -> None:
    state = _AttemptState("default", ("sensor", 0), b"\x00meta", phase=int(Phase.RUNNING), version=2)
    assert _AttemptState.decode(state.encode()) == state
    assert _AttemptState.decode(b"not json") is None


def test_the_default_agent_and_named_agents_are_addressed_by_name() -> None:
    config = AgentPluginConfig.model_validate(
        {"default_agent": {"endpoint": "127.0.0.1:1"}, "agents": {"bq": {"endpoint": "bq:443", "insecure": False}}}
    )
    assert set(config.named()) == {"default", "bq"}
    bq = config.endpoint("bq")
    assert bq is not None and bq.insecure is False
