"""The security suite's summary: schemathesis cases per role and their 5xx count."""

from _pytest.terminal import TerminalReporter

from tests.security.fuzz_counts import summary_lines


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    """The fuzzing figures, shown without `-s`."""
    lines = summary_lines()
    if lines:
        terminalreporter.section("schemathesis")
        for line in lines:
            terminalreporter.write_line(line)
