"""The `flyteplane` executable: the client commands start without loading the plane; the rest is `launcher.main`."""

from __future__ import annotations

import sys
from collections.abc import Sequence

# The client commands (launcher.client.commands.COMMANDS), repeated here so that choosing the path imports nothing.
CLIENT_COMMANDS = frozenset({"executions", "watch", "logs", "open"})


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = next((arg for arg in args if not arg.startswith("-")), None)
    if command in CLIENT_COMMANDS:  # servers, storage and databases are not imported: seconds saved per call
        from launcher.client.commands import run

        return run(args)
    from launcher.main import main as plane_main

    return plane_main(args)


if __name__ == "__main__":
    sys.exit(main())
