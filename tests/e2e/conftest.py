"""The real action server and Rasa server on loopback, started once for the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mesoguide.client import LiveAssistant
from mesoguide.escalations.store import EscalationStore
from mesoguide.paths import REPO_ROOT
from mesoguide.runtime import MANY_PATIENTS_ONE_ADDRESS
from mesoguide.stack import Stack, StackConfig, free_port, isolated_config
from tests.e2e.fake_providers import FakeProviders
from tests.support.receivers import SmtpReceiver, WebhookReceiver

MODELS = REPO_ROOT / "models"


@pytest.fixture(scope="session")
def providers() -> Iterator[FakeProviders]:
    """Fake Telegram and Twilio APIs on loopback; the stack's channels send to them."""
    with FakeProviders() as fake:
        yield fake


@pytest.fixture(scope="session")
def receivers() -> Iterator[tuple[WebhookReceiver, SmtpReceiver]]:
    """The clinic's notification endpoints, real and local: a webhook receiver and an SMTP server."""
    webhook, smtp = WebhookReceiver(free_port()).start(), SmtpReceiver(free_port()).start()
    yield webhook, smtp
    webhook.stop()
    smtp.stop()


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory, providers: FakeProviders, receivers) -> Iterator[Stack]:
    """Everything a clinic runs: action server, Rasa server with every channel on (REST,
    widget, Telegram, Twilio, talking to the fake providers), notifier and dashboard, with
    notifications going to the local receivers. One stack for every e2e test."""
    if not list(MODELS.glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    webhook, smtp = receivers
    env = {
        **providers.channel_env(),
        "MESOGUIDE_NOTIFY_WEBHOOK_URL": webhook.url,
        "MESOGUIDE_SMTP_HOST": "127.0.0.1",
        "MESOGUIDE_SMTP_PORT": str(smtp.port),
        "MESOGUIDE_NOTIFY_EMAIL_TO": "clinic@example.com",
        "MESOGUIDE_NOTIFY_RETRY_BASE_S": "0.5",
        **MANY_PATIENTS_ONE_ADDRESS,
    }
    config = isolated_config(tmp_path_factory.mktemp("stack"), model=MODELS, env=env)
    with Stack(config, clinic=True) as stack:
        yield stack


@pytest.fixture(scope="session")
def live(live_stack: Stack) -> LiveAssistant:
    return LiveAssistant(live_stack.config)


@pytest.fixture(scope="session")
def stack_config(live: LiveAssistant) -> StackConfig:
    return live.config


@pytest.fixture(scope="module")
def store(live_stack: Stack) -> Iterator[EscalationStore]:
    """The escalation store of the shared stack, read as staff would."""
    made = EscalationStore(url=live_stack.config.env["MESOGUIDE_DATABASE_URL"])
    yield made
    made.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the safety-gate numbers and the screenshot folder at the end of the run."""
    from tests.e2e import test_languages
    from tests.e2e.test_safety_gate import REPORT, SUMMARY
    from tests.e2e.test_widget import SHOTS

    if test_languages.TALLY:
        terminalreporter.section(f"languages (full report: {test_languages.REPORT.relative_to(REPO_ROOT)})")
        for line in test_languages.summary_lines():
            terminalreporter.write_line(line)

    shots = sorted(SHOTS.glob("*.png")) if SHOTS.is_dir() else []
    if shots:
        terminalreporter.write_line(f"widget screenshots ({len(shots)}): {SHOTS.relative_to(REPO_ROOT)}/")
    if not SUMMARY:
        return
    terminalreporter.section(f"safety gate (full report: {REPORT.relative_to(REPO_ROOT)})")
    for name, n in SUMMARY.items():
        latency = n["latency_ms"] or {}
        recall = "n/a" if n["escalation_recall"] is None else f"{n['escalation_recall']:.1%}"
        terminalreporter.write_line(
            f"{name:12} {n['cases']:4} cases  escalation recall {recall} "
            f"({n['must_escalate_turns']} must-escalate, {n['unsafe_answers']} unsafe answers)  "
            f"false escalations {n['false_escalation_rate']:.1%} of {n['benign_turns']} benign  "
            f"latency median {latency.get('median')} ms, p95 {latency.get('p95')} ms (4 concurrent)"
        )
