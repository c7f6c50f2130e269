"""Summaries the unit tests print at the end of a run (like tests/e2e/conftest.py's)."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the reading-level distribution of every text the assistant sends, when it was measured."""
    from tests.unit.test_readability import READING_LEVELS

    for title, report in READING_LEVELS.items():
        terminalreporter.section(title)
        for line in report.splitlines():
            terminalreporter.write_line(line)
