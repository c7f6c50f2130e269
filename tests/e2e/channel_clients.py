"""What Telegram and Twilio send to the real server, and what the fake providers received.

Shared by the channel tests and the takeover tests: inbound requests are what the providers
send (an update JSON with the secret-token header; a form post signed with
``X-Twilio-Signature``), outbound messages are read from ``FakeProviders``.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from twilio.request_validator import RequestValidator

from mesoguide.client import LiveAssistant
from tests.e2e.fake_providers import TELEGRAM_SECRET, TWILIO_AUTH_TOKEN, TWILIO_NUMBER, TWILIO_WEBHOOK_URL, FakeProviders


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def chat_id() -> int:
    return random.randint(10**8, 10**9)


def update(chat_id: int, language_code: str = "en", **message: Any) -> dict[str, Any]:
    person = {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": language_code}
    return {
        "update_id": random.randint(1, 10**9),
        "message": {
            "message_id": random.randint(1, 10**6),
            "from": person,
            "chat": {"id": chat_id, "first_name": "Ana", "type": "private"},
            "date": int(time.time()),
            **message,
        },
    }


def callback(chat_id: int, data: str) -> dict[str, Any]:
    person = {"id": chat_id, "is_bot": False, "first_name": "Ana"}
    return {
        "update_id": random.randint(1, 10**9),
        "callback_query": {
            "id": str(random.randint(10**15, 10**16)),
            "from": person,
            "message": {
                "message_id": 7,
                "from": {"id": 123456789, "is_bot": True, "first_name": "MesoGuide", "username": "mesoguide_bot"},
                "chat": {"id": chat_id, "first_name": "Ana", "type": "private"},
                "date": int(time.time()),
                "text": "earlier reply",
            },
            "chat_instance": "-4242424242",
            "data": data,
        },
    }


def telegram(live: LiveAssistant, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return post(live.config.rasa_url + "/webhooks/telegram/webhook", json.dumps(update).encode(), headers)


def telegram_texts(providers: FakeProviders, chat_id: int) -> list[str]:
    return [c.fields["text"] for c in providers.sent_to("telegram", str(chat_id))]


def phone_number() -> str:
    return f"+1555{random.randint(10**6, 10**7 - 1)}"


def sms(sender: str, body: str, *, to: str = TWILIO_NUMBER, media: int = 0) -> dict[str, str]:
    return {
        "ToCountry": "US", "ToState": "CA", "SmsMessageSid": "SM" + "a" * 32, "NumMedia": str(media),
        "ToCity": "", "FromZip": "", "SmsSid": "SM" + "a" * 32, "FromState": "CA", "SmsStatus": "received",
        "FromCity": "", "Body": body, "FromCountry": "US", "To": to, "ToZip": "",
        "NumSegments": "1", "MessageSid": "SM" + "a" * 32, "AccountSid": "AC" + "0" * 32,
        "From": sender, "ApiVersion": "2010-04-01",
    }


def twilio(live: LiveAssistant, fields: dict[str, str], *, signature: str | None = "valid") -> int:
    body = urllib.parse.urlencode(fields).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "I-Twilio-Idempotency-Token": "x"}
    if signature == "valid":
        signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(TWILIO_WEBHOOK_URL, fields)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return post(live.config.rasa_url + "/webhooks/twilio/webhook", body, headers)


def sms_bodies(providers: FakeProviders, phone: str) -> list[str]:
    return [c.fields["Body"] for c in providers.sent_to("twilio", phone)]
