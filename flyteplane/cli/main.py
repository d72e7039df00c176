"""The `flyteplane` command line: version, effective configuration, and (as components land) servers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from flyteplane import __version__
from flyteplane.config import load_config
from flyteplane.errors import FlyteplaneError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flyteplane", description="The Flyte v1 control plane, in Python.")
    parser.add_argument("--version", action="version", version=f"flyteplane {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    config = commands.add_parser("config", help="print the effective configuration as YAML")
    config.add_argument("--config", type=Path, help="YAML configuration file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "config":
            config = load_config(args.config)
            yaml.safe_dump(config.model_dump(mode="json"), sys.stdout, sort_keys=False)
            return 0
    except FlyteplaneError as exc:
        print(f"flyteplane: {exc}", file=sys.stderr)
        return 2
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
