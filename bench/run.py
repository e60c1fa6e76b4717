"""Run the benchmarks and collect their result lines.

`python bench/run.py [--quick] [--only NAME ...]` runs each benchmark module in a fresh interpreter
(`python bench/<name>.py [--quick]`), relays the JSON line each prints, and writes them all to
`bench/results/latest.jsonl`. Every line has `bench, metric, unit, value, baseline, ratio, target, ok`.
A benchmark that crashes yields a line with `"ok": false` and its error, so the report stays complete.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results" / "latest.jsonl"
#: Run order: cheap first, so a quick look at the first lines is useful.
BENCHMARKS = ("cold_start", "lookup", "ingest_upload", "writeback", "sync_full", "sync_changes", "etl", "vs_original")
REQUIRED_KEYS = ("bench", "metric", "unit", "value", "baseline", "ratio", "target", "ok")
TIMEOUT_SECONDS = 1800


def run_benchmark(name: str, *, quick: bool) -> list[dict[str, object]]:
    """Run one benchmark module and return its result lines (or one failure line)."""
    command = [sys.executable, str(BENCH_DIR / f"{name}.py"), *(["--quick"] if quick else [])]
    started = time.perf_counter()
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        return [failure(name, f"timed out after {TIMEOUT_SECONDS} s")]
    results = [line for line in map(result_line, completed.stdout.splitlines()) if line is not None]
    if completed.returncode != 0 or not results:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
        return [*results, failure(name, f"exit {completed.returncode}: {' | '.join(tail)}")]
    for result in results:
        result.setdefault("seconds_total", round(time.perf_counter() - started, 2))
        result.setdefault("mode", "quick" if quick else "full")
        missing = [key for key in REQUIRED_KEYS if key not in result]
        if missing:
            result.update(ok=False, error=f"result line lacks {missing}")
    return results


def result_line(text: str) -> dict[str, object] | None:
    """A benchmark's result line, or None for any other output (a library's own JSON log line, say)."""
    if not text.startswith("{"):
        return None
    try:
        line = json.loads(text)
    except json.JSONDecodeError:
        return None
    return line if isinstance(line, dict) and "bench" in line and "metric" in line else None


def failure(name: str, error: str) -> dict[str, object]:
    """The result line of a benchmark that did not produce one."""
    return {
        "bench": name,
        "metric": "error",
        "unit": "",
        "value": None,
        "baseline": None,
        "ratio": None,
        "target": None,
        "ok": False,
        "error": error,
    }


def machine() -> str:
    """The machine the figures come from: CPUs, memory, load average and Python."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{os.cpu_count()} CPUs, {memory:.1f} GiB, load average {load}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks; exit 1 when any crashed (a missed target is reported, not fatal)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes; the whole run takes a few minutes")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these benchmarks")
    args = parser.parse_args(argv)
    selected = args.only or BENCHMARKS
    names = [name for name in BENCHMARKS if name in selected and (BENCH_DIR / f"{name}.py").exists()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    lines: list[dict[str, object]] = []
    started = time.perf_counter()
    for name in names:
        for result in run_benchmark(name, quick=args.quick):
            sys.stdout.write(json.dumps(result) + "\n")
            sys.stdout.flush()
            lines.append(result)
    RESULTS.write_text("".join(json.dumps(line) + "\n" for line in lines))
    sys.stderr.write(f"{len(names)} benchmarks in {time.perf_counter() - started:.0f} s; {machine()}\n")
    return 1 if any(line.get("metric") == "error" for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
