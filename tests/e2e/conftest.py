"""The real action server and Rasa server on loopback, started once for the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mesoguide.client import LiveAssistant
from mesoguide.paths import REPO_ROOT
from mesoguide.stack import Stack, StackConfig, isolated_config
from tests.e2e.fake_providers import FakeProviders

MODELS = REPO_ROOT / "models"


@pytest.fixture(scope="session")
def providers() -> Iterator[FakeProviders]:
    """Fake Telegram and Twilio APIs on loopback; the stack's channels send to them."""
    with FakeProviders() as fake:
        yield fake


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory, providers: FakeProviders) -> Iterator[LiveAssistant]:
    """One real stack for every e2e test, with every channel on (REST, widget, Telegram, Twilio)."""
    if not list(MODELS.glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    config = isolated_config(tmp_path_factory.mktemp("stack"), model=MODELS, env=providers.channel_env())
    with Stack(config):
        yield LiveAssistant(config)


@pytest.fixture(scope="session")
def stack_config(live: LiveAssistant) -> StackConfig:
    return live.config


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the safety-gate numbers and the screenshot folder at the end of the run."""
    from tests.e2e.test_safety_gate import REPORT, SUMMARY
    from tests.e2e.test_widget import SHOTS

    shots = sorted(SHOTS.glob("*.png")) if SHOTS.is_dir() else []
    if shots:
        terminalreporter.write_line(f"widget screenshots ({len(shots)}): {SHOTS.relative_to(REPO_ROOT)}/")
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
