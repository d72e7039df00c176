"""W1-W4 as Dagster jobs of `x + 1` ops, executed in process (run by the Dagster virtualenv's python).

Every run is `JobDefinition.execute_in_process` against one instance shared by all runs of this
process: `DagsterInstance.get()` from DAGSTER_HOME, a scratch directory bench/peers.py makes (SQLite run
and event-log storage on disk; DAGSTER_DISABLE_TELEMETRY set). Not the in-memory
`DagsterInstance.ephemeral()` execute_in_process uses when given no instance: shared by W4's threads it
fails ("database table is locked"). And the dagster.yaml stays empty: with any setting in it (telemetry
off, say) every run calls `logging.config.dictConfig`, which deadlocks runs logging in other threads.
execute_in_process always uses the in-process executor: a run's ops execute one after another in the
calling thread, so W1's 100 ops do not overlap; W4's 20 runs are 20 threads. Outputs stay in memory
(execute_in_process's io manager), as in Prefect's default.
"""

import sys

import dagster
from dagster import DagsterInstance, In, JobDefinition, graph, op
from harness import Run, Workloads, main


@op
def plus_one(x: int) -> int:
    return x + 1


@op(ins={"xs": In(list[int])})
def total(xs: list[int]) -> int:
    return sum(xs)


@graph
def fan_out100(x: int) -> int:
    # 100 static copies of the op (aliases), fanned in to the reduce: the shape of our static fan-out.
    return total([plus_one.alias(f"plus_one_{i}")(x) for i in range(100)])


def chain(length: int, name: str) -> JobDefinition:
    @graph(name=name)
    def chained(x: int) -> int:
        for i in range(length):
            x = plus_one.alias(f"plus_one_{i}")(x)
        return x

    return chained.to_job()


def runner(job: JobDefinition, instance: DagsterInstance) -> Run:
    def run(x: int) -> int:
        result = job.execute_in_process(input_values={"x": x}, instance=instance)
        return int(result.output_value())

    return run


if __name__ == "__main__":
    instance = DagsterInstance.get()
    storage = f"{type(instance.run_storage).__name__}, {type(instance.event_log_storage).__name__}"
    print(f"instance: {storage}", file=sys.stderr)
    jobs = [fan_out100.to_job(), chain(50, "chain50"), chain(1, "one_task"), chain(10, "chain10")]
    main(
        "dagster",
        dagster.__version__,
        Workloads(*(runner(job, instance) for job in jobs)),
        summary=lambda: {"runs_recorded": instance.get_runs_count(), "instance": storage},
        notes="execute_in_process (in-process executor: a run's ops one after another); W4: 20 threads",
    )
