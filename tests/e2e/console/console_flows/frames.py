"""A dataframe for the console's preview table, a cached task whose miss the console explains, and a task
that fails until its marker exists, so that its execution fails and a recovery of it succeeds.

In a module of its own: only these tasks' processes import pandas, not every element of the map tasks."""

import os

import pandas as pd
from flytekit import task, workflow

# Stored text is attacker-controlled: the preview table must show this as text, never as markup.
HOSTILE = "<img src=x onerror=\"window.__xss='frame'\">"


@task(cache=True, cache_version="1")
def table(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"name": [f"row {i} {HOSTILE}" for i in range(n)], "value": list(range(n)), "ratio": [i / 2 for i in range(n)]}
    )


@task
def fails_once(frame: pd.DataFrame, marker: str) -> int:
    # Fails (not recoverably: no retry) the first time; the recovery of its execution finds the marker.
    if not os.path.exists(marker):
        with open(marker, "w") as f:
            f.write("failed once")
        raise ValueError("fails until its execution is recovered")
    return len(frame)


@workflow
def frames(n: int, marker: str) -> int:
    return fails_once(frame=table(n=n), marker=marker)
