"""End to end: real servers on loopback (action server, Rasa server, notifier,
dashboard), the REST channel, a real SQLite escalation store, real notification receivers."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from mesoguide.client import LiveAssistant, Turn
from mesoguide.escalations.store import EscalationStore
from mesoguide.knowledge import KnowledgeBase
from mesoguide.reply_meta import meta_of
from mesoguide.stack import Stack

pytestmark = pytest.mark.e2e
CODE = re.compile(r"MG-[A-Z0-9]{3}-[A-Z0-9]{3}")


def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


def escalation_reply(turn: Turn) -> dict:
    """The reply carrying the machine-readable meta (the REST channel sends the custom payload
    as a message of its own, next to the text and its buttons)."""
    return next(r for r in turn.replies if meta_of(r))


def buttons(turn: Turn) -> list[dict]:
    return [b for r in turn.replies for b in r.get("buttons") or []]


def texts(turn: Turn) -> list[str]:
    return [r.get("text", "") for r in turn.replies]


def test_question_to_reference_code_to_stored_record_to_notification(
    live: LiveAssistant, store: EscalationStore, kb: KnowledgeBase, receivers
) -> None:
    webhook, smtp = receivers
    who = sender()
    live.say(who, "how many sessions will I need?")
    turn = live.say(who, "I'm on warfarin, my number is 07700 900123 - can I still have it?")
    assert turn.outcome == "escalate:contraindication"
    reply = escalation_reply(turn)
    reference = meta_of(reply)["reference"]
    assert CODE.fullmatch(reference)
    assert any(f"Your reference code is {reference}." in t for t in texts(turn))
    assert {"title": "Request a callback", "payload": "/request_callback"} in buttons(turn)
    record = store.get(reference)
    assert record["conversation_id"] == f"rest:{who}" and record["channel"] == "rest" and record["status"] == "open"
    assert "how many sessions" in record["excerpt"] and "07700" not in record["excerpt"]
    assert live.tracker(who)["slots"]["escalation_reference"] == reference
    # The notifier process delivers it to the clinic's webhook and mailbox.
    hook = webhook.wait_for_reference(reference)
    assert hook is not None, "the notifier delivered to the local webhook receiver"
    assert hook["json"]["mesoguide"]["event"] == "new" and not hook["json"]["mesoguide"]["urgent"]
    assert "07700" not in str(hook["json"]), "no contact details in notifications"
    deadline = time.monotonic() + 30
    while not any(reference in str(mail["Subject"]) for mail in smtp.messages) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any(reference in str(mail["Subject"]) for mail in smtp.messages), "and to the local SMTP server"
    # A second escalation in the same conversation updates the same record.
    again = live.say(who, "can I talk to a real person please")
    assert meta_of(escalation_reply(again))["reference"] == reference
    assert store.get(reference)["times_escalated"] == 2


def test_callback_form_from_offer_to_confirmation(
    live: LiveAssistant, live_stack: Stack, store: EscalationStore, kb: KnowledgeBase
) -> None:
    who = sender()
    first = live.say(who, "I'm breastfeeding, is mesotherapy ok for me?")
    reference = meta_of(escalation_reply(first))["reference"]
    steps = [
        ("/request_callback", "callback:ask_consent", kb.render(kb.messages.callback["ask_consent"])),
        ("yes", "callback:ask_name", kb.messages.callback["ask_name"]),
        # Past the message-length cap the Rasa server answers itself; the form waits for the name.
        ("x" * 10_240, "unavailable", kb.render(kb.messages.runtime["too_long"])),
        ("<script>alert(1)</script>", None, kb.messages.callback["invalid_name"]),
        ("Ana Silva", "callback:ask_contact", kb.messages.callback["ask_contact"]),
        ("12345", None, " ".join(kb.messages.callback["invalid_contact"].split())),
        ("ana.silva@example.com", "callback:ask_time", kb.messages.callback["ask_time"]),
        ("weekday mornings", "callback:ask_confirm", "Please check: name Ana Silva, contact ana.silva@example.com"),
        ("change the name", "callback:ask_name", kb.messages.callback["ask_name"]),
        ("Ana M. Silva", "callback:ask_confirm", "Please check: name Ana M. Silva"),
        ("yes", "callback:requested", "Thank you."),
    ]
    for text, outcome, expected in steps:
        turn = live.say(who, text)
        joined = " ".join(" ".join(t.split()) for t in texts(turn))
        assert " ".join(expected.split()) in joined, (text, texts(turn))
        if outcome:
            assert turn.outcome == outcome, (text, turn.outcome)
    assert reference in joined
    record = store.get(reference)
    assert (record["callback_name"], record["callback_email"], record["callback_time"]) == (
        "Ana M. Silva",
        "ana.silva@example.com",
        "weekday mornings",
    )
    assert "Ana" not in record["excerpt"] and "example.com" not in record["excerpt"]
    # The patient asks another question afterwards: answered normally, no form.
    assert live.say(who, "how long is the downtime?").outcome == "answer:downtime"
    _staff_opens_in_a_browser(
        live_stack, store, reference, expect=["Ana M. Silva", "ana.silva@example.com", "weekday mornings", "breastfeeding"]
    )


def _staff_opens_in_a_browser(live_stack: Stack, store: EscalationStore, reference: str, *, expect: list[str]) -> None:
    """A real browser logs in to the stack's dashboard and finds the chat's escalation."""
    from playwright.sync_api import sync_playwright

    from tests.escalations.test_dashboard import CHROMIUM, PASSWORD, SHOTS, USER

    store.set_user(USER, PASSWORD)
    SHOTS.mkdir(parents=True, exist_ok=True)
    url = live_stack.config.dashboard_url
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        try:
            page = browser.new_page()
            page.goto(f"{url}/")
            page.fill("input[name=username]", USER)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/")
            page.click(f"text={reference}")
            page.wait_for_url(f"**/escalations/{reference}")
            content = page.inner_text("main")
            for text in expect:
                assert text in content, text
            page.screenshot(path=str(SHOTS / "04-chat-escalation-with-callback.png"), full_page=True)
        finally:
            browser.close()


def test_a_red_flag_typed_into_the_form_stops_it_and_gets_the_urgent_message_first(
    live: LiveAssistant, store: EscalationStore, kb: KnowledgeBase
) -> None:
    who = sender()
    live.say(who, "can I speak to someone from the clinic")
    live.say(who, "/request_callback")
    live.say(who, "yes")
    turn = live.say(who, "my lips are swelling and I can't breathe")
    assert turn.outcome == "escalate:red_flag"
    assert texts(turn)[0].startswith(kb.render(kb.messages.escalation["red_flag"])), "urgent text comes first"
    assert not buttons(turn), "nothing that delays a call"
    tracker = live.tracker(who)
    assert tracker["active_loop"] in ({}, None) or not tracker["active_loop"].get("name")
    record = store.get(meta_of(escalation_reply(turn))["reference"])
    assert record["urgent"] and record["reason"] == "red_flag"
    # The form is gone: the next message is an ordinary question again.
    assert live.say(who, "does it hurt?").outcome == "answer:pain"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("its Bilal", "Bilal"), ("my name is Oksana Petrenko", "Oksana Petrenko"), ("I'm Tomasz", "Tomasz"), ("this is Mei", "Mei")],
)
def test_a_name_written_the_way_patients_write_it_moves_the_form_on(
    live: LiveAssistant, store: EscalationStore, typed: str, stored: str
) -> None:
    """A name with an introduction is a name, not a message to escalate: the classifier's guess
    about "its Bilal" would otherwise end the form before the callback is arranged."""
    who = sender()
    live.say(who, "I'm breastfeeding, can I still have meso?")
    steps = [
        ("/request_callback", "callback:ask_consent"), ("yes", "callback:ask_name"), (typed, "callback:ask_contact"),
        ("07700 900777", "callback:ask_time"), ("after 6 on weekdays", "callback:ask_confirm"), ("yes", "callback:requested"),
    ]
    for text, outcome in steps:
        turn = live.say(who, text)
        assert turn.outcome == outcome, (text, turn.outcome, texts(turn))
    record = store.get(live.tracker(who)["slots"]["escalation_reference"])
    assert (record["callback_name"], record["callback_time"]) == (stored, "after 6 on weekdays")


def test_cancel_at_any_step(live: LiveAssistant, store: EscalationStore, kb: KnowledgeBase) -> None:
    for cancel_at, word in ((1, "cancel"), (2, "never mind"), (3, "stop")):
        who = sender()
        live.say(who, "which cocktail is right for my skin?")
        answers = ["/request_callback", "yes", "Ana Silva", "ana@example.com"]
        for text in answers[:cancel_at]:
            live.say(who, text)
        turn = live.say(who, word)
        assert turn.outcome == "callback:cancelled", (cancel_at, word, texts(turn))
        assert kb.render(kb.messages.callback["cancelled"]) in texts(turn)
        reference = live.tracker(who)["slots"]["escalation_reference"]
        assert store.get(reference)["callback_name"] is None


def test_the_escalation_is_in_the_dashboard(live: LiveAssistant, live_stack: Stack, store: EscalationStore) -> None:
    """the "done when": an escalation made in chat appears in the dashboard with its code."""
    from tests.escalations.test_dashboard import PASSWORD, USER, Dashboard, login, request

    who = sender()
    reference = meta_of(escalation_reply(live.say(who, "I have epilepsy")))["reference"]
    port = live_stack.config.dashboard_port
    status, headers, page, _ = request(port, "GET", "/")
    assert (status, headers.get("location")) == (302, "/login") and reference not in page
    store.set_user(USER, PASSWORD)
    session, _ = login(Dashboard(port=port, store=store, reference=reference, url=live_stack.config.dashboard_url))
    status, _, page, _ = request(port, "GET", "/?status=open&reason=contraindication", cookies={"mg_session": session})
    assert status == 200 and reference in page
    status, _, page, _ = request(port, "GET", f"/escalations/{reference}", cookies={"mg_session": session})
    assert status == 200 and "patient: I have epilepsy" in page
