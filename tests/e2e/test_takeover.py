"""Staff take over a live conversation, against the real stack (Rasa server, action server,
dashboard, notifier), over Telegram and Twilio (fake provider APIs on loopback, real HTTP) and
in two real browser pages at once (the patient's widget and a staff member's dashboard).

What a clinic relies on: the assistant is quiet while a person has the chat, the patient is told
who joined and left, staff messages reach the patient's own channel with the staff member's
name, a red flag typed during a takeover still gets the urgent text at once and an urgent
record, the transcript says who said what, and the assistant answers again after the hand-back.
Screenshots: ``build/test-output/takeover/``.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mesoguide.client import LiveAssistant
from mesoguide.escalations.store import EscalationStore
from mesoguide.knowledge import KnowledgeBase
from mesoguide.paths import REPO_ROOT
from mesoguide.stack import Stack
from tests.e2e.channel_clients import chat_id, phone_number, sms, sms_bodies, telegram, telegram_texts, twilio, update
from tests.e2e.fake_providers import FakeProviders
from tests.support.axe import serious_violations
from tests.support.browser import chromium
from tests.support.staff_client import StaffClient

pytestmark = pytest.mark.e2e

SHOTS = REPO_ROOT / "build" / "test-output" / "takeover"
STAFF = {"anna": "anna's long staff password", "ben": "ben's long staff password"}
RED_FLAG = "my cheek is swollen and hot, I have a fever and there is pus"


@pytest.fixture(scope="module")
def staff_users(store: EscalationStore) -> dict[str, str]:
    for user, password in STAFF.items():
        store.set_user(user, password)
    return STAFF


@pytest.fixture
def anna(live_stack: Stack, staff_users: dict[str, str]) -> StaffClient:
    return StaffClient(live_stack.config.dashboard_port).login("anna", staff_users["anna"])


@pytest.fixture
def ben(live_stack: Stack, staff_users: dict[str, str]) -> StaffClient:
    return StaffClient(live_stack.config.dashboard_port).login("ben", staff_users["ben"])


def lines(staff: StaffClient, cid: str) -> list[dict]:
    reply = staff.get(f"/chat/lines?c={urllib.parse.quote(cid, safe='')}&after=-1")
    assert reply.status == 200, reply.text
    return reply.json()["lines"]


def paused(live: LiveAssistant, sender: str, channel: str) -> bool:
    return bool(live.tracker(sender, channel)["paused"])


def test_telegram_takeover_red_flag_and_hand_back(
    live: LiveAssistant, providers: FakeProviders, kb: KnowledgeBase, store: EscalationStore, anna: StaffClient
) -> None:
    chat = chat_id()
    cid = f"telegram:{chat}"
    assert telegram(live, update(chat, text="can I talk to someone about booking?")) == 200
    assert live.turn_outcome(str(chat), "telegram") == "escalate:human"

    # The conversation is listed live, escalated, with the assistant answering it.
    listing = anna.get("/live")
    assert listing.status == 200 and urllib.parse.quote(cid, safe="") in listing.text

    assert anna.post("/chat/takeover", {"c": cid, "name": "Anna"}).status == 302
    joined = kb.render(kb.messages.staff["joined"], staff_name="Anna")
    assert providers.wait_for(lambda: joined in telegram_texts(providers, str(chat)))
    assert paused(live, str(chat), "telegram")

    assert anna.post("/chat/send", {"c": cid, "text": "Hello, I can book you in. Which day suits you?"}).status == 302
    signed = "Anna: Hello, I can book you in. Which day suits you?"
    assert providers.wait_for(lambda: signed in telegram_texts(providers, str(chat)))

    # The patient answers: the assistant stays quiet (the webhook returns once it was handled).
    sent_before = len(telegram_texts(providers, str(chat)))
    assert telegram(live, update(chat, text="Tuesday afternoon please, does it hurt much?")) == 200
    assert len(telegram_texts(providers, str(chat))) == sent_before, "the assistant answered during a takeover"
    assert live.turn_outcome(str(chat), "telegram") == "handoff"
    assert any(line["text"] == "Tuesday afternoon please, does it hurt much?" for line in lines(anna, cid))

    # A red flag during the takeover: the urgent text at once, an urgent record and notification.
    assert telegram(live, update(chat, text=RED_FLAG)) == 200
    urgent = kb.render(kb.messages.escalation["red_flag"])
    assert any(text.startswith(urgent.split("\n\n")[0]) for text in telegram_texts(providers, str(chat)))
    record = next(r for r in store.list() if r["conversation_id"] == cid)
    assert record["urgent"] and record["reason"] == "red_flag"
    assert any(item["event"] == "urgent" for item in store.outbox_items(record["id"])), "the clinic is told it is urgent"
    assert live.turn_outcome(str(chat), "telegram") == "escalate:red_flag"
    assert paused(live, str(chat), "telegram"), "the takeover goes on: staff see the red flag in the chat"

    # The transcript says who said what.
    speakers = [(line["speaker"], line["who"]) for line in lines(anna, cid)]
    assert ("staff", "Anna") in speakers and ("patient", "Patient") in speakers and ("assistant", "Assistant") in speakers
    assert ("event", "") in speakers  # the pause

    assert anna.post("/chat/handback", {"c": cid}).status == 302
    left = kb.render(kb.messages.staff["left"], staff_name="Anna")
    assert providers.wait_for(lambda: left in telegram_texts(providers, str(chat)))
    assert not paused(live, str(chat), "telegram")
    assert telegram(live, update(chat, text="does mesotherapy hurt?")) == 200
    assert live.turn_outcome(str(chat), "telegram") == "answer:pain"


def age_conversation(stack: Stack, cid: str, *, hours: float) -> None:
    """Move a conversation's events ``hours`` into the past in the tracker store (as Rasa reads
    them back: the column and the event's own JSON), as if the patient had been away."""
    engine = sa.create_engine(stack.config.env["MESOGUIDE_TRACKER_URL"])
    events = sa.Table("events", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        for row in conn.execute(sa.select(events.c.id, events.c.data).where(events.c.sender_id == cid)).all():
            data = json.loads(row.data)
            data["timestamp"] -= hours * 3600
            conn.execute(events.update().where(events.c.id == row.id).values(timestamp=data["timestamp"], data=json.dumps(data)))


def test_whatsapp_takeover_goes_from_the_whatsapp_number(
    live: LiveAssistant, live_stack: Stack, providers: FakeProviders, kb: KnowledgeBase, anna: StaffClient
) -> None:
    phone = "whatsapp:" + phone_number()
    ours = "whatsapp:+14155238886"
    assert twilio(live, sms(phone, "how long does the swelling last?", to=ours)) == 204
    cid = f"twilio:{phone}"
    assert anna.post("/chat/takeover", {"c": cid, "name": "Anna"}).status == 302
    assert anna.post("/chat/send", {"c": cid, "text": "Usually a day or two. Any other questions?"}).status == 302
    assert providers.wait_for(lambda: "Anna: Usually a day or two. Any other questions?" in sms_bodies(providers, phone))
    staff_messages = [c for c in providers.sent_to("twilio", phone) if c.fields["Body"].startswith(("Anna", "Anna:"))]
    assert staff_messages and all(c.fields["From"].startswith("whatsapp:") for c in staff_messages)
    sent_before = len(sms_bodies(providers, phone))
    assert twilio(live, sms(phone, "no thanks, bye", to=ours)) == 204
    assert len(sms_bodies(providers, phone)) == sent_before, "the assistant answered during a takeover"

    # The patient comes back after more than an hour: a new Rasa session starts, and stays paused.
    age_conversation(live_stack, cid, hours=2)
    assert twilio(live, sms(phone, "sorry, I was away. Thursday works", to=ours)) == 204
    events = live.tracker(phone, "twilio")["events"]
    assert [e["event"] for e in events].count("session_started") == 2, "a second session started"
    assert live.turn_outcome(phone, "twilio") == "handoff" and live.tracker(phone, "twilio")["paused"]
    assert len(sms_bodies(providers, phone)) == sent_before, "no disclaimer, no answer: Anna still has the chat"
    assert anna.post("/chat/handback", {"c": cid}).status == 302
    assert providers.wait_for(lambda: kb.render(kb.messages.staff["left"], staff_name="Anna") in sms_bodies(providers, phone))


def test_sms_takeover_and_one_person_at_a_time(
    live: LiveAssistant, providers: FakeProviders, kb: KnowledgeBase, anna: StaffClient, ben: StaffClient
) -> None:
    phone = phone_number()
    assert twilio(live, sms(phone, "I'm pregnant, can I have mesotherapy?")) == 204
    cid = f"twilio:{phone}"
    assert anna.post("/chat/takeover", {"c": cid, "name": "Anna"}).status == 302
    assert providers.wait_for(lambda: kb.render(kb.messages.staff["joined"], staff_name="Anna") in sms_bodies(providers, phone))

    # Ben sees who has it and cannot write in Anna's chat or take it from her.
    page = ben.get(f"/chat?c={urllib.parse.quote(cid, safe='')}")
    assert page.status == 200 and "Anna (anna) has this chat" in page.text and 'action="/chat/send"' not in page.text
    refused = ben.post("/chat/send", {"c": cid, "text": "hi from Ben"})
    assert refused.status == 409 and "Anna (anna) has this conversation" in refused.text
    assert ben.post("/chat/takeover", {"c": cid, "name": "Ben"}).status == 409
    assert not any("hi from Ben" in b for b in sms_bodies(providers, phone))

    # An empty or oversized message is refused with a reason; nothing is sent.
    assert "Write a message first" in anna.post("/chat/send", {"c": cid, "text": "   "}).text
    assert "under 1000 characters" in anna.post("/chat/send", {"c": cid, "text": "x" * 1001}).text

    # The live list puts the escalated conversation first with who has it.
    listing = ben.get("/live").text
    assert "Anna (anna)" in listing
    # Ben may hand back a chat Anna left paused: the patient hears Anna has left.
    assert ben.post("/chat/handback", {"c": cid}).status == 302
    assert providers.wait_for(lambda: kb.render(kb.messages.staff["left"], staff_name="Anna") in sms_bodies(providers, phone))


def test_rest_conversations_cannot_be_taken_over(live: LiveAssistant, anna: StaffClient) -> None:
    live.say("takeover-rest", "does it hurt?")
    reply = anna.post("/chat/takeover", {"c": "rest:takeover-rest", "name": "Anna"})
    assert reply.status == 409 and "cannot receive messages from staff" in reply.text
    assert not live.tracker("takeover-rest")["paused"]
    assert anna.get("/chat/lines?c=rest%3Atakeover-rest&after=-1").status == 200
    assert anna.post("/chat/takeover", {"c": "telegram:1", "name": "Anna"}).status == 409  # no such conversation


def test_the_chat_pages_need_a_login(live_stack: Stack) -> None:
    nobody = StaffClient(live_stack.config.dashboard_port)
    assert nobody.get("/live").status == 302
    assert nobody.get("/chat?c=rest%3Ax").status == 302
    assert nobody.get("/chat/lines?c=rest%3Ax&after=-1").status == 302
    assert nobody.request("POST", "/chat/takeover", form={"c": "rest:x", "name": "x"}).status == 401


# --- two browsers: the patient's widget and the staff member's dashboard -------------------------

@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium(SHOTS) as launched:
        yield launched


def test_two_browsers_take_over_write_red_flag_and_hand_back(
    browser, live: LiveAssistant, live_stack: Stack, kb: KnowledgeBase, store: EscalationStore, staff_users: dict[str, str]
) -> None:
    from tests.e2e.test_widget import ask, bot_text, open_chat

    errors: list[str] = []
    patient_context = browser.new_context(viewport={"width": 420, "height": 800})
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    patient, desk = patient_context.new_page(), staff_context.new_page()
    for page in (patient, desk):
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        patient.goto(live.config.widget_page_url)
        open_chat(patient)
        ask(patient, "I'd like to speak to a person please")
        bot_text(patient, kb.render(kb.messages.escalation["human"]))
        session = patient.evaluate("JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).sessionId")
        cid = f"webchat:{session}"

        dashboard = live_stack.config.dashboard_url
        desk.goto(f"{dashboard}/login")
        desk.get_by_label("User name").fill("anna")
        desk.get_by_label("Password").fill(staff_users["anna"])
        desk.get_by_role("button", name="Log in").click()
        desk.get_by_role("link", name="Live chats").click()
        desk.screenshot(path=str(SHOTS / "1-live-list.png"), full_page=True)
        desk.locator(f"a[href='/chat?c={urllib.parse.quote(cid, safe='')}']").click()
        desk.get_by_label("Your name as the patient will see it").fill("Anna")
        desk.get_by_role("button", name="Take over this chat").click()
        desk.wait_for_selector("text=Anna (anna) has this chat")

        joined = patient.locator(".mg-staff", has_text=kb.render(kb.messages.staff["joined"], staff_name="Anna"))
        joined.wait_for()
        assert joined.locator(".mg-staff-name").text_content().startswith("Anna")

        desk.get_by_label("Message to the patient, as Anna").fill("Hi, Anna here. How can I help?")
        desk.get_by_role("button", name="Send").click()
        staff_bubble = patient.locator(".mg-staff", has_text="Hi, Anna here. How can I help?")
        staff_bubble.wait_for()
        patient.screenshot(path=str(SHOTS / "2-patient-sees-anna.png"))

        # The patient's reply reaches the open dashboard page without a reload (live.js).
        ask(patient, "Can I book a first consultation next week?")
        assert patient.get_by_text("Anna from the clinic will reply here").is_visible()
        desk.locator("ol.transcript li.patient", has_text="Can I book a first consultation next week?").wait_for()
        patient.wait_for_timeout(1000)
        assert patient.locator(".mg-bot").last.text_content().find("Hi, Anna here") >= 0, "the assistant stayed quiet"

        # A red flag while Anna has the chat: the urgent text at once, in the widget and the transcript.
        ask(patient, RED_FLAG)
        bot_text(patient, kb.render(kb.messages.escalation["red_flag"]))
        patient.wait_for_selector(".mg-urgent[data-outcome='escalate:red_flag']")
        desk.locator("ol.transcript li.assistant", has_text=kb.render(kb.messages.escalation["red_flag"])[:60]).wait_for()
        record = next(r for r in store.list() if r["conversation_id"] == cid)
        assert record["urgent"]
        desk.screenshot(path=str(SHOTS / "3-staff-transcript-red-flag.png"), full_page=True)

        found = {"patient, staff messages shown": serious_violations(patient), "staff chat page": serious_violations(desk)}
        desk.get_by_role("link", name="Live chats", exact=True).click()
        found["live chats"] = serious_violations(desk)
        print("\naxe-core serious/critical violations: " + ", ".join(f"{k}: {len(v)}" for k, v in found.items()))
        assert not any(found.values()), found
        desk.go_back()
        desk.get_by_role("button", name="Hand back to the assistant").click()
        desk.wait_for_selector("text=The assistant is answering.")
        bot_text(patient, kb.render(kb.messages.staff["left"], staff_name="Anna"))
        ask(patient, "does mesotherapy hurt?")
        bot_text(patient, kb.render(kb.topics["pain"].answer))
        patient.screenshot(path=str(SHOTS / "4-handed-back.png"))
        desk.screenshot(path=str(SHOTS / "5-staff-after-hand-back.png"), full_page=True)
    finally:
        patient_context.close()
        staff_context.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_staff_names_cannot_inject_markup(live: LiveAssistant, anna: StaffClient, providers: FakeProviders) -> None:
    chat = chat_id()
    assert telegram(live, update(chat, text="can I speak to a person?")) == 200
    cid = f"telegram:{chat}"
    assert anna.post("/chat/takeover", {"c": cid, "name": "<b>{phone}</b>"}).status == 302
    assert providers.wait_for(lambda: any(t.startswith("<b>{phone}</b> from") for t in telegram_texts(providers, str(chat))))
    page = anna.get(f"/chat?c={urllib.parse.quote(cid, safe='')}")
    assert "<b>{phone}</b>" not in page.text and "&lt;b&gt;{phone}&lt;/b&gt;" in page.text
    # The chat page alone may run a script, and only its own origin's.
    assert page.headers["content-security-policy"].endswith("script-src 'self'; connect-src 'self'")
    assert "script-src" not in anna.get("/live").headers["content-security-policy"]
    assert anna.post("/chat/handback", {"c": cid}).status == 302
