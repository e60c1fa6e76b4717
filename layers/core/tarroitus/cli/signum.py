"""``python -m tarroitus signum``: print the signum of a Sierra bib read as JSON from stdin."""

import argparse
import json
import sys
from typing import Any

from tarroitus.services.signum import MainEntry, compute_signum, find_main_entry

EXIT_INVALID_INPUT = 2


class _InvalidInputError(ValueError):
    """Stdin does not hold a Sierra bib JSON object."""


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the signum command."""
    parser = subparsers.add_parser(
        "signum",
        help="print the signum of a Sierra bib JSON object read from stdin",
        description="Read one Sierra bib (GET /bibs/{id}?fields=varFields) as JSON on stdin and print its signum.",
    )
    parser.add_argument("--explain", action="store_true", help="also print the main-entry heading the signum is from")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the signum of the bib on stdin; exit code 2 when stdin is not a bib JSON object."""
    try:
        bib = _read_bib(sys.stdin.buffer.read())
    except _InvalidInputError as exc:
        sys.stderr.write(f"signum: {exc}\n")
        return EXIT_INVALID_INPUT
    var_fields = bib.get("varFields", [])
    lines = [compute_signum(var_fields)]
    if args.explain:
        lines.append(_describe(find_main_entry(var_fields)))
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _read_bib(raw: bytes) -> dict[str, Any]:
    try:
        bib = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise _InvalidInputError(f"stdin is not valid JSON: {exc}") from exc
    if not isinstance(bib, dict):
        raise _InvalidInputError(f"expected a JSON object with a varFields list, got {type(bib).__name__}")
    return bib


def _describe(entry: MainEntry | None) -> str:
    if entry is None:
        return "heading: none (no 100/110/111/130/245 subfield a with letters or digits)"
    skipped = f" (first {entry.nonfiling} characters are non-filing)" if entry.nonfiling else ""
    return f"heading: {entry.marc_tag} {entry.ind1 or '#'}{entry.ind2 or '#'} $a {entry.heading}{skipped}"
