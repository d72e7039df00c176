"""dataclass_dirs' shelf, sent in flytekit's older dataclass format: a generic Struct instead of msgpack."""

import os

os.environ["FLYTE_USE_OLD_DC_FORMAT"] = "true"  # read by flytekit whenever it converts a dataclass

from flytekit import workflow
from user_data.dataclass_dirs import DEFAULT_SHELF, Shelf, list_shelf


@workflow
def generic_shelf_wf(shelf: Shelf = DEFAULT_SHELF) -> str:
    return list_shelf(shelf=shelf)
