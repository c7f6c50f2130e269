"""Channels without a server: credentials from env, inbound authentication, text-only output."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from twilio.request_validator import RequestValidator

from mesoguide.channels.credentials import TELEGRAM, TWILIO, WEBCHAT, ChannelConfigError, channel_credentials, write_credentials
from mesoguide.channels.telegram import SECRET_HEADER, SignedTelegramInput, TextTelegramOutput
from mesoguide.channels.text_only import (
    CHOOSE_HINT,
    choice_payload,
    last_offered_buttons,
    numbered_options,
    split_text,
)
from mesoguide.channels.twilio import SIGNATURE_HEADER, SignedTwilioInput, TextTwilioOutput
from mesoguide.channels.webchat import WebchatOutput
from mesoguide.reply_meta import ReplyMeta, custom_payload

BUTTONS = [{"title": "Pain", "payload": "/ask_pain"}, {"title": "Cost", "payload": "/ask_cost"}]
URL = "https://clinic.example/webhooks/twilio/webhook"


class FakeRequest:
    def __init__(self, headers: dict[str, str], form: dict[str, str] | None = None, url: str = URL) -> None:
        self.headers = headers
        self.body = urlencode(form or {}).encode()
        self.url = url


# --- credentials from the environment -------------------------------------------------------

def test_only_rest_and_widget_without_channel_variables() -> None:
    credentials = channel_credentials({})
    assert list(credentials) == ["rest", WEBCHAT]
    assert credentials[WEBCHAT]["session_persistence"] is True


def test_channels_turn_on_from_their_variables() -> None:
    env = {
        "TELEGRAM_ACCESS_TOKEN": "1:abc", "TELEGRAM_SECRET_TOKEN": "s3cret_-",
        "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "tok", "TWILIO_API_URL": "http://127.0.0.1:1",
    }
    credentials = channel_credentials(env)
    assert credentials[TELEGRAM]["secret_token"] == "s3cret_-"
    assert credentials[TWILIO]["api_url"] == "http://127.0.0.1:1"
    assert credentials[TELEGRAM]["api_url"] is None, "default: the real provider"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"TELEGRAM_ACCESS_TOKEN": "1:abc"}, "TELEGRAM_SECRET_TOKEN"),
        ({"TELEGRAM_ACCESS_TOKEN": "1:abc", "TELEGRAM_SECRET_TOKEN": "has space"}, "TELEGRAM_SECRET_TOKEN"),
        ({"TWILIO_ACCOUNT_SID": "AC1"}, "TWILIO_AUTH_TOKEN"),
    ],
)
def test_half_configured_channel_is_an_error_naming_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ChannelConfigError, match=names):
        channel_credentials(env)


def test_credentials_file_is_private(tmp_path) -> None:
    path = tmp_path / "build" / "credentials.yml"
    on = write_credentials(path, {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "tok"})
    assert on == ["rest", "webchat", "twilio"]
    assert path.stat().st_mode & 0o077 == 0
    assert yaml.safe_load(path.read_text())[TWILIO]["auth_token"] == "tok"


# --- inbound authentication -----------------------------------------------------------------

def telegram_input() -> SignedTelegramInput:
    return SignedTelegramInput(access_token="1:abc", secret_token="right-secret")


@pytest.mark.parametrize(
    ("headers", "ok"),
    [
        ({SECRET_HEADER: "right-secret"}, True),
        ({SECRET_HEADER: "wrong-secret"}, False),
        ({SECRET_HEADER: "right-secret "}, False),
        ({SECRET_HEADER: ""}, False),
        ({}, False),
    ],
)
def test_telegram_secret_token(headers: dict[str, str], ok: bool) -> None:
    assert telegram_input().is_authentic(FakeRequest(headers)) is ok


def test_telegram_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="TELEGRAM_SECRET_TOKEN"):
        SignedTelegramInput.from_credentials({"access_token": "1:abc"})


def twilio_input(webhook_url: str | None = URL) -> SignedTwilioInput:
    return SignedTwilioInput(account_sid="AC1", auth_token="secret-token", webhook_url=webhook_url)


FORM = {"From": "+15551234567", "To": "+15005550006", "Body": "does it hurt?", "ToCity": ""}  # empty fields are signed too


def sign(form: dict[str, str], url: str = URL, token: str = "secret-token") -> str:
    return RequestValidator(token).compute_signature(url, form)


def test_twilio_valid_signature() -> None:
    assert twilio_input().is_authentic(FakeRequest({SIGNATURE_HEADER: sign(FORM)}, FORM, url="http://127.0.0.1:9/x"))


@pytest.mark.parametrize(
    "headers_form",
    [
        ({}, FORM),  # no signature
        ({SIGNATURE_HEADER: sign(FORM, token="other-token")}, FORM),  # another account's token
        ({SIGNATURE_HEADER: sign(FORM)}, {**FORM, "Body": "changed"}),  # body changed after signing
        ({SIGNATURE_HEADER: sign(FORM, url="https://evil.example/hook")}, FORM),  # signed for another URL
    ],
)
def test_twilio_invalid_signatures(headers_form: tuple[dict[str, str], dict[str, str]]) -> None:
    headers, form = headers_form
    assert not twilio_input().is_authentic(FakeRequest(headers, form))


def test_twilio_without_webhook_url_signs_the_request_url() -> None:
    url = "http://127.0.0.1:5005/webhooks/twilio/webhook"
    request = FakeRequest({SIGNATURE_HEADER: sign(FORM, url=url)}, FORM, url=url)
    assert twilio_input(webhook_url=None).is_authentic(request)


# --- buttons on text-only channels ----------------------------------------------------------

def test_numbered_options() -> None:
    assert numbered_options("Pick one:", BUTTONS) == f"Pick one:\n\n1. Pain\n2. Cost\n{CHOOSE_HINT}"
    assert numbered_options("No buttons", []) == "No buttons"


@pytest.mark.parametrize(
    ("text", "payload"),
    [("1", "/ask_pain"), (" 2 ", "/ask_cost"), ("2.", "/ask_cost"), ("3", None), ("0", None), ("1 session", None), ("", None)],
)
def test_choice_payload(text: str, payload: str | None) -> None:
    assert choice_payload(text, BUTTONS) == payload


def test_last_offered_buttons_forgotten_after_the_next_message() -> None:
    bot = {"event": "bot", "text": "x", "data": {"buttons": BUTTONS}}
    assert last_offered_buttons([{"event": "user"}, bot, {"event": "slot"}]) == BUTTONS
    assert last_offered_buttons([bot, {"event": "user"}]) == []
    assert last_offered_buttons([]) == []


def test_split_text_keeps_words_and_limit() -> None:
    text = " ".join(["word"] * 1000)
    pieces = split_text(text, 100)
    assert all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces) == text
    assert split_text("short", 100) == ["short"]
    assert split_text("", 100) == []
    assert split_text("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]


# --- output: the widget payload reaches the widget only -------------------------------------

META = custom_payload(ReplyMeta(outcome="escalate:red_flag", urgent=True, reference=None, language="en"))


class RecordingTwilio(TextTwilioOutput):
    def __init__(self) -> None:
        super().__init__("AC1", "tok", "+15005550006", reply_from="whatsapp:+14155238886")
        self.sent: list[dict[str, Any]] = []

    async def _send_message(self, message_data: dict[str, Any]) -> Any:
        self.sent.append(message_data)


def test_twilio_output_numbers_buttons_and_drops_custom_payload() -> None:
    out = RecordingTwilio()
    asyncio.run(out.send_response("whatsapp:+1555", {"text": "First.\n\nPick:", "buttons": BUTTONS, "custom": META}))
    assert [m["body"] for m in out.sent] == ["First.", f"Pick:\n1. Pain\n2. Cost\n{CHOOSE_HINT}"]
    assert all(m["from_"] == "whatsapp:+14155238886" for m in out.sent)


class RecordingTelegram(TextTelegramOutput):
    def __init__(self) -> None:
        super().__init__("123:abc", api_url="http://127.0.0.1:9")
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send_message(self, chat_id: Any, text: str, **kwargs: Any) -> None:
        self.sent.append((text, kwargs))


def test_telegram_output_drops_custom_payload_and_splits_long_text() -> None:
    out = RecordingTelegram()
    asyncio.run(out.send_response("42", {"text": "Urgent text.", "custom": META}))
    assert [t for t, _ in out.sent] == ["Urgent text."]
    out.sent.clear()
    asyncio.run(out.send_text_message("42", "word " * 2000))
    assert len(out.sent) == 3 and all(len(t) <= 4096 for t, _ in out.sent)
    assert out.server.base.startswith("http://127.0.0.1:9/"), "the configured API base is used"


class FakeSio:
    def __init__(self) -> None:
        self.emitted: list[tuple[str, Any, dict[str, Any]]] = []

    async def emit(self, event: str, data: Any = None, **kwargs: Any) -> None:
        self.emitted.append((event, data, kwargs))


def test_webchat_output_sends_the_payload_as_its_own_event() -> None:
    sio = FakeSio()
    asyncio.run(WebchatOutput(sio, "bot_uttered").send_response("s1", {"text": "A.\n\nB.", "custom": META}))
    assert [d for _, d, _ in sio.emitted] == [{"text": "A."}, {"text": "B."}, {"custom": META}]
    assert all(kw["room"] == "s1" for _, _, kw in sio.emitted)
