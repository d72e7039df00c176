"""flyteplane's shared runtime: configuration, storage, errors and logging used by every component."""

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("flyteplane")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

# When this process loaded the release: what Flyte's own build reports when no build date was stamped in.
__build_time__ = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

__all__ = ["__build_time__", "__version__"]
