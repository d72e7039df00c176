"""Task environments with real flytekit and its Spark / Ray plugins (cached virtualenvs), and tasks packaged by them.

Installing pyspark (~320 MB, with its jars) takes about 3.5 minutes and ray about 2 minutes on
this machine the first time; later runs reuse the cached virtualenvs (tests.support.venvs).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from flyteidl_py.core import tasks_pb2
from tests.support.flytekit import FLYTEKIT_VERSION
from tests.support.packages import load_package
from tests.support.venvs import ensure_venv

EXAMPLES = Path(__file__).resolve().parent / "k8s_examples"
SPARK_REQUIREMENTS = [f"flytekit=={FLYTEKIT_VERSION}", f"flytekitplugins-spark=={FLYTEKIT_VERSION}",
                      "pyspark==3.5.9", "pandas"]  # fmt: skip
RAY_REQUIREMENTS = [f"flytekit=={FLYTEKIT_VERSION}", f"flytekitplugins-ray=={FLYTEKIT_VERSION}",
                    "ray[default]==2.60.0", "pandas"]  # fmt: skip


def spark_venv() -> Path:
    """The root of a virtualenv with flytekit, flytekitplugins-spark and pyspark."""
    return ensure_venv("spark-task", SPARK_REQUIREMENTS).parent.parent


def ray_venv() -> Path:
    """The root of a virtualenv with flytekit, flytekitplugins-ray and ray[default]."""
    return ensure_venv("ray-task", RAY_REQUIREMENTS).parent.parent


def code_root(where: Path, module: str) -> Path:
    """A directory holding the `k8s_examples` package with only `module` (each environment has one plugin)."""
    package = where / "k8s_examples"
    package.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLES / "__init__.py", package / "__init__.py")
    shutil.copy(EXAMPLES / f"{module}.py", package / f"{module}.py")
    return where


def package(venv: Path, root: Path, image: str, output: Path) -> dict[str, tasks_pb2.TaskTemplate]:
    """`pyflyte package` of the code under `root` by the flytekit in `venv`; its task templates by short name."""
    subprocess.run(
        [str(venv / "bin" / "pyflyte"), "--pkgs", "k8s_examples", "package", "--image", image, "-o", str(output),
         "--force"],
        cwd=root, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return {spec.template.id.name.rsplit(".", 1)[-1]: spec.template for spec in load_package(output).tasks}
