"""A named launch plan with its own default and fixed inputs, for executions that give only some inputs."""

from flytekit import LaunchPlan, task, workflow


@task
def affine(x: int, factor: int, offset: int) -> int:
    return x * factor + offset


@workflow
def affine_wf(x: int, factor: int = 2, offset: int = 0) -> int:
    return affine(x=x, factor=factor, offset=offset)


affine_lp = LaunchPlan.get_or_create(
    workflow=affine_wf,
    name="workflows.launch_plans.affine_lp",
    default_inputs={"factor": 3},
    fixed_inputs={"offset": 1},
)
