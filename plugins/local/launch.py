"""Starts one of the `local` backend's process programs by file path, where our packages cannot be imported.

`<python> [-I] launch.py <program> <arguments...>`: the cold runner (`runner`) runs under propeller's interpreter in
isolated mode, fork servers (`server`) and reuse workers (`worker`) under the task environment's interpreter, and
neither can import `plugins`. This script loads the directory it lies in (`plugins/local`) as a package of a private
name, `_flyteplane_local` -- no name a task could import is taken -- imports the program's module from it, whose
relative imports then find `protocol` and the rest beside it, and calls its `main()` with `sys.argv[0]` set to the
module's file, as if that file had been run. Standard library only, runnable by any Python from 3.9 on.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PACKAGE = "_flyteplane_local"
PROGRAMS = {"runner": "runner", "server": "warm.server", "worker": "warm.worker"}
SCRIPT = Path(__file__).resolve()


def command(python: str, program: str, *args: str, isolated: bool = False) -> list[str]:
    """The command line that runs `program` (one of PROGRAMS) under `python`; `isolated`: in Python's -I mode."""
    if program not in PROGRAMS:
        raise ValueError(f"no program {program!r} (known: {', '.join(PROGRAMS)})")
    return [python, *(["-I"] if isolated else []), str(SCRIPT), program, *args]


def load(program: str) -> ModuleType:
    """The module of `program` (one of PROGRAMS), imported from the private package."""
    package = sys.modules.get(PACKAGE)
    if package is None:
        spec = importlib.util.spec_from_file_location(
            PACKAGE, SCRIPT.with_name("__init__.py"), submodule_search_locations=[str(SCRIPT.parent)]
        )
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{PACKAGE}.{PROGRAMS[program]}")


def main() -> None:
    module = load(sys.argv[1])
    sys.argv = [str(module.__file__), *sys.argv[2:]]
    module.main()


if __name__ == "__main__":
    main()
