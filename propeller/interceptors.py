"""Interceptors around node handlers and task plugins: timing for the engine's metrics, spans for its traces.

The timing ones are used only with EngineMetrics, the tracing one only while tracing is on.

Each wraps one handler or plugin and implements the same contract explicitly, call by call: a new
member of NodeHandler or Plugin is a type error here until it is forwarded, never silently skipped.
"""

from __future__ import annotations

from prometheus_client import Histogram

from flyteplane import tracing
from plugins.core import Plugin, TaskExecutionContext, Transition, reads_inputs_in_memory
from propeller.nodes.base import AttemptLimits, NodeContext, NodeHandler, NodeResult
from propeller.services import Plugins


class TimedHandler(NodeHandler):
    """A node handler whose `handle` calls are timed."""

    def __init__(self, inner: NodeHandler, seconds: Histogram) -> None:
        self.inner = inner
        self.seconds = seconds
        self.counts_for_parallelism = inner.counts_for_parallelism

    async def handle(self, ctx: NodeContext) -> NodeResult:
        with self.seconds.time():
            return await self.inner.handle(ctx)

    async def abort(self, ctx: NodeContext, reason: str) -> None:
        await self.inner.abort(ctx, reason)

    async def finalize(self, ctx: NodeContext) -> None:
        await self.inner.finalize(ctx)

    def reset(self, ctx: NodeContext) -> None:
        self.inner.reset(ctx)

    def limits(self, ctx: NodeContext) -> AttemptLimits:
        return self.inner.limits(ctx)

    def inputs_in_memory(self, ctx: NodeContext) -> bool:
        return self.inner.inputs_in_memory(ctx)


class TimedPlugin:
    """A task plugin whose calls are timed by plugin id and call; it keeps the plugin's capabilities."""

    def __init__(self, inner: Plugin, seconds: Histogram) -> None:
        self.inner = inner
        self.id = inner.id
        self.task_types = inner.task_types
        self.inputs_in_memory = reads_inputs_in_memory(inner)  # plugins.core.ReadsInputsInMemory
        self._handle = seconds.labels(inner.id, "handle")
        self._abort = seconds.labels(inner.id, "abort")
        self._finalize = seconds.labels(inner.id, "finalize")

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        with self._handle.time():
            return await self.inner.handle(ctx)

    async def abort(self, ctx: TaskExecutionContext) -> None:
        with self._abort.time():
            await self.inner.abort(ctx)

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        with self._finalize.time():
            await self.inner.finalize(ctx)


class TimedPlugins:
    """The plugin lookup, handing out timed plugins (one interceptor per plugin, made on first use)."""

    def __init__(self, registry: Plugins, seconds: Histogram) -> None:
        self.registry = registry
        self.seconds = seconds
        self._timed: dict[int, TimedPlugin] = {}

    def plugin_for(self, task_type: str, project: str, domain: str) -> Plugin:
        plugin = self.registry.plugin_for(task_type, project, domain)
        timed = self._timed.get(id(plugin))
        if timed is None or timed.inner is not plugin:
            timed = self._timed[id(plugin)] = TimedPlugin(plugin, self.seconds)
        return timed


class TracedPlugin:
    """A task plugin whose calls are spans (children of the attempt's span, which the executor makes current)."""

    def __init__(self, inner: Plugin) -> None:
        self.inner = inner
        self.id = inner.id
        self.task_types = inner.task_types
        self.inputs_in_memory = reads_inputs_in_memory(inner)  # plugins.core.ReadsInputsInMemory
        self._names = {call: f"plugin {inner.id} {call}" for call in ("handle", "abort", "finalize")}

    def _attributes(self, ctx: TaskExecutionContext) -> dict[str, str | int | float | bool]:
        t = ctx.task_execution_id
        e = t.node_execution_id.execution_id
        return {
            "flyte.plugin": self.id,
            "flyte.project": e.project,
            "flyte.domain": e.domain,
            "flyte.execution": e.name,
            "flyte.node": t.node_execution_id.node_id,
            "flyte.attempt": t.retry_attempt,
            "flyte.task": t.task_id.name,
        }

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        with tracing.span(self._names["handle"], self._attributes(ctx)) as current:
            transition = await self.inner.handle(ctx)
            if current is not None:
                current.set_attribute("flyte.plugin_phase", transition.phase.name)
            return transition

    async def abort(self, ctx: TaskExecutionContext) -> None:
        with tracing.span(self._names["abort"], self._attributes(ctx)):
            await self.inner.abort(ctx)

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        with tracing.span(self._names["finalize"], self._attributes(ctx)):
            await self.inner.finalize(ctx)


class TracedPlugins:
    """The plugin lookup, handing out traced plugins (one interceptor per plugin, made on first use)."""

    def __init__(self, registry: Plugins) -> None:
        self.registry = registry
        self._traced: dict[int, TracedPlugin] = {}

    def plugin_for(self, task_type: str, project: str, domain: str) -> Plugin:
        plugin = self.registry.plugin_for(task_type, project, domain)
        traced = self._traced.get(id(plugin))
        if traced is None or traced.inner is not plugin:
            traced = self._traced[id(plugin)] = TracedPlugin(plugin)
        return traced


__all__ = ["TimedHandler", "TimedPlugin", "TimedPlugins", "TracedPlugin", "TracedPlugins"]
