"""Callback form inputs, redaction and the transcript excerpt (pure functions)."""

from __future__ import annotations

import pytest

from mesoguide.escalations import callback_input as ci
from mesoguide.escalations.redaction import EMAIL_MARK, PHONE_MARK, VALUE_MARK, redact
from mesoguide.escalations.transcript import MAX_MESSAGES, excerpt_from_events


@pytest.mark.parametrize("text", ["cancel", "Stop", "never mind", "nevermind!", "please cancel this", "forget it"])
def test_cancel_words(text: str) -> None:
    assert ci.is_cancel(text)


def test_cancel_word_in_a_long_text_is_not_a_cancel() -> None:
    assert not ci.is_cancel("any time except at the bus stop near the station on a rainy day please")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", True),
        ("Yes please", True),
        ("ok", True),
        ("I agree", True),
        ("no", False),
        ("nope", False),
        ("maybe", None),
        ("", None),
    ],
)
def test_yes_no(text: str, expected: bool | None) -> None:
    assert ci.yes_no(text) is expected


@pytest.mark.parametrize("name", ["Ana", "Ana Silva", "Mary-Jane O'Neil", "José Núñez", "Dr. Li"])
def test_good_names(name: str) -> None:
    assert ci.clean_name(name) == name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("its dave", "dave"),
        ("it's Aisha Khan", "Aisha Khan"),
        ("It’s Jo", "Jo"),
        ("my name is Ana Silva", "Ana Silva"),
        ("Hi, my name's Tomasz", "Tomasz"),
        ("I'm Kwame", "Kwame"),
        ("im priya", "priya"),
        ("this is Mei", "Mei"),
        ("Bilal here", "Bilal"),
        ("Ana Silva please", "Ana Silva"),
        ("you can call me Sam", "Sam"),
    ],
)
def test_an_introduction_is_not_part_of_the_name(text: str, name: str) -> None:
    assert ci.clean_name(text) == name


@pytest.mark.parametrize(
    "name", ["", "A", "x" * 10_240, "<script>alert(1)</script>", "Ana 123", "ana@example.com", "{clinic_name}", "Ana\x00"]
)
def test_bad_names_are_rejected(name: str) -> None:
    assert ci.clean_name(name) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+44 7700 900123", ("+44 7700 900123", None)),
        ("(020) 7946-0958", ("(020) 7946-0958", None)),
        ("ana.silva@example.co.uk", (None, "ana.silva@example.co.uk")),
    ],
)
def test_good_contacts(text: str, expected: tuple) -> None:
    assert ci.clean_contact(text) == expected


@pytest.mark.parametrize(
    "text", ["12345", "call me", "+44 77OO 900123", "1" * 20, "ana@", "ana@example", "<b>ana@example.com</b>", "x" * 10_240]
)
def test_bad_contacts_are_rejected(text: str) -> None:
    assert ci.clean_contact(text) is None


def test_times() -> None:
    assert ci.clean_time("  Tuesday   after 2 pm ") == "Tuesday after 2 pm"
    assert ci.clean_time("<script>alert(1)</script>") is None
    assert ci.clean_time("x" * 101) is None
    assert ci.clean_time("a") is None


def test_detail_to_change() -> None:
    assert ci.detail_to_change("change my name") == "name"
    assert ci.detail_to_change("the phone number is wrong") == "contact"
    assert ci.detail_to_change("e-mail") == "contact"
    assert ci.detail_to_change("time") == "time"
    assert ci.detail_to_change("hmm") is None


def test_redaction_removes_contact_details_and_known_values() -> None:
    text = "I'm Ana Silva, call +44 7700 900123 or mail ana.silva@example.com; 3 sessions 2-4 weeks apart"
    out = redact(text, ["Ana Silva", "Al"])
    assert "7700" not in out and "example.com" not in out and "Ana" not in out
    assert PHONE_MARK in out and EMAIL_MARK in out and VALUE_MARK in out
    assert "3 sessions 2-4 weeks apart" in out, "small numbers are not phone numbers"


def _user(text: str) -> dict:
    return {"event": "user", "text": text}


def test_excerpt_is_redacted_leaves_out_the_form_and_keeps_the_latest_messages() -> None:
    events = [
        {"event": "session_started"},
        _user("old session message"),
        {"event": "session_started"},
        *[_user(f"question {i}") for i in range(12)],
        _user("I'm pregnant, my number is 07700 900123"),
        _user("/request_callback"),
        {"event": "active_loop", "name": "callback_form"},
        _user("Ana Silva"),
        _user("ana@example.com"),
        {"event": "active_loop", "name": None},
        _user("x" * 2000),
    ]
    excerpt = excerpt_from_events(events, form_names=["callback_form"], known_values=["Ana Silva"])
    lines = excerpt.splitlines()
    assert len(lines) == MAX_MESSAGES
    assert "old session" not in excerpt and "Ana" not in excerpt and "example.com" not in excerpt
    assert "07700" not in excerpt and PHONE_MARK in excerpt
    assert lines[-1].endswith("[...]") and len(lines[-1]) < 600


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("call me on 07700-900-123", "07700-900-123"),
        ("or 07700/900/123 please", "07700/900/123"),
        ("07700_900_123 is my mobile", "07700_900_123"),
        ("write to ana.silva at example dot com", "example dot com"),
        ("ana (at) example (dot) co (dot) uk", "example"),
        ("I was born on 12/03/1990", "1990"),
        ("DOB: 3rd March 1985", "1985"),
        ("date of birth March 3, 1985", "1985"),
        ("I live at SW1A 1AA, near the clinic", "SW1A"),
        ("my insta is @ana_skin", "@ana_skin"),
    ],
)
def test_redaction_covers_the_ways_people_write_contact_details(text: str, gone: str) -> None:
    assert gone not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "had it 3 days ago, swelling for 2-4 weeks, 5 sessions",
        "look at the area dot by dot",
        "temperature of 38.5 since the treatment on 12/03/2026",
        "the clinic at the high street",
    ],
)
def test_redaction_keeps_clinical_words_and_treatment_dates(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize("text", ["how long is the downtime btw", "does the treatment hurt", "whats the clinic phone number",
                                  "is there any downtime", "tell me about the cost"])
def test_a_question_typed_into_the_form_is_not_a_name_or_a_time(text: str) -> None:
    assert ci.clean_name(text) is None and ci.clean_time(text) is None


@pytest.mark.parametrize("text", ["Will Smith", "Ana Silva", "Do Van Minh"])
def test_names_that_start_like_questions_are_still_names(text: str) -> None:
    assert ci.clean_name(text) == text


@pytest.mark.parametrize("text", ["can you ring after 5", "when you can", "any time on tuesday", "tuesday?"])
def test_times_that_sound_like_questions_are_still_times(text: str) -> None:
    assert ci.clean_time(text) == text
