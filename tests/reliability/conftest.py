"""The fault suite's summary: faults injected and how every item ended, per scenario and in total."""

from _pytest.terminal import TerminalReporter

from tests.reliability.ledger import LEDGER


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    """One line per fault scenario and the totals, so the figures show without `-s`."""
    if not LEDGER.outcomes:
        return
    terminalreporter.section("reliability")
    for outcome in LEDGER.outcomes:
        terminalreporter.write_line(f"reliability: {outcome.line()}")
    terminalreporter.write_line(f"reliability: {LEDGER.total().line()}")
