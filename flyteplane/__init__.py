"""flyteplane's shared runtime: configuration, storage, errors and logging used by every component."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("flyteplane")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
