"""``python -m tarroitus overrides load FILE``: load a classification override mapping (CSV or Parquet)."""

import argparse
import sys
from pathlib import Path

from tarroitus.db import get_engine
from tarroitus.errors import TarroitusError
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.overrides import OverrideReport, load_classification_overrides
from tarroitus.settings import get_settings

EXIT_REJECTED = 1
EXIT_UNREADABLE = 2


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the overrides command."""
    parser = subparsers.add_parser("overrides", help="manage classification overrides")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    load = actions.add_parser(
        "load",
        help="load a mapping of item_record_id or barcode -> classification",
        description=(
            "Validate every row of FILE (CSV with a header, or Parquet; columns classification and "
            "item_record_id and/or barcode) and apply all of it, or nothing when any row is rejected."
        ),
    )
    load.add_argument("file", type=Path, help="the mapping file (CSV, CSV.gz or Parquet)")
    load.add_argument("--dry-run", action="store_true", help="validate and report only")
    load.set_defaults(handler=run_load)


def run_load(args: argparse.Namespace) -> int:
    """Load the mapping; exit 1 when rows were rejected (nothing applied), 2 when the file is unreadable."""
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        sys.stderr.write(f"overrides: cannot read {args.file}: {exc.strerror}\n")
        return EXIT_UNREADABLE
    try:
        settings = get_settings()
        with session_scope(get_engine(settings)) as session:
            report = load_classification_overrides(
                session, data=data, dry_run=args.dry_run, max_inflated_bytes=settings.max_upload_inflated_bytes
            )
    except TarroitusError as exc:
        sys.stderr.write(f"overrides: {exc.message}\n")
        return EXIT_UNREADABLE
    sys.stdout.write(_describe(report))
    return EXIT_REJECTED if report.rejected_count else 0


def _describe(report: OverrideReport) -> str:
    lines = [f"{report.unit} {row.position}: {row.key or '-'}: {row.reason}" for row in report.rejected]
    if report.rejected_count:
        lines.append(f"{report.rejected_count} of {report.rows} rows rejected; nothing was applied")
    elif report.dry_run:
        lines.append(f"{report.rows} rows valid; nothing applied (dry run)")
    else:
        lines.append(f"{report.applied} overrides applied ({report.changed} changed)")
    return "\n".join(lines) + "\n"
