"""The `portway` command. Each subcommand lives in its own module with a `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from portway import __version__, exitcodes
from portway.errors import PortwayError

# Subcommand modules under portway.cli, in the order `portway --help` lists them.
COMMAND_MODULES = ["run", "data", "models", "ui", "serve", "deploy", "compile", "submit", "runs", "completion"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portway",
        description="Kubernetes-native continuous-training pipelines (a portable SageMaker Pipelines).",
    )
    parser.add_argument("--version", action="version", version=f"portway {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"portway.cli.{name}").register(subparsers)
    for each in walk_parsers(parser):
        # No prefix matching: `--max-dept 3` is a usage error (exit 2), never `--max-depth 3`.
        each.allow_abbrev = False
    return parser


def walk_parsers(parser: argparse.ArgumentParser):
    """The parser and every subcommand parser below it (completion walks the same tree)."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield from walk_parsers(child)


def _quiet_closed_pipe() -> int:
    """The reader went away (`portway models list | head -1`): no traceback, no flush error at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is no file (e.g. captured): nothing to flush
        pass
    return exitcodes.CLOSED_PIPE


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _quiet_closed_pipe()
    except PortwayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("\ninterrupted: stopped before completion; rerun the same command to resume from cache.",
              file=sys.stderr)
        return exitcodes.INTERRUPTED
    except OSError as exc:  # one line naming the path, not a traceback
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return exitcodes.for_os_error(exc)


if __name__ == "__main__":
    sys.exit(main())
