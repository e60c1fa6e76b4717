"""What every benchmark shares: the result line, and a timer."""

import json
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def emit(
    bench: str,
    *,
    metric: str,
    unit: str,
    value: float,
    baseline: float,
    target: float,
    higher_is_better: bool = True,
    **extra: object,
) -> dict[str, object]:
    """Print the benchmark's JSON result line; `ratio` is how many times better than the baseline."""
    if higher_is_better:
        ratio = value / baseline if baseline else None
        ok = value >= target
    else:
        ratio = baseline / value if value else None
        ok = value <= target
    line: dict[str, object] = {
        "bench": bench,
        "metric": metric,
        "unit": unit,
        "value": round(value, 4),
        "baseline": round(baseline, 4),
        "ratio": round(ratio, 2) if ratio is not None else None,
        "target": target,
        "ok": ok,
        **extra,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    return line


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """Measure the block's wall time into `result["seconds"]`."""
    result: dict[str, float] = {}
    started = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - started


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
