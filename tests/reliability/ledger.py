"""What each fault scenario injected and how every item ended, summed up at the end of the run.

The reliability conftest writes one line per scenario and a total to the terminal summary:
`reliability: faults=... written=... skipped_as_done=... dead_lettered=... duplicates=0 lost=0
acknowledged_lost=0`: `acknowledged_lost` counts writes the API answered 2xx that are not in the database.
"""

from dataclasses import dataclass, field


@dataclass
class ScenarioOutcome:
    """One scenario's figures: faults injected, and how every queued item (or synced record) ended."""

    name: str
    faults: int = 0
    items: int = 0
    written: int = 0
    skipped_as_done: int = 0
    dead_lettered: int = 0
    duplicates: int = 0
    lost: int = 0
    acknowledged_lost: int = 0
    runs: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """The scenario as one `key=value` line."""
        figures = {
            "faults": self.faults,
            "items": self.items,
            "written": self.written,
            "skipped_as_done": self.skipped_as_done,
            "dead_lettered": self.dead_lettered,
            "duplicates": self.duplicates,
            "lost": self.lost,
            "acknowledged_lost": self.acknowledged_lost,
            "runs": self.runs,
            **self.extra,
        }
        return f"{self.name}: " + " ".join(f"{key}={value}" for key, value in figures.items())


@dataclass
class Ledger:
    """Every scenario recorded during the session."""

    outcomes: list[ScenarioOutcome] = field(default_factory=list)

    def record(self, outcome: ScenarioOutcome) -> ScenarioOutcome:
        """Keep `outcome` for the summary and return it."""
        self.outcomes.append(outcome)
        return outcome

    def total(self) -> ScenarioOutcome:
        """The sums over every scenario."""
        total = ScenarioOutcome(name="total")
        for outcome in self.outcomes:
            for name in (
                "faults",
                "items",
                "written",
                "skipped_as_done",
                "dead_lettered",
                "duplicates",
                "lost",
                "acknowledged_lost",
                "runs",
            ):
                setattr(total, name, getattr(total, name) + getattr(outcome, name))
        return total


LEDGER = Ledger()
