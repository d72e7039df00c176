"""Data types that travel by reference (DataFrames, directories) and a nested @dynamic."""

import os

import pandas as pd
from flytekit import dynamic, task, workflow
from flytekit.types.directory import FlyteDirectory
from flytekit.types.structured import StructuredDataset


@task
def make_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": list(range(n)), "y": [i * i for i in range(n)]})


@task
def frame_total(frame: pd.DataFrame) -> int:
    return int(frame["y"].sum())


@task
def as_dataset(frame: pd.DataFrame) -> StructuredDataset:
    return StructuredDataset(dataframe=frame)


@task
def dataset_rows(ds: StructuredDataset) -> int:
    return len(ds.open(pd.DataFrame).all())


@task
def make_dir(files: int) -> FlyteDirectory:
    os.makedirs("many", exist_ok=True)
    for i in range(files):
        with open(os.path.join("many", f"f{i}.txt"), "w") as fh:
            fh.write(str(i))
    return FlyteDirectory("many")


@task
def count_dir(d: FlyteDirectory) -> int:
    return len(os.listdir(d.download()))


@task
def times(a: int, b: int) -> int:
    return a * b


@dynamic
def inner(n: int) -> list[int]:
    return [times(a=i, b=n) for i in range(n)]


@task
def summed(xs: list[int]) -> int:
    return sum(xs)


@dynamic
def outer(n: int) -> int:
    return summed(xs=inner(n=n))


@workflow
def data_wf(n: int = 4) -> tuple[int, int, int, int]:
    frame = make_frame(n=n)
    return (
        frame_total(frame=frame),
        dataset_rows(ds=as_dataset(frame=frame)),
        count_dir(d=make_dir(files=n)),
        outer(n=n),
    )
