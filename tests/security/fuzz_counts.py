"""Schemathesis cases sent per role and how many answered 5xx, for the terminal summary."""

from collections import Counter

#: (role, "ok" | "5xx") -> cases.
CASES: Counter[tuple[str, str]] = Counter()


def summary_lines() -> list[str]:
    """One `schemathesis: role=... cases=... 5xx=...` line per role fuzzed in this run."""
    lines = []
    for role in sorted({role for role, _ in CASES}):
        cases = sum(count for (case_role, _), count in CASES.items() if case_role == role)
        lines.append(f"schemathesis: role={role} cases={cases} 5xx={CASES[(role, '5xx')]}")
    return lines
