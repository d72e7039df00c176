"""Where the tests find the repository and the shared reference material beside it."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def reference_dir() -> Path:
    """`../shared/reference` next to the checkout (CI clones the repo with shared/ beside it)."""
    override = os.environ.get("FLYTEPLANE_REFERENCE_DIR")
    path = Path(override) if override else REPO_ROOT.parent / "shared" / "reference"
    if not path.is_dir():
        raise FileNotFoundError(f"reference material not found at {path}; set FLYTEPLANE_REFERENCE_DIR")
    return path


def fixtures_dir() -> Path:
    return reference_dir() / "fixtures" / "flytekit-1.16.31"
