"""A workflow that fails on a negative input, with launch plans that notify and that limit concurrency."""

import time

from flytekit import Email, LaunchPlan, Slack, task, workflow
from flytekit.models.concurrency import ConcurrencyLimitBehavior, ConcurrencyPolicy
from flytekit.models.core.execution import WorkflowExecutionPhase


@task
def must_be_positive(x: int) -> int:
    if x < 0:
        raise ValueError(f"x must be positive, got {x}")
    return x


@workflow
def checked_wf(x: int = -1) -> int:
    return must_be_positive(x=x)


notified_lp = LaunchPlan.get_or_create(
    workflow=checked_wf,
    name="notify_workflows.checked.notified_lp",
    notifications=[
        Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["oncall@example.com"]),
        Slack(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["ml-alerts@example.slack.com"]),
    ],
)


@task
def nap(seconds: int) -> int:
    time.sleep(seconds)
    return seconds


@workflow
def nap_wf(seconds: int = 30) -> int:
    return nap(seconds=seconds)


single_lp = LaunchPlan.get_or_create(
    workflow=nap_wf,
    name="notify_workflows.checked.single_lp",
    concurrency=ConcurrencyPolicy(max_concurrency=1, behavior=ConcurrencyLimitBehavior.SKIP),
)
