"""Cached tasks that leave a marker file every time they really run, so tests can count real runs."""

import functools
import os
import time
import uuid

from flytekit import dynamic, map_task, task, workflow
from flytekit.types.file import FlyteFile


def _mark(marker_dir: str, what: str) -> None:
    with open(os.path.join(marker_dir, f"{what}-{uuid.uuid4().hex}"), "w") as fh:
        fh.write(what)


@task(cache=True, cache_version="1")
def cached_square(marker_dir: str, x: int) -> int:
    _mark(marker_dir, f"square{x}")
    return x * x


@task(cache=True, cache_version="1")
def cached_add(marker_dir: str, a: int, b: int) -> int:
    _mark(marker_dir, "add")
    return a + b


@workflow
def cached_wf(marker_dir: str, a: int = 2, b: int = 3) -> int:
    return cached_add(
        marker_dir=marker_dir, a=cached_square(marker_dir=marker_dir, x=a), b=cached_square(marker_dir=marker_dir, x=b)
    )


@task(cache=True, cache_version="1", cache_serialize=True)
def serialized(marker_dir: str, x: int) -> int:
    _mark(marker_dir, "serialized")
    time.sleep(2)
    return x + 100


@workflow
def serialized_wf(marker_dir: str, x: int = 1) -> int:
    return serialized(marker_dir=marker_dir, x=x)


@task(cache=True, cache_version="1")
def cached_file(marker_dir: str, text: str) -> FlyteFile:
    _mark(marker_dir, "file")
    with open("out.txt", "w") as fh:
        fh.write(text)
    return FlyteFile("out.txt")


@task
def read_file(f: FlyteFile) -> str:
    with open(f) as fh:
        return fh.read()


@workflow
def cached_file_wf(marker_dir: str, text: str = "kept") -> str:
    return read_file(f=cached_file(marker_dir=marker_dir, text=text))


@task(cache=True, cache_version="1")
def cached_inc(marker_dir: str, x: int) -> int:
    _mark(marker_dir, f"inc{x}")
    return x + 1


@workflow
def cached_map_wf(marker_dir: str, xs: list[int]) -> list[int]:
    return map_task(functools.partial(cached_inc, marker_dir=marker_dir))(x=xs)


@task
def doubled(marker_dir: str, x: int) -> int:
    _mark(marker_dir, f"double{x}")
    return 2 * x


@task
def summed(marker_dir: str, xs: list[int]) -> int:
    _mark(marker_dir, "sum")
    return sum(xs)


@dynamic(cache=True, cache_version="1")
def cached_dynamic(marker_dir: str, n: int) -> int:
    _mark(marker_dir, "dynamic")
    return summed(marker_dir=marker_dir, xs=[doubled(marker_dir=marker_dir, x=i) for i in range(n)])


@workflow
def cached_dynamic_wf(marker_dir: str, n: int = 3) -> int:
    return cached_dynamic(marker_dir=marker_dir, n=n)
