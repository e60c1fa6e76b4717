"""The fault suite's summary: faults injected and how every item ended, per scenario and in total."""

from collections.abc import Iterator

import pytest
from _pytest.terminal import TerminalReporter

from tests.reliability.ledger import LEDGER
from tests.sierra_fixtures import RunningSimulator


@pytest.fixture
def simulator(sierra_simulator: RunningSimulator) -> Iterator[RunningSimulator]:
    """The session's simulator (2,000 items), reset; faults cleared afterwards."""
    yield sierra_simulator
    sierra_simulator.set_faults(reset=True)


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    """One line per fault scenario and the totals, so the figures show without `-s`."""
    if not LEDGER.outcomes:
        return
    terminalreporter.section("reliability")
    for outcome in LEDGER.outcomes:
        terminalreporter.write_line(f"reliability: {outcome.line()}")
    terminalreporter.write_line(f"reliability: {LEDGER.total().line()}")
