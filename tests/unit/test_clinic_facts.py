"""clinic.yml's routes and notes: the loader checks each field (file, entry, field named), and
every action fills the placeholders from it, so what the clinic writes is what patients read."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.answer_topic import ActionAnswerTopic
from actions.escalate import ActionEscalate
from actions.reply_smalltalk import ActionReplySmalltalk
from mesoguide import constants as c
from mesoguide.errors import KnowledgeError
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase, load_knowledge
from mesoguide.knowledge.loader import MAX_ANSWER_WORDS, MAX_REGULATORY_COUNTRY_WORDS, MAX_REGULATORY_NOTE_WORDS
from tests.conftest import copy_knowledge, edit_yaml, make_tracker

NOTE = {"country": "United Kingdom", "text": "The MHRA has licensed no fat-dissolving injection for the body."}
OUT_OF_HOURS = {"service": "our on-call nurse", "phone": "+44 7700 900123"}


def _edit_clinic(knowledge: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    edit_yaml(knowledge / "clinic.yml", lambda data: change(data["clinic"]))


def _error(knowledge: Path) -> KnowledgeError:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(knowledge)
    return caught.value


# --- the loader ----------------------------------------------------------------------------


def test_out_of_hours_route_is_required(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit_clinic(k, lambda clinic: clinic.pop("out_of_hours"))
    err = _error(k)
    assert (err.path.name, err.entry, err.field) == ("clinic.yml", "clinic", "out_of_hours")
    assert "closed" in err.problem


@pytest.mark.parametrize("key", ["service", "phone"])
def test_out_of_hours_needs_service_and_phone(tmp_path: Path, key: str) -> None:
    k = copy_knowledge(tmp_path)
    _edit_clinic(k, lambda clinic: clinic["out_of_hours"].update({key: "  "}))
    assert (_error(k).entry, _error(k).field) == ("clinic", f"out_of_hours.{key}")


def test_link_domains_are_optional_host_names(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit_clinic(k, lambda clinic: clinic.update({"link_domains": ["Clinic.Example", "shop.clinic.example"]}))
    assert load_knowledge(k).clinic.link_domains == ("clinic.example", "shop.clinic.example")
    _edit_clinic(k, lambda clinic: clinic.pop("link_domains"))
    assert load_knowledge(k).clinic.link_domains == ()


@pytest.mark.parametrize(
    "bad", ["https://clinic.example", "clinic.example/book", "localhost", "clinic example.com", "*.clinic.example"]
)
def test_a_link_domain_that_is_not_a_host_name_is_refused(tmp_path: Path, bad: str) -> None:
    k = copy_knowledge(tmp_path)
    _edit_clinic(k, lambda clinic: clinic.update({"link_domains": [bad]}))
    err = _error(k)
    assert (err.entry, err.field) == ("clinic", "link_domains")
    assert "host only" in err.problem


def test_the_widget_links_the_clinics_numbers_and_domains_only(kb: KnowledgeBase) -> None:
    from dataclasses import replace

    from mesoguide.channels.webchat import phone_number_in, widget_config

    assert phone_number_in("+44 20 7946 0000 (EXAMPLE)") == "+44 20 7946 0000"
    assert phone_number_in("999 (EXAMPLE: set your country's number, e.g. 112 or 911)") == "999"
    assert phone_number_in("(020) 7946 0000, weekdays") == "(020) 7946 0000"
    assert phone_number_in("call reception") is None
    clinic = replace(kb.clinic, link_domains=("shop.clinic.example",))
    config = widget_config(clinic)
    assert config["link_domains"] == ["clinic.example", "shop.clinic.example"]  # the booking link's first
    assert config["phones"] == ["+44 20 7946 0000", "+44 20 7946 0999", "999"]  # longest first, then in order
    assert widget_config(replace(clinic, booking_url="http://clinic.example/book"))["link_domains"] == ["shop.clinic.example"]


def test_regulatory_note_is_optional_but_whole(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    assert load_knowledge(k).clinic.regulatory_note is None  # both empty in the example: no note
    _edit_clinic(k, lambda clinic: clinic.update(regulatory_note={"country": "United Kingdom", "text": ""}))
    assert _error(k).field == "regulatory_note.text"
    _edit_clinic(k, lambda clinic: clinic.update(regulatory_note={"country": "", "text": NOTE["text"]}))
    assert _error(k).field == "regulatory_note.country"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("word " * (MAX_REGULATORY_NOTE_WORDS + 1) + "end.", "at most"),
        ("No full stop at the end", "full stop"),
        ("Call {phone} for the rules.", "'{'"),
    ],
)
def test_regulatory_note_text_is_checked(tmp_path: Path, text: str, says: str) -> None:
    k = copy_knowledge(tmp_path)
    _edit_clinic(k, lambda clinic: clinic.update(regulatory_note={"country": "United Kingdom", "text": text}))
    err = _error(k)
    assert (err.entry, err.field) == ("clinic", "regulatory_note.text") and says in err.problem


def test_country_of_the_note_is_short(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    country = "The United Kingdom of Great Britain and Northern Ireland"
    _edit_clinic(k, lambda clinic: clinic.update(regulatory_note={"country": country, "text": NOTE["text"]}))
    assert _error(k).field == "regulatory_note.country"


def test_answers_ending_with_the_note_leave_room_for_the_longest_note(tmp_path: Path) -> None:
    """Checked on the answer, so no note a clinic may write can push an answer past docs/product.md's
    length, and the content team (not the clinic) is told."""
    k = copy_knowledge(tmp_path)
    path = k / "topics" / "innovations.yml"
    room = MAX_ANSWER_WORDS - MAX_REGULATORY_NOTE_WORDS - MAX_REGULATORY_COUNTRY_WORDS + 1
    edit_yaml(path, lambda data: data.update(answer="word " * room + "{regulatory_note}"))
    err = _error(k)
    assert (err.path.name, err.entry, err.field) == ("innovations.yml", "innovations", "answer") and "room" in err.problem
    fitting = "word " * (room - 1) + "{regulatory_note}"
    edit_yaml(path, lambda data: data.update(answer=fitting))
    longest = {"country": "one two three four", "text": "word " * (MAX_REGULATORY_NOTE_WORDS - 1) + "end."}
    _edit_clinic(k, lambda clinic: clinic.update(regulatory_note=longest))
    rendered = load_knowledge(k).render(fitting)
    assert len(rendered.split()) == MAX_ANSWER_WORDS


@pytest.mark.parametrize(
    "text", ["The note {regulatory_note} in the middle.", "Twice. {regulatory_note} {regulatory_note}"]
)
def test_the_note_may_only_end_a_topic_text(tmp_path: Path, text: str) -> None:
    k = copy_knowledge(tmp_path)
    edit_yaml(k / "topics" / "innovations.yml", lambda data: data.update(answer=text))
    assert "very end" in _error(k).problem


def test_messages_may_not_use_the_note(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    edit_yaml(k / "messages.yml", lambda data: data.update(fallback="Sorry. {regulatory_note}"))
    err = _error(k)
    assert err.field == "fallback" and "regulatory_note" in err.problem


def test_clinic_values_may_not_hold_braces(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit_clinic(k, lambda clinic: clinic.update(phone="{phone}"))
    assert (_error(k).entry, _error(k).field) == ("clinic", "phone")


def test_facts_checked_date_is_checked(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit_clinic(k, lambda clinic: clinic.update(facts_checked={"by": "Practice manager", "on": "last week"}))
    assert (_error(k).entry, _error(k).field) == ("clinic", "facts_checked.on")


# --- what patients read: every action fills the new placeholders -------------------------


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    k = copy_knowledge(tmp_path_factory.mktemp("configured"))
    _edit_clinic(k, lambda clinic: clinic.update(out_of_hours=OUT_OF_HOURS, regulatory_note=NOTE))
    return load_knowledge(k)


def _reply(action: Any, tracker: Any, domain: dict[str, Any]) -> str:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, tracker, domain))
    return str(dispatcher.messages[0]["text"])


# The session's matcher serves: its vocabularies are the ones copied into the configured knowledge.


def test_answers_end_with_the_clinic_note_when_set(
    configured: KnowledgeBase, kb: KnowledgeBase, matcher: GuardrailMatcher, domain: dict
) -> None:
    action = ActionAnswerTopic(knowledge=configured, matcher=matcher)
    reply = _reply(action, make_tracker("can meso get rid of my double chin fat", "ask_fat_reduction"), domain)
    assert reply.endswith(f"United Kingdom: {NOTE['text']}") and "United States" in reply
    assert "{" not in reply
    # Without a note (the example clinic), the same answer ends with its own last sentence.
    plain = kb.render(kb.topics["fat_reduction"].answer)
    assert plain.endswith("Rules differ in other countries.") and "regulatory_note" not in plain


def test_risk_answer_gives_the_configured_routes(configured: KnowledgeBase, matcher: GuardrailMatcher, domain: dict) -> None:
    action = ActionAnswerTopic(knowledge=configured, matcher=matcher)
    reply = _reply(action, make_tracker("what are the side effects", "ask_side_effects"), domain)
    for value in (configured.clinic.phone, configured.clinic.opening_hours, OUT_OF_HOURS["phone"], OUT_OF_HOURS["service"],
                  configured.clinic.emergency_number):
        assert value in reply


def test_red_flag_reply_gives_the_out_of_hours_route(configured: KnowledgeBase, matcher: GuardrailMatcher, domain: dict) -> None:
    action = ActionEscalate(knowledge=configured, matcher=matcher)
    reply = _reply(action, make_tracker("my cheek is red, hot and spreading since last night", c.INTENT_RED_FLAG), domain)
    assert f"call {OUT_OF_HOURS['service']} on {OUT_OF_HOURS['phone']}" in reply
    assert configured.clinic.emergency_number in reply and configured.clinic.opening_hours in reply


def test_goodbye_gives_the_out_of_hours_route(configured: KnowledgeBase, matcher: GuardrailMatcher, domain: dict) -> None:
    action = ActionReplySmalltalk(knowledge=configured, matcher=matcher)
    reply = _reply(action, make_tracker("bye", "goodbye"), domain)
    assert OUT_OF_HOURS["phone"] in reply and "any time" not in reply
