"""A workflow taking a dataframe from the user's machine, as `pyflyte run --remote` uploads it."""

import pandas as pd
from flytekit import task, workflow


@task
def count_rows(df: pd.DataFrame) -> int:
    return len(df)


@workflow
def frames_wf(df: pd.DataFrame) -> int:
    return count_rows(df=df)
