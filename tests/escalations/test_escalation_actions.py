"""Actions that store escalations and run the callback form, on in-memory trackers with the
real domain, knowledge base and a real (temp SQLite) escalation store."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import sqlalchemy as sa
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.callback import (
    ActionAskCallbackConfirm,
    ActionAskCallbackConsent,
    ActionSubmitCallback,
    ValidateCallbackForm,
)
from actions.escalate import ActionEscalate
from mesoguide import constants as c
from mesoguide.escalations.store import EscalationStore
from mesoguide.knowledge import KnowledgeBase
from mesoguide.reply_meta import meta_of


def tracker(
    text: str,
    intent: str,
    *,
    sender: str = "patient-1",
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
    history: list[str] = (),
    entities: list[dict] | None = None,
    predicted: str | None = None,
) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    if predicted is not None:  # what the classifier said before the GuardrailRouter
        latest["guardrail"] = {"matches": [], "predicted_intent": predicted, "routed": predicted != intent}
    requested = (slots or {}).get(c.SLOT_REQUESTED)
    events: list[dict[str, Any]] = [{"event": "user", "text": t, "parse_data": {}} for t in history]
    if active_loop:
        events.append({"event": "active_loop", "name": active_loop})
    events.append({"event": "user", "text": text, "parse_data": latest, "input_channel": "rest"})
    # As Rasa's form builds it for the validation action: requested slot, the form's own
    # ActionExecuted, then the slot candidates.
    slots = dict(slots or {})
    events.append({"event": "slot", "name": c.SLOT_REQUESTED, "value": slots.pop(c.SLOT_REQUESTED, None)})
    events.append({"event": "action", "name": active_loop or "action_listen"})
    for name, value in slots.items():
        events.append({"event": "slot", "name": name, "value": value})
    return Tracker(
        sender_id=sender,
        slots={**slots, c.SLOT_REQUESTED: requested},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def run(action: Action, t: Tracker, domain: dict) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, domain))
    return dispatcher.messages, events


def slots_of(events: list[dict]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.fixture
def escalate(kb, matcher, sqlite_store) -> ActionEscalate:
    return ActionEscalate(knowledge=kb, matcher=matcher, store=sqlite_store)


def test_a_contraindication_is_stored_and_the_patient_gets_its_code(
    escalate, sqlite_store: EscalationStore, kb: KnowledgeBase, domain
) -> None:
    t = tracker("I'm on warfarin, call me on 07700 900123", "ask_contraindication", history=["does it hurt?"])
    [message], events = run(escalate, t, domain)
    meta = meta_of(message)
    assert meta["outcome"] == "escalate:contraindication" and meta["urgent"] is False
    reference = meta["reference"]
    assert reference and reference.startswith("MG-")
    assert f"Your reference code is {reference}" in message["text"]
    assert message["buttons"] == [{"title": "Request a callback", "payload": "/request_callback"}]
    assert slots_of(events) == {
        c.SLOT_TURN_OUTCOME: "escalate:contraindication",
        c.SLOT_ESCALATION_REFERENCE: reference,
        c.SLOT_AWAITING: c.AWAITING_CALLBACK_OFFER,  # a bare "yes" next starts the callback form
    }
    record = sqlite_store.get(reference)
    assert record["conversation_id"] == "patient-1" and record["channel"] == "rest"
    assert any(term.startswith("contraindication:") for term in record["terms"])
    assert "does it hurt?" in record["excerpt"] and "07700" not in record["excerpt"]


def test_a_red_flag_sends_the_urgent_text_first_and_offers_nothing(escalate, sqlite_store, kb, domain) -> None:
    [message], _ = run(escalate, tracker("my cheek is leaking pus and I have a fever", "report_red_flag"), domain)
    assert message["text"].startswith(kb.render(kb.messages.escalation["red_flag"]))
    assert "callback" not in message["text"].lower() and not message["buttons"]
    meta = meta_of(message)
    assert meta["urgent"] is True
    assert message["text"].rstrip().endswith(f"Please mention it when you speak with {kb.clinic.name}.")
    assert sqlite_store.get(meta["reference"])["urgent"]


def test_a_failed_write_still_gives_the_phone_number_and_loses_nothing(
    escalate, sqlite_store, kb, domain, tmp_path, monkeypatch, caplog
) -> None:
    spool = tmp_path / "unsaved.jsonl"
    monkeypatch.setenv("MESOGUIDE_ESCALATION_SPOOL", str(spool))
    with sqlite_store.engine.begin() as conn:  # a real failure: the table is gone
        conn.execute(sa.text("DROP TABLE mg_outbox"))
        conn.execute(sa.text("DROP TABLE mg_notes"))
        conn.execute(sa.text("DROP TABLE mg_escalations"))
    [message], events = run(escalate, tracker("am I ok on isotretinoin?", "ask_contraindication"), domain)
    assert meta_of(message)["reference"] is None
    assert kb.render(kb.messages.reference_unavailable) in message["text"]
    assert kb.clinic.phone in message["text"]
    assert slots_of(events)[c.SLOT_TURN_OUTCOME] == "escalate:contraindication"
    [line] = spool.read_text().splitlines()
    assert json.loads(line)["excerpt"] == "patient: am I ok on isotretinoin?"
    assert any(r.levelname == "CRITICAL" and "NOT STORED" in r.getMessage() for r in caplog.records)


def test_an_escalation_typed_into_the_form_stops_the_form(escalate, domain) -> None:
    t = tracker("my lips are swelling", "report_red_flag", active_loop=c.FORM_CALLBACK, slots={c.SLOT_CALLBACK_NAME: "Ana Silva"})
    _, events = run(escalate, t, domain)
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in events if e["event"] == "active_loop"
    ]
    assert slots_of(events)[c.SLOT_CALLBACK_NAME] is None


# --- the callback form ------------------------------------------------------------------------


@pytest.fixture
def validate(kb, matcher) -> ValidateCallbackForm:
    return ValidateCallbackForm(knowledge=kb, matcher=matcher)


def _validate(
    validate, domain, slot: str, value: str, intent: str = "nlu_fallback", predicted: str | None = None
) -> tuple[list[dict], dict]:
    t = tracker(value, intent, active_loop=c.FORM_CALLBACK, slots={slot: value, c.SLOT_REQUESTED: slot}, predicted=predicted)
    messages, events = run(validate, t, domain)
    return messages, slots_of(events)


@pytest.mark.parametrize(
    ("slot", "value", "reprompt"),
    [
        (c.SLOT_CALLBACK_CONTACT, "12345", "invalid_contact"),
        (c.SLOT_CALLBACK_CONTACT, "call me maybe", "invalid_contact"),
        (c.SLOT_CALLBACK_NAME, "x" * 10_240, "invalid_name"),
        (c.SLOT_CALLBACK_NAME, "<script>alert(1)</script>", "invalid_name"),
        (c.SLOT_CALLBACK_TIME, "<script>alert(1)</script>", "invalid_time"),
        (c.SLOT_CALLBACK_CONSENT, "perhaps", "invalid_consent"),
        (c.SLOT_CALLBACK_CONFIRM, "hmm", "invalid_confirm"),
    ],
)
def test_invalid_inputs_are_rejected_with_a_clear_reprompt(validate, domain, kb, slot, value, reprompt) -> None:
    messages, slots = _validate(validate, domain, slot, value)
    assert slots[slot] is None, "the form asks again"
    assert [msg["text"] for msg in messages] == [kb.render(kb.messages.callback[reprompt])]


@pytest.mark.parametrize(
    ("slot", "value", "stored"),
    [
        (c.SLOT_CALLBACK_CONSENT, "Yes please", "yes"),
        (c.SLOT_CALLBACK_NAME, "  Ana   Silva ", "Ana Silva"),
        (c.SLOT_CALLBACK_CONTACT, "ana@example.com", "ana@example.com"),
        (c.SLOT_CALLBACK_CONTACT, "+44 7700 900123", "+44 7700 900123"),
        (c.SLOT_CALLBACK_TIME, "weekday mornings", "weekday mornings"),
        (c.SLOT_CALLBACK_CONFIRM, "yes", "yes"),
    ],
)
def test_valid_inputs_are_kept(validate, domain, slot, value, stored) -> None:
    messages, slots = _validate(validate, domain, slot, value)
    assert slots[slot] == stored and messages == []


@pytest.mark.parametrize("slot", c.CALLBACK_SLOTS)
@pytest.mark.parametrize("text", ["cancel", "stop", "never mind"])
def test_cancel_works_at_every_step(validate, domain, slot, text) -> None:
    _, slots = _validate(validate, domain, slot, text)
    assert slots[c.SLOT_REQUESTED] is None and all(slots[s] is None for s in c.CALLBACK_SLOTS)


def test_declining_consent_ends_the_form(validate, domain) -> None:
    _, slots = _validate(validate, domain, c.SLOT_CALLBACK_CONSENT, "no")
    assert slots[c.SLOT_REQUESTED] is None


def test_a_red_flag_the_nlu_missed_still_ends_the_form(validate, domain) -> None:
    _, slots = _validate(validate, domain, c.SLOT_CALLBACK_TIME, "my cheek is leaking pus and I have a fever", intent="greet")
    assert slots[c.SLOT_REQUESTED] is None


def test_a_detail_can_be_corrected_at_the_confirmation(validate, domain) -> None:
    _, slots = _validate(validate, domain, c.SLOT_CALLBACK_CONFIRM, "change the phone number")
    assert slots[c.SLOT_CALLBACK_CONTACT] is None and slots[c.SLOT_CALLBACK_CONFIRM] is None


def test_the_summary_shows_the_details_without_reading_braces_as_placeholders(kb, matcher, domain) -> None:
    ask = ActionAskCallbackConfirm(knowledge=kb, matcher=matcher)
    slots = {c.SLOT_CALLBACK_NAME: "Ana", c.SLOT_CALLBACK_CONTACT: "ana@example.com", c.SLOT_CALLBACK_TIME: "{phone} time"}
    [message], _ = run(ask, tracker("weekday", "nlu_fallback", slots=slots, active_loop=c.FORM_CALLBACK), domain)
    assert "name Ana, contact ana@example.com, preferred time {phone} time" in message["text"]


FULL = {
    c.SLOT_CALLBACK_CONSENT: "yes",
    c.SLOT_CALLBACK_NAME: "Ana Silva",
    c.SLOT_CALLBACK_CONTACT: "+44 7700 900123",
    c.SLOT_CALLBACK_TIME: "weekday mornings",
    c.SLOT_CALLBACK_CONFIRM: "yes",
}


def test_submit_attaches_the_callback_to_the_escalation(escalate, kb, matcher, sqlite_store, domain) -> None:
    [first], _ = run(escalate, tracker("I'm pregnant, can I?", "ask_contraindication"), domain)
    reference = meta_of(first)["reference"]
    submit = ActionSubmitCallback(knowledge=kb, matcher=matcher, store=sqlite_store)
    [message], events = run(submit, tracker("yes", "thank", slots=FULL), domain)
    assert reference in message["text"] and message["text"].startswith("Thank you.")
    assert slots_of(events)[c.SLOT_TURN_OUTCOME] == "callback:requested"
    assert all(slots_of(events)[s] is None for s in c.CALLBACK_SLOTS), "the tracker forgets the details"
    record = sqlite_store.get(reference)
    assert (record["callback_name"], record["callback_phone"], record["callback_email"]) == ("Ana Silva", "+44 7700 900123", None)
    assert "Ana" not in record["excerpt"]


def test_submit_without_details_says_nothing_was_kept(kb, matcher, sqlite_store, domain) -> None:
    submit = ActionSubmitCallback(knowledge=kb, matcher=matcher, store=sqlite_store)
    [message], events = run(submit, tracker("cancel", "nlu_fallback", slots={c.SLOT_CALLBACK_NAME: None}), domain)
    assert message["text"] == kb.render(kb.messages.callback["cancelled"])
    assert slots_of(events)[c.SLOT_TURN_OUTCOME] == "callback:cancelled"
    assert sqlite_store.list() == []


def test_a_callback_request_without_an_escalation_is_recorded_as_a_human_request(kb, matcher, sqlite_store, domain) -> None:
    ask = ActionAskCallbackConsent(knowledge=kb, matcher=matcher, store=sqlite_store)
    messages, events = run(ask, tracker("request a callback", "request_callback", active_loop=c.FORM_CALLBACK), domain)
    assert slots_of(events)[c.SLOT_TURN_OUTCOME] == "escalate:human"
    assert messages[-1]["text"] == kb.render(kb.messages.callback["ask_consent"])
    assert "buttons" in messages[-1] and not messages[0]["buttons"], "no second callback offer"
    [record] = sqlite_store.list()
    assert record["reason"] == "human"
    # Asked again (a re-prompt), it does not escalate twice.
    again = tracker(
        "request a callback",
        "request_callback",
        active_loop=c.FORM_CALLBACK,
        slots={c.SLOT_ESCALATION_REFERENCE: record["reference"]},
    )
    messages, events = run(ask, again, domain)
    assert len(messages) == 1 and slots_of(events)[c.SLOT_TURN_OUTCOME] == "callback:ask_consent"


def test_an_unsure_answer_lifted_to_an_escalation_by_the_router_is_still_an_answer(validate, domain) -> None:
    """The router lifts "yes" to ask_medical_advice when the classifier was unsure and its best
    guess was that; inside the form that must not end the form."""
    _, slots = _validate(validate, domain, c.SLOT_CALLBACK_CONSENT, "yes", intent="ask_medical_advice", predicted="nlu_fallback")
    assert slots == {c.SLOT_CALLBACK_CONSENT: "yes"}


def test_a_red_flag_intent_ends_the_form_however_it_was_reached(validate, domain) -> None:
    _, slots = _validate(
        validate, domain, c.SLOT_CALLBACK_NAME, "I feel awful", intent="report_red_flag", predicted="nlu_fallback"
    )
    assert slots[c.SLOT_REQUESTED] is None


def test_a_request_for_a_person_does_not_end_the_form(validate, domain) -> None:
    _, slots = _validate(
        validate, domain, c.SLOT_CALLBACK_TIME, "any time a nurse is free", intent="request_human", predicted="request_human"
    )
    assert slots == {c.SLOT_CALLBACK_TIME: "any time a nurse is free"}


def test_submit_after_a_red_flag_in_the_form_sends_the_urgent_message_first(kb, matcher, sqlite_store, domain) -> None:
    submit = ActionSubmitCallback(knowledge=kb, matcher=matcher, store=sqlite_store)
    t = tracker("my lips are swelling and I can't breathe", "report_red_flag", slots={c.SLOT_CALLBACK_NAME: None})
    messages, events = run(submit, t, domain)
    assert messages[0]["text"].startswith(kb.render(kb.messages.escalation["red_flag"]))
    assert slots_of(events)[c.SLOT_TURN_OUTCOME] == "escalate:red_flag"
    [record] = sqlite_store.list()
    assert record["urgent"]


@pytest.mark.parametrize(("slot", "text", "topic"), [
    (c.SLOT_CALLBACK_NAME, "how long is the downtime btw", "downtime"),
    (c.SLOT_CALLBACK_TIME, "does the treatment hurt", "pain"),
])
def test_a_question_typed_into_the_form_is_answered_and_the_detail_asked_again(validate, domain, kb, slot, text, topic) -> None:
    messages, slots = _validate(validate, domain, slot, text, intent=f"ask_{topic}", predicted=f"ask_{topic}")
    assert slots == {slot: None}, "not stored as a name or a time; the form asks again"
    assert [m["text"] for m in messages] == [kb.render(kb.topics[topic].answer)]


@pytest.mark.parametrize(
    ("now", "adds"),
    [
        ("2026-12-06T07:00:00+00:00", "Someone can reply tomorrow at 9:00."),  # Sunday
        ("2026-12-07T10:00:00+00:00", None),  # Monday morning: open
        ("2026-12-12T14:30:00+00:00", "Someone can reply on Monday at 9:00."),  # Saturday after closing
    ],
)
def test_a_request_for_a_person_while_closed_says_when_someone_can_reply(kb, sqlite_store, now, adds) -> None:
    import datetime as dt

    from actions.escalate import escalate as escalate_turn
    from mesoguide.guardrail.precedence import Escalation

    dispatcher = CollectingDispatcher()
    t = tracker("can I talk to a person?", c.INTENT_HUMAN)
    escalate_turn(dispatcher, kb, Escalation.HUMAN, tracker=t, store=sqlite_store, now=dt.datetime.fromisoformat(now))
    text = dispatcher.messages[0]["text"]
    assert text.startswith(kb.render(kb.messages.escalation["human"]))
    if adds is None:
        assert "not in right now" not in text
    else:
        assert adds in text and kb.clinic.out_of_hours.phone in text
    # Only a request for a person: a clinician's question says nothing about when.
    dispatcher = CollectingDispatcher()
    escalate_turn(dispatcher, kb, Escalation.CONTRAINDICATION, tracker=t, store=sqlite_store, now=dt.datetime.fromisoformat(now))
    assert "not in right now" not in dispatcher.messages[0]["text"]
