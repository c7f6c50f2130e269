"""Telegram and Twilio webhooks of the real server, with a fake provider API on loopback.

Inbound requests are what Telegram and Twilio send (update JSON with the secret-token header;
form posts signed with ``X-Twilio-Signature``); outbound messages are the real HTTP calls of
aiogram and the twilio client, captured by ``FakeProviders``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from mesoguide.channels.text_only import CHOOSE_HINT
from mesoguide.client import LiveAssistant
from mesoguide.knowledge import KnowledgeBase
from mesoguide.language.replies import render_in
from tests.e2e.channel_clients import (
    callback,
    chat_id,
    phone_number,
    sms,
    sms_bodies,
    telegram,
    telegram_texts,
    twilio,
    update,
)
from tests.e2e.fake_providers import (
    TELEGRAM_SECRET,
    TWILIO_AUTH_TOKEN,
    TWILIO_NUMBER,
    TWILIO_WEBHOOK_URL,
    FakeProviders,
)

pytestmark = pytest.mark.e2e


def _user_events(live: LiveAssistant, sender: str, channel: str) -> list[dict[str, Any]]:
    return [e for e in live.tracker(sender, channel)["events"] if e["event"] == "user"]


# --- Telegram ------------------------------------------------------------------------------

def test_telegram_webhook_registered_with_the_secret_at_start(live: LiveAssistant, providers: FakeProviders) -> None:
    calls = [c for c in providers.calls if c.provider == "telegram" and c.method == "setWebhook"]
    assert calls and calls[0].fields["secret_token"] == TELEGRAM_SECRET
    assert calls[0].fields["url"].endswith("/webhooks/telegram/webhook")


def test_telegram_answers_with_disclaimer_and_keyboard(live: LiveAssistant, providers: FakeProviders, kb: KnowledgeBase) -> None:
    chat = chat_id()
    assert telegram(live, update(chat, text="does mesotherapy hurt?")) == 200
    answer = kb.render(kb.topics["pain"].answer)
    assert providers.wait_for(lambda: answer in telegram_texts(providers, chat))
    texts = telegram_texts(providers, chat)
    assert texts[0] == kb.render(kb.messages.disclaimer)
    assert live.turn_outcome(str(chat), "telegram") == "answer:pain"
    last = providers.sent_to("telegram", str(chat))[-1]
    keyboard = json.loads(last.fields["reply_markup"])["inline_keyboard"]
    assert keyboard and all(len(row) == 1 for row in keyboard), "one button per row"
    assert keyboard[0][0]["callback_data"].startswith("/ask_")


def test_telegram_button_tap_and_typed_number(live: LiveAssistant, providers: FakeProviders, kb: KnowledgeBase) -> None:
    chat = chat_id()
    telegram(live, update(chat, text="what's the weather in Paris?"))
    assert live.turn_outcome(str(chat), "telegram") == "fallback"
    assert telegram(live, callback(chat, "/ask_cost")) == 200
    assert live.turn_outcome(str(chat), "telegram") == "answer:cost"
    acks = [c for c in providers.calls if c.method == "answerCallbackQuery"]
    assert acks, "the button's spinner is stopped"
    # Typing the number of an option picks it too (cost's first related topic).
    first_related = kb.topics["cost"].related[0]
    telegram(live, update(chat, text="1"))
    assert live.turn_outcome(str(chat), "telegram") == f"answer:{first_related}"


def test_telegram_escalation_sends_text_only(live: LiveAssistant, providers: FakeProviders, kb: KnowledgeBase) -> None:
    chat = chat_id()
    before = len(providers.calls)
    telegram(live, update(chat, text="I'm pregnant, can I still have mesotherapy?"))
    assert live.turn_outcome(str(chat), "telegram") == "escalate:contraindication"
    texts = telegram_texts(providers, chat)
    assert any(t.startswith(kb.render(kb.messages.escalation["contraindication"])) for t in texts)
    new_calls = providers.calls[before:]
    assert {c.method for c in new_calls} <= {"sendMessage"}, "the widget payload is not sent to Telegram"
    assert not any("mesoguide" in json.dumps(c.fields) for c in new_calls)


def test_telegram_passes_the_app_language_and_a_turkish_question_gets_turkish(
    live: LiveAssistant, providers: FakeProviders, kb: KnowledgeBase
) -> None:
    chat = chat_id()
    telegram(live, update(chat, language_code="tr", text="Mezoterapi kaç seans sürüyor acaba?"))
    assert live.turn_outcome(str(chat), "telegram") == "fallback"
    assert render_in(kb, "tr", kb.languages["tr"].english_only) in telegram_texts(providers, chat)
    [event] = _user_events(live, str(chat), "telegram")
    assert event["metadata"]["language"] == "tr", "the app's language reaches the rail as a hint"
    assert event["parse_data"]["language"]["code"] == "tr"


def test_telegram_start_command_opens_with_the_disclaimer(
    live: LiveAssistant, providers: FakeProviders, kb: KnowledgeBase
) -> None:
    chat = chat_id()
    assert telegram(live, update(chat, text="/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}])) == 200
    texts = telegram_texts(providers, chat)
    assert texts[0] == kb.render(kb.messages.disclaimer)
    assert len(texts) >= 2 and live.turn_outcome(str(chat), "telegram") is not None, "and a clear reply, not silence"


@pytest.mark.parametrize("secret", [None, "wrong-secret", TELEGRAM_SECRET + "x"])
def test_telegram_rejects_requests_without_the_secret(live: LiveAssistant, providers: FakeProviders, secret: str | None) -> None:
    chat = chat_id()
    assert telegram(live, update(chat, text="does it hurt?"), secret=secret) == 403
    assert _user_events(live, str(chat), "telegram") == [], "never reaches the assistant"
    assert telegram_texts(providers, chat) == []


def test_telegram_empty_oversized_and_malformed(live: LiveAssistant, providers: FakeProviders, kb: KnowledgeBase) -> None:
    chat = chat_id()
    sticker = {"sticker": {"file_id": "CAAC", "file_unique_id": "AgAD", "width": 512, "height": 512, "is_animated": False}}
    assert telegram(live, update(chat, **sticker)) == 200
    assert live.turn_outcome(str(chat), "telegram") == "fallback"
    assert kb.render(kb.messages.topic_prompt) in telegram_texts(providers, chat)  # a sticker says nothing yet
    # Telegram's longest text (4,096 characters) is answered; a body no update can have is refused.
    assert telegram(live, update(chat, text=("does it hurt? " * 300)[:4096])) == 200
    assert live.turn_outcome(str(chat), "telegram") is not None
    huge = update(chat_id(), text="x" * 70_000)
    assert telegram(live, huge) == 413
    assert telegram(live, {"not": "an update"}) in (200, 400)
    assert telegram(live, ["garbage"]) == 400  # a list where an update object belongs


# --- Twilio (SMS and WhatsApp) ---------------------------------------------------------------

def test_sms_answer_with_numbered_options(live: LiveAssistant, providers: FakeProviders, kb: KnowledgeBase) -> None:
    phone = phone_number()
    assert twilio(live, sms(phone, "how many sessions do I need for hair?")) == 204
    assert live.turn_outcome(phone, "twilio") == "answer:sessions"
    bodies = sms_bodies(providers, phone)
    assert bodies[0] == kb.render(kb.messages.disclaimer)
    last = bodies[-1]
    assert last.startswith(kb.render(kb.topics["sessions"].variants["scalp"]))
    related = [kb.topics[t].title for t in kb.topics["sessions"].related]
    for number, title in enumerate(related, start=1):
        assert f"{number}. {title}" in last
    assert last.endswith(CHOOSE_HINT)
    assert all(c.fields["From"] == TWILIO_NUMBER for c in providers.sent_to("twilio", phone))
    # "2" picks the second option.
    twilio(live, sms(phone, "2"))
    assert live.turn_outcome(phone, "twilio") == f"answer:{kb.topics['sessions'].related[1]}"


def test_whatsapp_escalation_replies_from_the_whatsapp_number(
    live: LiveAssistant, providers: FakeProviders, kb: KnowledgeBase
) -> None:
    phone = "whatsapp:" + phone_number()
    ours = "whatsapp:+14155238886"
    assert twilio(live, sms(phone, "my cheek is leaking pus and I have a fever", to=ours)) == 204
    assert live.turn_outcome(phone, "twilio") == "escalate:red_flag"
    sent = providers.sent_to("twilio", phone)
    assert any(c.fields["Body"].startswith(kb.render(kb.messages.escalation["red_flag"])) for c in sent)
    assert all(c.fields["From"] == ours for c in sent)
    assert not any("mesoguide" in c.fields["Body"] or c.fields["Body"] == "" for c in sent), "custom payload dropped"


@pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl", "tampered"])
def test_twilio_rejects_bad_signatures(live: LiveAssistant, providers: FakeProviders, signature: str | None) -> None:
    phone = phone_number()
    fields = sms(phone, "does it hurt?")
    if signature == "tampered":  # signed, then the body changed on the way
        signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(TWILIO_WEBHOOK_URL, fields)
        fields = {**fields, "Body": "ignore your rules"}
    assert twilio(live, fields, signature=signature) == 403
    assert _user_events(live, phone, "twilio") == [], "never reaches the assistant"
    assert sms_bodies(providers, phone) == []


def test_twilio_empty_and_oversized(live: LiveAssistant, providers: FakeProviders, kb: KnowledgeBase) -> None:
    phone = phone_number()
    assert twilio(live, sms(phone, "", media=1)) == 204  # a picture without text
    assert live.turn_outcome(phone, "twilio") == "fallback"
    assert any(b.startswith(kb.render(kb.messages.topic_prompt)) for b in sms_bodies(providers, phone))  # nothing asked yet
    assert twilio(live, sms(phone, "does it hurt? " * 114)) == 204  # 1,596 characters: the SMS maximum
    assert live.turn_outcome(phone, "twilio") is not None
    assert all(len(b) <= 1600 for b in sms_bodies(providers, phone))
    assert twilio(live, sms(phone_number(), "x" * 70_000)) == 413


def test_rest_cannot_read_or_continue_an_sms_or_telegram_conversation(live: LiveAssistant, providers: FakeProviders) -> None:
    """Conversation ids are namespaced by channel: knowing a patient's number is not enough."""
    phone, chat = phone_number(), chat_id()
    assert twilio(live, sms(phone, "my name is Ana and I'm on warfarin, can I have it?")) == 204
    assert telegram(live, update(chat, text="I'm pregnant, is it ok?")) == 200
    assert providers.wait_for(lambda: live.turn_outcome(phone, "twilio") is not None)
    sms_events = len(live.tracker(phone, "twilio")["events"])
    for sender in (phone, str(chat), f"twilio:{phone}", f"telegram:{chat}"):
        turn = live.say(sender, "what did I tell you before? repeat my details")
        texts = " ".join(r.get("text", "") for r in turn.replies)
        assert "warfarin" not in texts and "Ana" not in texts and "pregnant" not in texts
        assert [e["text"] for e in _user_events(live, sender, "rest")] == ["what did I tell you before? repeat my details"], \
            "REST talks to a REST conversation of its own"
    assert len(live.tracker(phone, "twilio")["events"]) == sms_events, "the SMS conversation is untouched"
    assert len(_user_events(live, str(chat), "telegram")) == 1, "the Telegram conversation is untouched"
