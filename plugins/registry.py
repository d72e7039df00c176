"""The plugin registry: builds the configured backends once, then answers which plugin serves a task type.

A plugin id names a factory, a `Callable[[Mapping[str, Any]], Plugin]` (it may also be async) that
receives `PluginsConfig.backends[<id>]`. Factories come from, in order of precedence:

1. `PluginsConfig.factories` (`"module:callable"` import paths),
2. the `flyteplane.plugins` entry-point group of installed distributions (entry-point name = id),
3. the built-ins: `local`, `echo`, `k8s-pod`, `k8s-array`, `spark` and `ray` (Kubernetes),
   `spark-local` (pyspark without Kubernetes), `ray-jobs` (a Ray cluster's Jobs API), `ray-tasks` (ordinary
   Python tasks as Ray tasks on a Ray cluster) and `agent` (Flyte agents over gRPC).

So a new backend is one module with a factory plus one configuration entry: `factories: {ray:
"plugins.ray:create"}` (or, for a distribution with an entry point, `enabled: [ray]`); it then serves
the task types it declares in `Plugin.task_types`, unless `task_types` maps them elsewhere. Only
plugins the configuration references are imported and built, at `PluginRegistry.load`; a
misconfiguration fails there, not on first use.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, cast, runtime_checkable

from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from flyteplane.errors import FailedPrecondition, InvalidArgument
from plugins.config import PluginsConfig
from plugins.core import JsonValue, Plugin, PluginFactory, ReportsMetrics

ENTRY_POINT_GROUP = "flyteplane.plugins"

log = logging.getLogger(__name__)


def _builtin(module: str) -> Callable[[], PluginFactory]:
    return lambda: cast(PluginFactory, importlib.import_module(module).create)


def _import_path(target: str) -> Callable[[], PluginFactory]:
    def load() -> PluginFactory:
        module, _, attribute = target.partition(":")
        value: Any = importlib.import_module(module)
        for part in attribute.split("."):
            value = getattr(value, part)
        return cast(PluginFactory, value)

    return load


def factory_loaders(
    config: PluginsConfig, entry_points: Iterable[importlib.metadata.EntryPoint] | None = None
) -> dict[str, Callable[[], PluginFactory]]:
    """Plugin id -> a loader of its factory, by the precedence in the module docstring.

    `entry_points` defaults to the installed `flyteplane.plugins` group. Two entry points of one id
    make that id unusable (loading it raises FailedPrecondition), since neither can be preferred.
    """
    loaders: dict[str, Callable[[], PluginFactory]] = {
        "echo": _builtin("plugins.echo"),
        "local": _builtin("plugins.local.backend"),
        "k8s-pod": _builtin("plugins.k8s.pod"),
        "k8s-array": _builtin("plugins.k8s.array"),
        "spark": _builtin("plugins.k8s.spark"),
        "ray": _builtin("plugins.k8s.ray"),
        "spark-local": _builtin("plugins.spark_local"),
        "ray-jobs": _builtin("plugins.ray_jobs"),
        "ray-tasks": _builtin("plugins.ray_tasks.backend"),
        "agent": _builtin("plugins.agent"),
    }
    if entry_points is None:
        entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    seen: dict[str, str] = {}
    for entry in entry_points:
        if entry.name in seen and seen[entry.name] != entry.value:
            loaders[entry.name] = _ambiguous(entry.name, seen[entry.name], entry.value)
            continue
        seen[entry.name] = entry.value
        loaders[entry.name] = cast(Callable[[], PluginFactory], entry.load)
    for plugin_id, target in config.factories.items():
        loaders[plugin_id] = _import_path(target)
    return loaders


def _ambiguous(plugin_id: str, first: str, second: str) -> Callable[[], PluginFactory]:
    def refuse() -> PluginFactory:
        raise FailedPrecondition(
            f"plugin {plugin_id!r} is provided by two entry points ({first}, {second}); "
            f"choose one with plugins.factories.{plugin_id}",
            field=f"plugins.factories.{plugin_id}",
        )

    return refuse


class PluginRegistry:
    """The built plugins, and the configured mapping of (task type, project, domain) to them."""

    def __init__(self, config: PluginsConfig, plugins: Mapping[str, Plugin]) -> None:
        self.config = config
        self._plugins = dict(plugins)
        self._declared = _declared_task_types(config, self._plugins)
        self._declared_from = self._declaring()

    @classmethod
    async def load(
        cls, config: PluginsConfig, *, entry_points: Iterable[importlib.metadata.EntryPoint] | None = None
    ) -> PluginRegistry:
        """Import and build every plugin `config` references; FailedPrecondition names the first that fails."""
        loaders = factory_loaders(config, entry_points)
        plugins: dict[str, Plugin] = {}
        for plugin_id in config.referenced_plugins():
            loader = loaders.get(plugin_id)
            if loader is None:
                known = ", ".join(sorted(loaders))
                raise FailedPrecondition(
                    f"no plugin factory named {plugin_id!r} (known: {known}); add it to plugins.factories "
                    f"or install a distribution with a {ENTRY_POINT_GROUP!r} entry point of that name",
                    field="plugins",
                )
            plugins[plugin_id] = await _build(plugin_id, loader, config.backends.get(plugin_id, {}))
        return cls(config, plugins)

    @property
    def plugins(self) -> Mapping[str, Plugin]:
        """Every built plugin by id."""
        return dict(self._plugins)

    def get(self, plugin_id: str) -> Plugin:
        try:
            return self._plugins[plugin_id]
        except KeyError:
            raise FailedPrecondition(f"plugin {plugin_id!r} is not loaded", field="plugin_id") from None

    def plugin_id_for(self, task_type: str, project: str, domain: str) -> str:
        """The id of the plugin that serves `task_type` in `project`/`domain`; InvalidArgument if none does."""
        self._refresh_declared()
        plugin_id = self.config.plugin_id_for(task_type, project, domain, self._declared)
        if plugin_id is None:
            served = ", ".join(sorted({*self.config.task_types, *self._declared})) or "none"
            raise InvalidArgument(
                f"no plugin serves task type {task_type!r} in {project}/{domain} (configured types: {served}; "
                "map it in plugins.task_types or set plugins.default_plugin)",
                field="template.type",
            )
        return plugin_id

    def plugin_for(self, task_type: str, project: str, domain: str) -> Plugin:
        """The plugin that serves `task_type` in `project`/`domain`."""
        return self.get(self.plugin_id_for(task_type, project, domain))

    def _declaring(self) -> tuple[tuple[str, ...], ...]:
        return tuple(self._plugins[plugin_id].task_types for plugin_id in self.config.self_declaring_plugins())

    def _refresh_declared(self) -> None:
        """Takes in the task types a self-declaring plugin learned since (the agent plugin learns them from
        its agents, which may answer only after the engine started)."""
        current = self._declaring()
        if current == self._declared_from:
            return
        self._declared_from = current
        try:
            self._declared = _declared_task_types(self.config, self._plugins)
        except FailedPrecondition as exc:  # a type two plugins now claim: keep the mapping that served so far
            log.warning("%s", exc)

    def register_metrics(self, registry: CollectorRegistry) -> None:
        """Registers the instruments of the plugins that have some (`ReportsMetrics`) in `registry`."""
        for plugin in self._plugins.values():
            if isinstance(plugin, ReportsMetrics):
                plugin.register_metrics(registry)

    async def aclose(self) -> None:
        """Lets plugins that hold background work (watchers) stop it; their external work keeps running."""
        for plugin in self._plugins.values():
            if isinstance(plugin, Closable):
                await plugin.aclose()


@runtime_checkable
class Closable(Protocol):
    """A plugin that holds background work (watchers, warm pools) to stop when the engine stops."""

    async def aclose(self) -> None: ...


def _declared_task_types(config: PluginsConfig, plugins: Mapping[str, Plugin]) -> dict[str, str]:
    """Task type -> id of the self-declaring plugin that serves it; two claiming one type is an error."""
    declared: dict[str, str] = {}
    for plugin_id in config.self_declaring_plugins():
        for task_type in plugins[plugin_id].task_types:
            other = declared.setdefault(task_type, plugin_id)
            if other != plugin_id and task_type not in config.task_types:
                raise FailedPrecondition(
                    f"plugins {other!r} and {plugin_id!r} both serve task type {task_type!r}; "
                    f"choose one in plugins.task_types",
                    field="plugins.task_types",
                )
    return declared


async def _build(plugin_id: str, loader: Callable[[], PluginFactory], backend: Mapping[str, JsonValue]) -> Plugin:
    where = f"plugins.backends.{plugin_id}"
    try:
        factory = loader()
    except FailedPrecondition:
        raise
    except (ImportError, AttributeError) as exc:
        raise FailedPrecondition(f"cannot load the factory of plugin {plugin_id!r}: {exc}", field=where) from exc
    try:
        built = factory(backend)
        plugin = await built if inspect.isawaitable(built) else built
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(p) for p in first["loc"])
        raise FailedPrecondition(f"{first['msg']} ({location})", field=where) from exc
    except ValueError as exc:
        raise FailedPrecondition(str(exc), field=where) from exc
    if not isinstance(plugin, Plugin):
        raise FailedPrecondition(f"the factory of plugin {plugin_id!r} returned {plugin!r}, not a Plugin", field=where)
    return plugin
