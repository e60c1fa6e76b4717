"""The Tarroitus command line: one subcommand per module, registered from COMMANDS."""

import argparse
from collections.abc import Callable
from typing import Protocol

from tarroitus.cli import clients, overrides, signum, writeback


class Command(Protocol):
    """A subcommand module: it adds its parser and sets ``handler`` in its defaults."""

    def register(self, subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
        """Add the subcommand's parser to subparsers."""


COMMANDS: tuple[Command, ...] = (signum, clients, overrides, writeback)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every command in COMMANDS registered."""
    parser = argparse.ArgumentParser(prog="python -m tarroitus", description="Tarroitus backend tools.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse argv (default: sys.argv), run the chosen command and return its exit code."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)
