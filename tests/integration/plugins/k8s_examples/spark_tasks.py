"""A Spark task computing on a DataFrame (flytekitplugins-spark), and a workflow around it."""

import flytekit
from flytekit import task, workflow
from flytekitplugins.spark import Spark


@task(
    task_config=Spark(
        spark_conf={
            "spark.driver.memory": "1g",
            "spark.executor.memory": "1g",
            "spark.executor.instances": "2",
            "spark.executor.cores": "1",
            "spark.sql.shuffle.partitions": "4",
        },
        hadoop_conf={"fs.s3a.connection.maximum": "64"},
    ),
    retries=1,
)
def count_evens(n: int) -> int:
    """How many of 0..n-1 are even, counted by Spark."""
    session = flytekit.current_context().spark_session
    frame = session.createDataFrame([(i,) for i in range(n)], ["x"])
    return frame.filter(frame.x % 2 == 0).count()


@task(task_config=Spark(spark_conf={"spark.driver.memory": "1g"}))
def spark_fails(n: int) -> int:
    """Raises inside the Spark job: a user error."""
    session = flytekit.current_context().spark_session
    if session.createDataFrame([(n,)], ["x"]).count() == 1:
        raise ValueError(f"spark task refuses {n}")
    return n


@workflow
def spark_wf(n: int = 10) -> int:
    return count_evens(n=n)
