"""Where the tests find the repository and the fixtures it carries (nothing outside the checkout)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES_ROOT = REPO_ROOT / "tests" / "fixtures"
FLYTEKIT_VERSION = "1.16.31"


def fixtures_dir() -> Path:
    """What real flytekit wrote: packages, their text dumps, runtime files (scripts/make_fixtures.py)."""
    return FIXTURES_ROOT / f"flytekit-{FLYTEKIT_VERSION}"


def examples_dir() -> Path:
    """The `examples` package the flytekit fixtures were made from, as an image's code would hold it."""
    return FIXTURES_ROOT / "flytekit-examples"


def crds_dir() -> Path:
    """Published CustomResourceDefinitions (Spark operator, KubeRay) the Kubernetes backends are checked against."""
    return FIXTURES_ROOT / "crds"
