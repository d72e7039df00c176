"""Tasks whose images are ImageSpecs: one needs scikit-learn (not in the default task environment), one apt."""

import os

from flytekit import ImageSpec, task, workflow

sklearn_image = ImageSpec(
    name="sklearn-e2e",
    packages=["scikit-learn>=1.5,<2"],
    env={"SPEC_GREETING": "set by the spec"},
)
apt_image = ImageSpec(name="apt-e2e", apt_packages=["curl"])


@task(container_image=sklearn_image)
def fit_line(n: int) -> float:
    """The slope of a line sklearn fits through n points of y = 3x + 2."""
    import numpy as np
    from sklearn.linear_model import LinearRegression

    x = np.arange(n, dtype=float).reshape(-1, 1)
    model = LinearRegression().fit(x, 3 * x.ravel() + 2)
    return round(float(model.coef_[0]), 6)


@task(container_image=sklearn_image)
def describe_environment() -> str:
    """What the task sees of its environment: the spec's variable, and whether flytekit knows its image."""
    import sklearn

    return f"{os.environ['SPEC_GREETING']}|{sklearn_image.is_container()}|{sklearn.__version__}"


@workflow
def sklearn_wf(n: int = 10) -> tuple[float, str]:
    return fit_line(n=n), describe_environment()


@task(container_image=apt_image)
def needs_curl() -> str:
    return "unreachable"


@workflow
def apt_wf() -> str:
    return needs_curl()
