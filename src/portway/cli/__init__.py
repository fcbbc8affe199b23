"""The `portway` command. Each subcommand lives in its own module with a `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import sys

from portway import __version__
from portway.errors import PortwayError

# Subcommand modules under portway.cli, in the order `portway --help` lists them.
COMMAND_MODULES = ["run", "data", "models", "serve", "deploy", "compile", "submit"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portway",
        description="Kubernetes-native continuous-training pipelines (a portable SageMaker Pipelines).",
    )
    parser.add_argument("--version", action="version", version=f"portway {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"portway.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PortwayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("\ninterrupted: stopped before completion; rerun the same command to resume from cache.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
