"""Two launch plans that fire every minute: a fixed rate and a cron schedule, each passing its kickoff time."""

from datetime import datetime, timedelta

from flytekit import CronSchedule, FixedRate, LaunchPlan, task, workflow


@task
def stamp(kickoff: datetime, label: str) -> str:
    return f"{label}@{kickoff.isoformat()}"


@workflow
def stamp_wf(kickoff: datetime, label: str = "none") -> str:
    return stamp(kickoff=kickoff, label=label)


every_minute = LaunchPlan.get_or_create(
    workflow=stamp_wf,
    name="schedules.minutely.every_minute",
    schedule=FixedRate(duration=timedelta(minutes=1), kickoff_time_input_arg="kickoff"),
    default_inputs={"label": "rate"},
)

cron_minute = LaunchPlan.get_or_create(
    workflow=stamp_wf,
    name="schedules.minutely.cron_minute",
    schedule=CronSchedule(schedule="* * * * *", kickoff_time_input_arg="kickoff"),
    fixed_inputs={"label": "cron"},
)
