"""The scheduler's section of the configuration (`scheduler:`), and the part of the whole schema it reads."""

from __future__ import annotations

from pydantic import Field

from flyteplane.config import PlaneConfig, Section


class SchedulerConfig(Section):
    """The scheduler: where admin is, its own database (leader lease, last fired ticks) and its timing."""

    admin_endpoint: str = "127.0.0.1:30080"  # the schedule feed and CreateExecution
    database_url: str | None = None  # None: SQLite at <data_dir>/scheduler.db; shared by every scheduler replica
    owner_id: str | None = None  # lease holder name; None: host-pid-random
    # Prometheus GET /metrics on this port, on `host` (the scheduler serves nothing else); 0: off.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    host: str = "127.0.0.1"
    # How often admin is asked whether the active schedules changed: an activation, deactivation or a
    # replaced version takes effect within this (plus one round trip).
    poll_seconds: float = Field(default=0.5, gt=0)
    # The active scheduler renews its lease every third of this; a scheduler that dies is replaced after it.
    lease_seconds: float = Field(default=5.0, gt=0)
    # After downtime, at most this many missed ticks per schedule are caught up (the latest ones); 0: all.
    max_catchup_ticks: int = Field(default=1000, ge=0)
    # CreateExecution calls in flight at once (ticks of one schedule are always fired in order).
    concurrency: int = Field(default=16, ge=1)


class SchedulerPlaneConfig(PlaneConfig):
    """What the scheduler reads of the whole configuration: the shared settings and its own section."""

    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
