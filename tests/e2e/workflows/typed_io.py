"""Typed inputs and outputs: primitives, lists, maps, a dataclass and files."""

from dataclasses import dataclass

from flytekit import task, workflow
from flytekit.types.file import FlyteFile


@dataclass
class Point:
    x: int
    y: float
    label: str


@task
def primitives(a: int, b: str, c: float, flag: bool) -> tuple[int, str, float]:
    return (a * 2 if flag else a), b.upper(), c + 0.5


@task
def spread(xs: list[int], d: dict[str, int]) -> dict[str, list[int]]:
    return {k: [v + x for x in xs] for k, v in d.items()}


@task
def make_point(x: int, y: float, label: str) -> Point:
    return Point(x=x, y=y, label=label)


@task
def move_point(p: Point, dx: int) -> Point:
    return Point(x=p.x + dx, y=p.y, label=p.label + "'")


@task
def write_lines(text: str, n: int) -> FlyteFile:
    path = "lines.txt"
    with open(path, "w") as fh:
        fh.writelines(f"{i}:{text}\n" for i in range(n))
    return FlyteFile(path)


@task
def count_lines(f: FlyteFile) -> int:
    with open(f) as fh:
        return len(fh.readlines())


@task
def count_optional_lines(f: FlyteFile | None) -> int:
    if f is None:
        return 0
    with open(f) as fh:
        return len(fh.readlines())


@workflow
def typed_io_wf(
    a: int = 3,
    b: str = "hello",
    c: float = 1.25,
    flag: bool = True,
    xs: list[int] = [1, 2, 3],  # noqa: B006 - flytekit turns defaults into launch plan literals
    d: dict[str, int] = {"k": 10},  # noqa: B006
    f: FlyteFile | None = None,
) -> tuple[int, str, float, dict[str, list[int]], Point, int, int]:
    a2, b2, c2 = primitives(a=a, b=b, c=c, flag=flag)
    spreadout = spread(xs=xs, d=d)
    moved = move_point(p=make_point(x=a2, y=c2, label=b2), dx=a)
    written = count_lines(f=write_lines(text=b2, n=a2))
    given = count_optional_lines(f=f)
    return a2, b2, c2, spreadout, moved, written, given
