"""A FileSensor workflow: the sensor (task type `sensor`, run by an agent) waits for a file, then a task reads it."""

from datetime import timedelta

from flytekit import task, workflow
from flytekit.sensor.file_sensor import FileSensor

wait_for_file = FileSensor(name="wait_for_file")
gives_up = FileSensor(name="gives_up", timeout=timedelta(seconds=3))


@task
def read_it(path: str) -> str:
    with open(path) as arrived:
        return arrived.read()


@workflow
def sensor_wf(path: str) -> str:
    sensed = wait_for_file(path=path)
    content = read_it(path=path)
    sensed >> content
    return content


@workflow
def impatient_wf(path: str) -> None:
    gives_up(path=path)
