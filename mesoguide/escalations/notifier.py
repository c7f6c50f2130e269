"""Tells the clinic about escalations: webhook (Slack/Teams-compatible JSON) and e-mail (SMTP).

Delivery runs from the durable outbox in the database, in its own process
(``python -m mesoguide.escalations notify``, started by ``make run``), not inside the action
server. Why a process and not an asyncio task in the action server: a slow or dead SMTP server
or webhook can then never delay a patient's reply or tie up the action server's event loop,
delivery keeps going while the action server restarts, and one notifier serves however many
action-server workers a clinic runs (each would otherwise deliver the same rows).

What a notification says: reference, reason, urgency and a link to the dashboard. No
transcript and no contact details: chat and mail services are outside the clinic's records;
staff read the rest behind the dashboard's login.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from email.message import EmailMessage

from mesoguide.escalations.config import EscalationConfig
from mesoguide.escalations.models import EscalationRecord, OutboxItem
from mesoguide.escalations.store import EscalationNotFound, EscalationStore

logger = logging.getLogger(__name__)

REASON_LABELS = {
    "red_flag": "red flag (symptom after treatment)",
    "contraindication": "contraindication question",
    "medical_advice": "personal medical advice",
    "human": "asked for a person",
}
EVENT_LABELS = {"new": "New escalation", "urgent": "Escalation now URGENT", "callback": "Callback requested"}
TIMEOUT_S = 10.0


def plain(value: object) -> str:
    """A value as plain text for chat tools and mail: no markup (``<!channel>``, ``<url|x>``,
    ``&``), no control characters, at most 40 characters."""
    text = "".join(ch for ch in str(value) if ch.isprintable() and ch not in "<>&*_`~|")
    return text[:40]


def summary(record: EscalationRecord, event: str, config: EscalationConfig) -> tuple[str, str]:
    """Subject line and body text of a notification (no personal data)."""
    urgent = "URGENT: " if record["urgent"] else ""
    subject = f"[MesoGuide] {urgent}{EVENT_LABELS.get(event, event)} {record['reference']}"
    lines = [
        f"{urgent}{EVENT_LABELS.get(event, event)}: {record['reference']}",
        f"Reason: {REASON_LABELS.get(record['reason'], record['reason'])}",
        f"Channel: {plain(record['channel'])}",
        f"Created: {record['created_at']:%Y-%m-%d %H:%M} UTC",
    ]
    if event == "callback" and record["callback_time"]:
        lines.append("The patient asked for a callback (details in the dashboard).")
    lines.append(f"Open: {config.dashboard_url}/escalations/{record['reference']}")
    if record["urgent"]:
        lines.insert(
            0, "URGENT - the patient was told to call the clinic now (the out-of-hours line when closed) or the emergency number."
        )
    return subject, "\n".join(lines)


def webhook_payload(record: EscalationRecord, event: str, config: EscalationConfig) -> dict:
    """JSON for Slack and Teams incoming webhooks (both read ``text``) plus machine fields."""
    _, body = summary(record, event, config)
    return {
        "text": body,
        "mesoguide": {
            "event": event,
            "reference": record["reference"],
            "reason": record["reason"],
            "urgent": record["urgent"],
            "status": record["status"],
            "url": f"{config.dashboard_url}/escalations/{record['reference']}",
        },
    }


def send_webhook(record: EscalationRecord, event: str, config: EscalationConfig) -> None:
    """POSTs the notification; raises on anything but a 2xx answer."""
    if not config.webhook_url:
        raise RuntimeError("MESOGUIDE_NOTIFY_WEBHOOK_URL is not set")
    request = urllib.request.Request(
        config.webhook_url,
        data=json.dumps(webhook_payload(record, event, config)).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        if not 200 <= response.status < 300:
            raise RuntimeError(f"webhook answered HTTP {response.status}")


def send_email(record: EscalationRecord, event: str, config: EscalationConfig) -> None:
    """Sends the notification by SMTP; urgent ones get a high-priority header."""
    if not config.smtp_host or not config.email_to:
        raise RuntimeError("MESOGUIDE_SMTP_HOST and MESOGUIDE_NOTIFY_EMAIL_TO must be set")
    subject, body = summary(record, event, config)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.email_from
    message["To"] = ", ".join(config.email_to)
    if record["urgent"]:
        message["X-Priority"] = "1"
        message["Importance"] = "high"
    message.set_content(body)
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=TIMEOUT_S) as smtp:
        if config.smtp_starttls:
            # Verified: without a context smtplib accepts any certificate, and the password and
            # the notification would go to whoever sits in between.
            smtp.starttls(context=ssl.create_default_context(cafile=config.smtp_ca_file))
        if config.smtp_user:
            smtp.login(config.smtp_user, config.smtp_password or "")
        smtp.send_message(message)


SENDERS = {"webhook": send_webhook, "email": send_email}


def retry_delay(attempts: int, config: EscalationConfig) -> float:
    """Back-off after the ``attempts``-th failure: base, 2x base, 4x base, ... up to the max."""
    return min(config.retry_base_s * (2 ** max(0, attempts - 1)), config.retry_max_s)


def deliver_due(store: EscalationStore, config: EscalationConfig) -> tuple[int, int]:
    """Tries every due notification once; returns (delivered, failed)."""
    delivered = failed = 0
    for item in store.due_notifications():
        error = _deliver(store, item, config)
        if error is None:
            store.mark_delivered(item["id"])
            delivered += 1
            continue
        delay = retry_delay(item["attempts"] + 1, config)
        store.mark_failed(item["id"], error, retry_in_s=delay)
        logger.warning(
            "notification %d (%s, escalation %d) failed (attempt %d): %s; retrying in %.0f s",
            item["id"], item["channel"], item["escalation_id"], item["attempts"] + 1, error, delay,
        )
        failed += 1
    return delivered, failed


def _deliver(store: EscalationStore, item: OutboxItem, config: EscalationConfig) -> str | None:
    sender = SENDERS.get(item["channel"])
    if sender is None:
        return f"unknown channel {item['channel']!r}"
    try:
        record = store.get_by_id(item["escalation_id"])
        sender(record, item["event"], config)
    except EscalationNotFound as exc:
        return str(exc)
    except (OSError, smtplib.SMTPException, urllib.error.URLError, RuntimeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def run_forever(store: EscalationStore, config: EscalationConfig, *, poll_s: float = 1.0) -> None:
    """The notifier process: deliver what is due, sleep, repeat (Ctrl-C/SIGTERM stops it)."""
    logger.info("notifier: channels %s, polling every %.1f s", ", ".join(config.notify_channels) or "none", poll_s)
    while True:
        try:
            deliver_due(store, config)
        except Exception:  # a database hiccup must not end delivery for good
            logger.exception("notifier: delivery round failed; trying again")
        time.sleep(poll_s)
