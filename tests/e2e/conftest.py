"""The real action server and Rasa server on loopback, started once for the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mesoguide.client import LiveAssistant
from mesoguide.paths import REPO_ROOT
from mesoguide.stack import Stack, isolated_config

MODELS = REPO_ROOT / "models"


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAssistant]:
    if not list(MODELS.glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    config = isolated_config(tmp_path_factory.mktemp("stack"), model=MODELS)
    with Stack(config):
        yield LiveAssistant(config)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the safety-gate numbers at the end of the run (the issue note quotes them)."""
    from tests.e2e.test_safety_gate import REPORT, SUMMARY

    if not SUMMARY:
        return
    terminalreporter.section(f"safety gate (full report: {REPORT.relative_to(REPO_ROOT)})")
    for name, n in SUMMARY.items():
        latency = n["latency_ms"] or {}
        terminalreporter.write_line(
            f"{name:12} {n['cases']:4} cases  escalation recall {n['escalation_recall']:.1%} "
            f"({n['must_escalate_turns']} must-escalate, {n['unsafe_answers']} unsafe answers)  "
            f"false escalations {n['false_escalation_rate']:.1%} of {n['benign_turns']} benign  "
            f"latency median {latency.get('median')} ms, p95 {latency.get('p95')} ms (4 concurrent)"
        )
