"""The real action server and Rasa server on loopback, started once for the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mesoguide.client import LiveAssistant
from mesoguide.paths import REPO_ROOT
from mesoguide.stack import Stack, free_port, isolated_config
from tests.support.receivers import SmtpReceiver, WebhookReceiver

MODELS = REPO_ROOT / "models"


@pytest.fixture(scope="session")
def receivers() -> Iterator[tuple[WebhookReceiver, SmtpReceiver]]:
    """The clinic's notification endpoints, real and local: a webhook receiver and an SMTP server."""
    webhook, smtp = WebhookReceiver(free_port()).start(), SmtpReceiver(free_port()).start()
    yield webhook, smtp
    webhook.stop()
    smtp.stop()


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory, receivers) -> Iterator[Stack]:
    """Everything a clinic runs (issue 5): action server, Rasa server, notifier, dashboard,
    with notifications going to the local receivers."""
    if not list(MODELS.glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    webhook, smtp = receivers
    env = {
        "MESOGUIDE_NOTIFY_WEBHOOK_URL": webhook.url,
        "MESOGUIDE_SMTP_HOST": "127.0.0.1",
        "MESOGUIDE_SMTP_PORT": str(smtp.port),
        "MESOGUIDE_NOTIFY_EMAIL_TO": "clinic@example.com",
        "MESOGUIDE_NOTIFY_RETRY_BASE_S": "0.5",
    }
    config = isolated_config(tmp_path_factory.mktemp("stack"), model=MODELS, env=env)
    with Stack(config, clinic=True) as stack:
        yield stack


@pytest.fixture(scope="session")
def live(live_stack: Stack) -> LiveAssistant:
    return LiveAssistant(live_stack.config)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the guardrail corpus numbers at the end of the run (the issue note quotes them)."""
    from tests.e2e.test_guardrail_corpora import REPORT, SUMMARY

    if not SUMMARY:
        return
    terminalreporter.section("guardrail corpora (tests/corpora, development set; full report: %s)" % REPORT.relative_to(REPO_ROOT))
    for name, numbers in SUMMARY.items():
        if name == "latency_ms":
            terminalreporter.write_line(f"latency per message: median {numbers['median']} ms, p95 {numbers['p95']} ms ({numbers['note']})")
            continue
        kind = "false escalations" if name == "benign.yml" else "escalated"
        terminalreporter.write_line(
            f"{name:22} {numbers['cases']:4} cases  {kind}: {numbers['escalated']} "
            f"({numbers['escalation_rate']:.1%})  expected outcome: {numbers['expected_outcome_rate']:.1%}"
        )
