"""Notifications from the outbox to a real local webhook receiver and a real SMTP server."""

from __future__ import annotations

import time

import pytest

from mesoguide.escalations import models as m
from mesoguide.escalations.config import EscalationConfig, EscalationConfigError
from mesoguide.escalations.notifier import deliver_due, retry_delay
from mesoguide.escalations.store import EscalationStore
from mesoguide.stack import free_port
from tests.support.receivers import SmtpReceiver, WebhookReceiver


def escalation(conversation: str = "c1", *, urgent: bool = False) -> m.NewEscalation:
    return m.NewEscalation(
        conversation_id=conversation, channel="rest", reason="red_flag" if urgent else "contraindication",
        urgent=urgent, terms=["contraindication:pregnancy"], excerpt="patient: pregnant, call me on 07700 900123",
    )


@pytest.fixture
def receivers():
    webhook = WebhookReceiver(free_port()).start()
    smtp = SmtpReceiver(free_port()).start()
    yield webhook, smtp
    webhook.stop()
    smtp.stop()


def config_for(webhook: WebhookReceiver, smtp: SmtpReceiver, **extra) -> EscalationConfig:
    env = {
        "MESOGUIDE_NOTIFY_WEBHOOK_URL": webhook.url,
        "MESOGUIDE_SMTP_HOST": "127.0.0.1",
        "MESOGUIDE_SMTP_PORT": str(smtp.port),
        "MESOGUIDE_NOTIFY_EMAIL_FROM": "bot@clinic.example",
        "MESOGUIDE_NOTIFY_EMAIL_TO": "nurse@clinic.example, doctor@clinic.example",
        "MESOGUIDE_DASHBOARD_URL": "http://127.0.0.1:5070/",
        "MESOGUIDE_NOTIFY_RETRY_BASE_S": "0.3",
        **extra,
    }
    return EscalationConfig.from_env(env)


def test_a_new_escalation_reaches_the_webhook_and_the_mailbox_marked_urgent(receivers, tmp_path) -> None:
    webhook, smtp = receivers
    config = config_for(webhook, smtp)
    store = EscalationStore(url=f"sqlite:///{tmp_path / 'e.db'}", notify_channels=config.notify_channels)
    reference = store.record(escalation(urgent=True))["reference"]
    assert deliver_due(store, config) == (2, 0)
    [hook] = webhook.received
    assert hook["content_type"] == "application/json"
    assert hook["json"]["text"].startswith("URGENT") and reference in hook["json"]["text"]
    assert hook["json"]["mesoguide"] == {
        "event": "new", "reference": reference, "reason": "red_flag", "urgent": True, "status": "open",
        "url": f"http://127.0.0.1:5070/escalations/{reference}",
    }
    [mail] = smtp.messages
    assert mail["Subject"].startswith("[MesoGuide] URGENT: New escalation") and reference in mail["Subject"]
    assert mail["X-Priority"] == "1"
    assert smtp.envelopes == [("bot@clinic.example", ["nurse@clinic.example", "doctor@clinic.example"])]
    # No personal data leaves the clinic's records.
    assert "07700" not in str(hook) and "pregnant" not in mail.get_payload()
    assert all(i["delivered_at"] for i in store.outbox_items())
    assert deliver_due(store, config) == (0, 0), "delivered once, not again"


def test_a_notification_is_retried_with_back_off_after_the_receiver_was_down(tmp_path) -> None:
    port = free_port()
    webhook = WebhookReceiver(port)  # not started: the receiver is down
    config = EscalationConfig.from_env({"MESOGUIDE_NOTIFY_WEBHOOK_URL": webhook.url, "MESOGUIDE_NOTIFY_RETRY_BASE_S": "0.5"})
    store = EscalationStore(url=f"sqlite:///{tmp_path / 'e.db'}", notify_channels=config.notify_channels)
    reference = store.record(escalation())["reference"]
    assert deliver_due(store, config) == (0, 1)
    [item] = store.outbox_items()
    assert item["attempts"] == 1 and "Connection refused" in item["last_error"] and item["delivered_at"] is None
    assert deliver_due(store, config) == (0, 0), "not retried before its back-off"
    webhook.start()
    try:
        time.sleep(0.6)
        assert deliver_due(store, config) == (1, 0)
        assert webhook.received[0]["json"]["mesoguide"]["reference"] == reference
    finally:
        webhook.stop()
    [item] = store.outbox_items()
    assert item["delivered_at"] is not None and item["last_error"] is None


def test_back_off_doubles_up_to_the_maximum() -> None:
    config = EscalationConfig(retry_base_s=30, retry_max_s=3600)
    assert [retry_delay(n, config) for n in (1, 2, 3, 4, 10)] == [30, 60, 120, 240, 3600]


def test_no_channel_configured_queues_nothing(tmp_path) -> None:
    config = EscalationConfig.from_env({})
    assert config.notify_channels == ()
    store = EscalationStore(url=f"sqlite:///{tmp_path / 'e.db'}", notify_channels=config.notify_channels)
    assert store.record(escalation())["notifications"] == 0


def test_configuration_errors_name_the_variable() -> None:
    with pytest.raises(EscalationConfigError, match="MESOGUIDE_SMTP_PORT must be a number"):
        EscalationConfig.from_env({"MESOGUIDE_SMTP_PORT": "twenty-five"})
    with pytest.raises(EscalationConfigError, match="MESOGUIDE_SMTP_STARTTLS must be 1 or 0"):
        EscalationConfig.from_env({"MESOGUIDE_SMTP_STARTTLS": "maybe"})


def test_notification_fields_carry_no_markup() -> None:
    from mesoguide.escalations.notifier import plain

    assert plain("<!channel> rest") == "!channel rest"
    assert "<" not in plain("<https://evil.example|click>") and "\n" not in plain("rest\nURGENT")
    assert len(plain("x" * 500)) == 40


def test_starttls_verifies_the_server_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a context, smtplib accepts any certificate; ours must require a valid one."""
    import ssl

    from mesoguide.escalations import notifier

    seen: dict[str, ssl.SSLContext] = {}

    class FakeSMTP:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def starttls(self, context: ssl.SSLContext | None = None) -> None:
            seen["context"] = context  # type: ignore[assignment]

        def send_message(self, message: object) -> None:
            pass

    monkeypatch.setattr(notifier.smtplib, "SMTP", FakeSMTP)
    config = EscalationConfig(smtp_host="mail.clinic.example", email_to=("team@clinic.example",), smtp_starttls=True)
    record = {"reference": "MG-ABC-DEF", "urgent": True, "reason": "red_flag", "channel": "rest",
              "created_at": m.utcnow(), "callback_time": None}
    notifier.send_email(record, "new", config)  # type: ignore[arg-type]
    context = seen["context"]
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
