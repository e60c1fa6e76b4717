"""The peak growth of this process's resident memory while a block runs, sampled from /proc.

Resident memory counts everything: Python objects, zlib's buffers and polars' Rust allocations alike,
which tracemalloc would miss. A thread samples it every SAMPLE_SECONDS; the growth is the highest
sample minus the level before the block.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SAMPLE_SECONDS = 0.002
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


def resident_bytes() -> int:
    """This process's resident set size now."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE_BYTES


@contextmanager
def peak_growth() -> Iterator[dict[str, float]]:
    """Measure the block's peak resident memory growth into `result["mib"]`."""
    result: dict[str, float] = {}
    baseline = resident_bytes()
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(SAMPLE_SECONDS):
            peak = max(peak, resident_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        done.set()
        sampler.join()
        peak = max(peak, resident_bytes())
        result["mib"] = (peak - baseline) / MIB
