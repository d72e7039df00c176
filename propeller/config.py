"""Propeller's section of the configuration (`propeller:`, with the plugins' `propeller.plugins`), and the part
of the whole schema the engine reads."""

from __future__ import annotations

import random

from pydantic import Field, SecretStr, field_validator

from flyteplane.config import PlaneConfig, Section
from plugins.config import PluginsConfig


class RetryBackoffOverride(Section):
    """A project's or domain's own retry backoff: the settings it names replace the engine-wide ones."""

    base_seconds: float | None = Field(default=None, ge=0)
    factor: float | None = Field(default=None, ge=1)
    max_seconds: float | None = Field(default=None, ge=0)
    jitter: float | None = Field(default=None, ge=0, le=1)


class RetryBackoff(Section):
    """How long a task node waits before its next attempt after a retryable failure (a USER
    recoverable error or a SYSTEM error): `base_seconds` after the first failed attempt, multiplied by
    `factor` after each further one, at most `max_seconds`, plus up to `jitter` (a fraction) of it at
    random so that nodes that failed together do not retry together. The default, a base of 0, is
    Flyte's: the next attempt starts at once."""

    base_seconds: float = Field(default=0.0, ge=0)
    factor: float = Field(default=2.0, ge=1)
    max_seconds: float = Field(default=300.0, ge=0)
    jitter: float = Field(default=0.0, ge=0, le=1)
    # "<project>/<domain>" or "<project>" -> its own settings; the most specific wins.
    overrides: dict[str, RetryBackoffOverride] = Field(default_factory=dict)

    @field_validator("overrides")
    @classmethod
    def _scope_keys(cls, value: dict[str, RetryBackoffOverride]) -> dict[str, RetryBackoffOverride]:
        for scope in value:
            parts = scope.split("/")
            if len(parts) > 2 or not all(parts):
                raise ValueError(f'override scope {scope!r} must be "<project>" or "<project>/<domain>"')
        return value

    def for_scope(self, project: str, domain: str) -> RetryBackoff:
        """The policy of `project`/`domain`: its overrides (project/domain first, then project) over these."""
        settings = self.model_dump(exclude={"overrides"})
        for scope in (project, f"{project}/{domain}"):  # least specific first: the later one wins
            override = self.overrides.get(scope)
            if override is not None:
                settings.update(override.model_dump(exclude_none=True))
        return RetryBackoff.model_validate(settings)

    def delay(self, failed_attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before the next attempt once `failed_attempts` (1 or more) have failed."""
        if self.base_seconds <= 0 or failed_attempts < 1:
            return 0.0
        # Exponent bounded so that a node with a huge retry budget cannot overflow the float.
        seconds = min(self.max_seconds, self.base_seconds * self.factor ** min(failed_attempts - 1, 64))
        if self.jitter:
            # Only ever added: the wait is never shorter than the policy says.
            draw = rng.random() if rng is not None else random.random()
            seconds = min(self.max_seconds, seconds * (1 + self.jitter * draw))
        return seconds


class EngineConfig(Section):
    """How the engine runs executions: every tunable, declared once (YAML keys directly under `propeller:`)."""

    workers: int = Field(default=16, ge=1)  # executions evaluated at once
    lease_seconds: float = Field(default=30.0, gt=0)  # an engine that stops renewing loses its executions
    resync_seconds: float = Field(default=5.0, gt=0)  # every execution is looked at again at least this often
    max_system_failures: int = Field(default=3, ge=0)  # system-error retries of a node, beyond its own budget
    default_max_attempts: int = Field(default=1, ge=1)  # attempts of a node whose task names no retries
    max_passes_per_round: int = Field(default=50, ge=1)  # passes over a scope within one round
    # Nodes a round may start: a wide graph is started in rounds of this many, each committed (and its
    # events on their way to admin) before the next, rather than in one long round.
    max_nodes_per_round: int = Field(default=500, ge=1)
    # And at most this many in one pass, so that a round stays within `round_seconds`: it starts nodes and makes
    # further passes only that long after it began; the rest is the next round's, which comes at once. A round's
    # length then does not grow with the graph's width, and its events reach admin that much sooner.
    max_starts_per_pass: int = Field(default=100, ge=1)
    round_seconds: float = Field(default=1.0, gt=0)
    # A map task's element that ends while others of its array still run is looked at within this many seconds
    # (longer for an array of more than 1,000 elements, in proportion, up to ten times), together with the others
    # that ended meanwhile, in one round (one save, one task event); the last of the array's running elements to
    # end, or one whose end lets an element its parallelism holds back start, at once. A round per element end made
    # a wide map's rounds -- each a save of the array's record and a task event -- most of the engine's work per
    # element. 0: at once.
    array_batch_seconds: float = Field(default=0.1, ge=0)
    max_failed_rounds: int = Field(default=10, ge=1)  # rounds that raise before an execution fails
    event_batch: int = Field(default=500, ge=1)  # events per RecordEvents call to admin
    event_batch_bytes: int = Field(default=2 << 20, ge=1)  # and their size at most
    cache_reservation_heartbeat_seconds: float = Field(default=5.0, gt=0)
    retry_backoff: RetryBackoff = Field(default_factory=RetryBackoff)  # the wait between a task's attempts


class PropellerConfig(EngineConfig):
    """FlytePropeller: the engine API's address, its own database, and how it runs executions."""

    host: str = "127.0.0.1"
    grpc_port: int = Field(default=30082, ge=0, le=65535)  # the engine API admin launches through
    database_url: str | None = None  # None: SQLite at <data_dir>/propeller.db
    admin_endpoint: str = "127.0.0.1:30080"  # where events, signals and child executions go
    # Admin as task processes reach it (FLYTE_PLATFORM_URL: flytekit's eager workflows and FlyteRemote in a
    # task call it); None: `admin_endpoint`, right for local task processes on this host.
    task_admin_endpoint: str | None = None
    # DataCatalog for task caching; None turns caching off (every cacheable task reports CACHE_DISABLED).
    datacatalog_endpoint: str | None = None
    metadata_prefix: str = "metadata/propeller"  # <store>/<this>/<project>-<domain>-<execution>/...
    raw_output_prefix: str | None = None  # None: <store>/raw
    owner_id: str | None = None  # lease holder name; None: host-pid-random
    metrics_port: int = Field(default=0, ge=0, le=65535)  # Prometheus GET /metrics on this port; 0: off
    # Which plugin serves each task type, per project/domain, and the backends' settings.
    plugins: PluginsConfig = Field(default_factory=PluginsConfig)
    # The key the secrets store seals values with (64 hex digits). Unset: kept in <data_dir>/secrets-key, which
    # `flyteplane start` and the `flyteplane secrets` command share; engines on several machines need one value.
    secrets_key: SecretStr | None = None


class PropellerPlaneConfig(PlaneConfig):
    """What propeller reads of the whole configuration: the shared settings and its own section."""

    propeller: PropellerConfig = Field(default_factory=PropellerConfig)

    def secrets_key(self) -> bytes:
        """The secrets store's key: configured, or kept in the data directory. Blocking: off the loop."""
        from propeller.secrets import secrets_key

        configured = self.propeller.secrets_key
        return secrets_key(configured.get_secret_value() if configured else None, self.data_dir)
