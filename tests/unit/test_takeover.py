"""Live takeover, piece by piece, in memory: opening hours, who has which conversation, the
transcript, the live list, the staff message on each channel, the takeover steps against a
recording stand-in for Rasa's API, and the Rasa server's never-silent wrapper on a paused tracker.

The whole path (real Rasa server, dashboard, channels, browsers) is ``tests/e2e/test_takeover.py``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from mesoguide import constants as c
from mesoguide.channels.staff import ConversationAddressed, signed_text, staff_of
from mesoguide.channels.twilio import _sender_for
from mesoguide.channels.webchat import WebchatOutput
from mesoguide.conversation_ids import conversation_id, sender_in
from mesoguide.errors import KnowledgeError
from mesoguide.escalations.models import NewEscalation
from mesoguide.escalations.store import EscalationStore
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase
from mesoguide.knowledge.hours import HoursError, OpeningHours
from mesoguide.knowledge.loader import load_knowledge
from mesoguide.runtime.never_silent import NeverSilent, Settings
from mesoguide.takeover import TakeoverError, TakeoverService
from mesoguide.takeover.live import live_conversations, recent_conversations
from mesoguide.takeover.records import TakeoverLog
from mesoguide.takeover.transcript import transcript
from tests.conftest import copy_knowledge, edit_yaml

LONDON_WEEK = {
    "timezone": "Europe/London",
    "monday": "09:00-18:00",
    "tuesday": "09:00-12:30, 14:00-18:00",
    "saturday": "10:00-14:00",
    "sunday": "closed",
}


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)


# --- opening hours --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "open_now", "next_opening"),
    [
        ("2026-12-07 08:59", False, "today at 9:00"),  # Monday, GMT
        ("2026-12-07 09:00", True, None),
        ("2026-12-07 18:00", False, "tomorrow at 9:00"),
        ("2026-12-08 12:45", False, "today at 14:00"),  # Tuesday's lunch break
        ("2026-12-08 18:30", False, "on Saturday at 10:00"),  # Wednesday to Friday left out: closed
        ("2026-12-12 13:59", True, None),
        ("2026-12-13 07:00", False, "tomorrow at 9:00"),  # Sunday
        # Summer time: Saturday 28 March 2026, the clocks go forward on Sunday 29th.
        ("2026-03-28 15:00", False, "on Monday at 9:00"),
        ("2026-03-30 07:59", False, "today at 9:00"),  # 08:59 in London (BST)
        ("2026-03-30 08:00", True, None),  # 09:00 in London
    ],
)
def test_opening_hours_in_the_clinics_own_time(now: str, open_now: bool, next_opening: str | None) -> None:
    hours = OpeningHours.from_mapping(LONDON_WEEK)
    assert hours.is_open(utc(now)) is open_now
    if next_opening is not None:
        assert hours.describe_next(utc(now)) == next_opening


def test_the_next_opening_is_a_time_in_the_clinics_zone() -> None:
    hours = OpeningHours.from_mapping(LONDON_WEEK)
    opening = hours.next_opening(utc("2026-03-28 15:00"))
    assert opening.isoformat() == "2026-03-30T09:00:00+01:00"


def test_a_day_may_end_at_midnight() -> None:
    hours = OpeningHours.from_mapping({"timezone": "UTC", "friday": "20:00-24:00"})
    assert hours.is_open(utc("2026-12-11 23:59"))
    assert not hours.is_open(utc("2026-12-12 00:00"))


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"timezone": "Mars/Olympus", "monday": "09:00-17:00"}, "not an IANA time zone"),
        ({"timezone": "UTC", "mondays": "09:00-17:00"}, "unknown key(s) ['mondays']"),
        ({"timezone": "UTC", "monday": "9 to 5"}, "monday: '9 to 5' is not HH:MM-HH:MM"),
        ({"timezone": "UTC", "monday": "17:00-09:00"}, "ends before it starts"),
        ({"timezone": "UTC", "monday": "closed"}, "no day has opening hours"),
    ],
)
def test_malformed_hours_say_what_to_fix(raw: dict[str, str], says: str) -> None:
    with pytest.raises(HoursError, match=_escaped(says)):
        OpeningHours.from_mapping(raw)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        OpeningHours.from_mapping(LONDON_WEEK).is_open(dt.datetime(2026, 12, 7, 10))


def test_clinic_yml_hours_are_loaded_and_checked(tmp_path: Path, kb: KnowledgeBase) -> None:
    assert kb.clinic.hours is not None and kb.clinic.hours.timezone == "Europe/London"
    directory = copy_knowledge(tmp_path)
    edit_yaml(directory / "clinic.yml", lambda d: d["clinic"]["hours"].update(monday="9-5"))
    with pytest.raises(KnowledgeError, match="hours"):
        load_knowledge(directory)
    edit_yaml(directory / "clinic.yml", lambda d: d["clinic"].pop("hours"))
    assert load_knowledge(directory).clinic.hours is None


def test_staff_texts_need_their_placeholders(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    edit_yaml(directory / "messages.yml", lambda d: d["staff"].update(joined="Someone has joined the chat."))
    with pytest.raises(KnowledgeError, match=_escaped("must contain {staff_name}")):
        load_knowledge(directory)


def test_a_staff_name_is_filled_in_as_written(kb: KnowledgeBase) -> None:
    text = kb.render(kb.messages.staff["joined"], staff_name="{phone} <b>")
    assert text.startswith("{phone} <b> from " + kb.clinic.name)


def _escaped(text: str) -> str:
    import re

    return re.escape(text)


# --- conversation ids and the staff message on each channel ------------------------------------------


def test_each_channel_takes_its_own_prefix_off() -> None:
    senders = [("telegram", "123"), ("twilio", "+15551234567"), ("twilio", "whatsapp:+15551234567"), ("webchat", "abc")]
    for channel, sender in senders:
        assert sender_in(channel, conversation_id(channel, sender)) == sender
        assert sender_in(channel, sender) == sender, "a provider id is left as it is"
    assert sender_in("telegram", "twilio:+1555") == "twilio:+1555"


def test_staff_messages_are_signed_on_text_channels_and_notices_are_not() -> None:
    assert staff_of({"text": "hi"}) is None
    assert staff_of({"staff_name": "  "}) is None
    assert staff_of({"staff_name": "Anna", "takeover": "joined"}) == {"staff": "Anna", "takeover": "joined"}
    assert staff_of({"staff_name": "Anna", "takeover": "bogus"}) == {"staff": "Anna"}
    assert signed_text("Hello", {"staff_name": "Anna"}) == "Anna: Hello"
    assert signed_text("Anna has joined", {"staff_name": "Anna", "takeover": "joined"}) == "Anna has joined"
    assert signed_text("Hello", {}) == "Hello"


def test_whatsapp_staff_messages_go_from_the_whatsapp_number() -> None:
    assert _sender_for("whatsapp:+15551234567", "+14155238886") == "whatsapp:+14155238886"
    assert _sender_for("whatsapp:+15551234567", "whatsapp:+14155238886") == "whatsapp:+14155238886"
    assert _sender_for("+15551234567", "+14155238886") == "+14155238886"


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    @classmethod
    def name(cls) -> str:
        return "telegram"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent.append((recipient_id, message))


class _AddressedRecorder(ConversationAddressed, _Recorder):
    pass


def test_messages_to_a_tracker_id_reach_the_providers_id() -> None:
    out = _AddressedRecorder()
    asyncio.run(out.send_response("telegram:4242", {"text": "hi"}))
    asyncio.run(out.send_response("4242", {"text": "again"}))
    assert [r for r, _ in out.sent] == ["4242", "4242"]


class _Sio:
    def __init__(self) -> None:
        self.emitted: list[tuple[str, dict[str, Any], str]] = []

    async def emit(self, event: str, data: dict[str, Any], room: str) -> None:
        self.emitted.append((event, data, room))


def test_the_widget_gets_a_staff_message_whole_with_the_name() -> None:
    sio = _Sio()
    out = WebchatOutput(sio, "bot_uttered")  # type: ignore[arg-type]
    message = {"text": "Hi.\n\nAnna here.", "staff_name": "Anna", "takeover": "joined", "timestamp": 1.0}
    asyncio.run(out.send_response("webchat:abc", message))
    assert sio.emitted == [("bot_uttered", {"text": "Hi.\n\nAnna here.", "staff": "Anna", "takeover": "joined"}, "abc")]
    asyncio.run(out.send_response("abc", {"text": "One.\n\nTwo."}))
    assert [data["text"] for _, data, _ in sio.emitted[1:]] == ["One.", "Two."], "the assistant's replies as before"


# --- who has which conversation ---------------------------------------------------------------------


def test_one_person_at_a_time_and_the_first_message_time(store: EscalationStore) -> None:
    log = TakeoverLog(engine=store.engine)
    first = log.start("telegram:1", channel="telegram", user="anna", name="Anna")
    assert log.start("telegram:1", channel="telegram", user="anna", name="Anna B") == first, "her own takeover"
    with pytest.raises(TakeoverError, match=r"Anna \(anna\) already has this conversation"):
        log.start("telegram:1", channel="telegram", user="ben", name="Ben")
    assert first["first_message_at"] is None
    log.wrote("telegram:1")
    wrote_at = log.active("telegram:1")["first_message_at"]  # type: ignore[index]
    log.wrote("telegram:1")
    assert wrote_at is not None and log.active("telegram:1")["first_message_at"] == wrote_at  # type: ignore[index]
    assert set(log.active_all()) == {"telegram:1"}
    log.end("telegram:1")
    assert log.active("telegram:1") is None and log.active_all() == {}
    assert log.start("telegram:1", channel="telegram", user="ben", name="Ben")["staff_user"] == "ben"


def test_erasing_a_conversation_erases_its_takeovers(store: EscalationStore) -> None:
    log = TakeoverLog(engine=store.engine)
    log.start("twilio:+15550001111", channel="twilio", user="anna", name="Anna")
    store.forget_conversation("twilio:+15550001111")
    assert log.active("twilio:+15550001111") is None


# --- transcript and the live list -----------------------------------------------------------------------


def test_the_transcript_says_who_said_what() -> None:
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "hello", "timestamp": 0},
        {"event": "bot", "text": "Hi!", "timestamp": 60},
        {"event": "pause", "timestamp": 120},
        {"event": "bot", "text": "Anna joined", "metadata": {"staff_name": "Anna", "takeover": "joined"}, "timestamp": 121},
        {"event": "resume", "timestamp": 200},
    ]
    lines = transcript(events)
    assert [(line["index"], line["speaker"], line["who"], line["at"]) for line in lines] == [
        (1, "patient", "Patient", "00:00"),
        (2, "assistant", "Assistant", "00:01"),
        (3, "event", "", "00:02"),
        (4, "staff", "Anna", "00:02"),
        (5, "event", "", "00:03"),
    ]


def test_recent_conversations_from_rasas_own_tracker_store(tmp_path: Path) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    tracker_store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    now = time.time()
    conversations = [("webchat:a", 30, 2), ("telegram:1", 600, 1), ("rest:old", 7200, 1), ("webchat:quiet", 10, 0)]
    for sender, age_s, messages in conversations:
        tracker = DialogueStateTracker(sender, [])
        tracker.update(ActionExecuted("action_session_start", timestamp=now - age_s))
        for i in range(messages):
            tracker.update(UserUttered(f"m{i}", timestamp=now - age_s))
        asyncio.run(tracker_store.save(tracker))
    recent = recent_conversations(sa.create_engine(url), minutes=60, now=now)
    assert [(cid, count) for cid, _last, count in recent] == [("webchat:quiet", 0), ("webchat:a", 2), ("telegram:1", 1)]
    assert recent_conversations(sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}"), minutes=60) == []


def test_escalated_conversations_come_first_urgent_at_the_top() -> None:
    now = time.time()
    recent = [("webchat:new", now, 1), ("telegram:urgent", now - 300, 2), ("twilio:+1", now - 100, 1), ("rest:x", now - 50, 0)]
    escalations = {
        "telegram:urgent": {"urgent": True, "reason": "red_flag"},
        "twilio:+1": {"urgent": False, "reason": "human"},
    }
    rows = live_conversations(recent, escalations, {})  # type: ignore[arg-type]
    assert [r["conversation_id"] for r in rows] == ["telegram:urgent", "twilio:+1", "webchat:new"]
    assert [r["channel"] for r in rows] == ["telegram", "twilio", "webchat"]


# --- the takeover steps, against a recording stand-in for Rasa's API ----------------------------------


class _RasaApi:
    """Answers like Rasa's conversations API; records what was appended."""

    def __init__(self, channel: str | None, *, fail: bool = False) -> None:
        self.channel = channel
        self.fail = fail
        self.appended: list[tuple[str, list[dict[str, Any]], bool]] = []

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        events = [{"event": "user", "text": "hi", "input_channel": self.channel}] if self.channel else []
        return {"sender_id": conversation_id, "latest_input_channel": self.channel, "paused": False, "events": events}

    async def append(self, conversation_id: str, events: list[dict[str, Any]], *, send: bool) -> dict[str, Any]:
        if self.fail:
            raise TakeoverError("The assistant's server did not take the request (HTTP 500).")
        self.appended.append((conversation_id, events, send))
        return {}


def _service(store: EscalationStore, kb: KnowledgeBase, api: _RasaApi) -> TakeoverService:
    return TakeoverService(api=api, log=TakeoverLog(engine=store.engine), kb=kb)  # type: ignore[arg-type]


def test_take_over_write_and_hand_back(sqlite_store: EscalationStore, kb: KnowledgeBase) -> None:
    api = _RasaApi("telegram")
    service = _service(sqlite_store, kb, api)
    asyncio.run(service.take_over("telegram:1", user="anna", name="  Anna   B "))
    asyncio.run(service.take_over("telegram:1", user="anna", name="Anna B"))  # a second click sends nothing
    asyncio.run(service.send("telegram:1", user="anna", text=" Hello "))
    asyncio.run(service.hand_back("telegram:1", user="ben"))
    joined = kb.render(kb.messages.staff["joined"], staff_name="Anna B")
    left = kb.render(kb.messages.staff["left"], staff_name="Anna B")
    said = {"staff_name": "Anna B"}
    assert api.appended == [
        ("telegram:1", [{"event": "pause"}, {"event": "bot", "text": joined, "metadata": {**said, "takeover": "joined"}}], True),
        ("telegram:1", [{"event": "bot", "text": "Hello", "metadata": said}], True),
        ("telegram:1", [{"event": "bot", "text": left, "metadata": {**said, "takeover": "left"}}, {"event": "resume"}], True),
    ]
    assert service.log.active("telegram:1") is None


@pytest.mark.parametrize("channel", ["rest", "cmdline", None])
def test_channels_that_cannot_push_are_refused(sqlite_store: EscalationStore, kb: KnowledgeBase, channel: str | None) -> None:
    api = _RasaApi(channel)
    with pytest.raises(TakeoverError, match="cannot receive messages from staff"):
        asyncio.run(_service(sqlite_store, kb, api).take_over(f"{channel}:x", user="anna", name="Anna"))
    assert api.appended == []


def test_refusals_say_why(sqlite_store: EscalationStore, kb: KnowledgeBase) -> None:
    service = _service(sqlite_store, kb, _RasaApi("webchat"))
    with pytest.raises(TakeoverError, match="Give the name"):
        asyncio.run(service.take_over("webchat:a", user="anna", name="   "))
    with pytest.raises(TakeoverError, match="Take the conversation over before you write"):
        asyncio.run(service.send("webchat:a", user="anna", text="hi"))
    with pytest.raises(TakeoverError, match="Nobody from the clinic has this conversation"):
        asyncio.run(service.hand_back("webchat:a", user="anna"))
    asyncio.run(service.take_over("webchat:a", user="anna", name="Anna"))
    with pytest.raises(TakeoverError, match="Write a message first"):
        asyncio.run(service.send("webchat:a", user="anna", text=" \n "))
    with pytest.raises(TakeoverError, match="under 1000 characters"):
        asyncio.run(service.send("webchat:a", user="anna", text="x" * 1001))
    with pytest.raises(TakeoverError, match=r"Anna \(anna\) has this conversation"):
        asyncio.run(service.send("webchat:a", user="ben", text="hi"))


def test_a_takeover_rasa_did_not_take_is_not_recorded(sqlite_store: EscalationStore, kb: KnowledgeBase) -> None:
    service = _service(sqlite_store, kb, _RasaApi("webchat", fail=True))
    with pytest.raises(TakeoverError, match="did not take the request"):
        asyncio.run(service.take_over("webchat:a", user="anna", name="Anna"))
    assert service.log.active("webchat:a") is None


# --- the Rasa server while a person has the chat ---------------------------------------------------------


class _TrackerStore:
    def __init__(self, tracker: DialogueStateTracker) -> None:
        self.tracker = tracker

    async def retrieve(self, sender_id: str) -> DialogueStateTracker:
        return self.tracker

    async def get_or_create_tracker(self, sender_id: str) -> DialogueStateTracker:
        return self.tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        self.tracker = tracker


class _Agent:
    def __init__(self, tracker: DialogueStateTracker) -> None:
        self.tracker_store = _TrackerStore(tracker)


def _paused_turn(
    text: str, kb: KnowledgeBase, matcher: GuardrailMatcher, *, paused: bool = True
) -> tuple[CollectingOutputChannel, list[NewEscalation], DialogueStateTracker]:
    sender = conversation_id("telegram", "77")
    tracker = DialogueStateTracker(sender, [])
    tracker.update(UserUttered("hello", input_channel="telegram"))
    tracker.update(BotUttered("Hi"))
    if paused:
        tracker.update(ConversationPaused())
    recorded: list[NewEscalation] = []

    def record(new: NewEscalation) -> str:
        recorded.append(new)
        return "MG-TST-001"

    guard = NeverSilent(kb=kb, settings=Settings(), matcher=lambda: matcher, record=record)
    agent = _Agent(tracker)
    out = CollectingOutputChannel()
    message = UserMessage(text, out, "77", input_channel="telegram", message_id="m-1")

    async def rasa_paused(msg: UserMessage) -> None:
        # What Rasa does with a paused conversation: log the message, predict nothing.
        agent.tracker_store.tracker.update(UserUttered(msg.text, input_channel="telegram", message_id=msg.message_id))

    asyncio.run(guard.handle(agent, message, rasa_paused))
    return out, recorded, agent.tracker_store.tracker


def test_while_a_person_has_the_chat_the_assistant_is_quiet(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    for text in ["Tuesday afternoon please", "I'm pregnant, is that a problem?", "can I talk to a person"]:
        out, recorded, tracker = _paused_turn(text, kb, matcher)
        assert out.messages == [] and recorded == [], text
        outcomes = [e.value for e in tracker.events if isinstance(e, SlotSet) and e.key == c.SLOT_TURN_OUTCOME]
        assert outcomes == [c.OUTCOME_HANDOFF], text  # the audit contract: the staff member answers
        assert not any(isinstance(e, BotUttered) and e.text != "Hi" for e in tracker.events), text


def test_a_red_flag_while_a_person_has_the_chat_gets_the_urgent_text(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    out, recorded, tracker = _paused_turn("my cheek is swollen and hot, I have a fever and pus", kb, matcher)
    assert out.messages[0]["text"].startswith(kb.render(kb.messages.escalation["red_flag"]))
    assert any("MG-TST-001" in m.get("text", "") for m in out.messages), "with the reference code"
    assert out.messages[-1]["custom"]["mesoguide"]["urgent"] is True, "the widget marks it urgent"
    [new] = recorded
    assert new["urgent"] and new["reason"] == "red_flag" and new["conversation_id"] == "telegram:77"
    outcomes = [e.value for e in tracker.events if isinstance(e, SlotSet) and e.key == c.SLOT_TURN_OUTCOME]
    assert outcomes == ["escalate:red_flag"]
    assert tracker.is_paused(), "the person keeps the chat"
    assert sum(isinstance(e, UserUttered) for e in tracker.events) == 2, "the message is logged once"


def test_a_conversation_nobody_has_still_gets_the_never_silent_reply(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    out, _recorded, _tracker = _paused_turn("Tuesday afternoon please", kb, matcher, paused=False)
    assert out.messages[0]["text"] == kb.render(kb.messages.runtime["unavailable"])


def test_a_session_that_restarts_during_a_takeover_stays_paused(kb: KnowledgeBase) -> None:
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.session_start import ActionSessionStart

    def start(paused: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        tracker = Tracker("telegram:1", {}, {}, [], paused, None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        events = asyncio.run(ActionSessionStart(knowledge=kb).run(dispatcher, tracker, {}))
        return dispatcher.messages, events

    messages, events = start(paused=True)
    assert messages == [] and [e["event"] for e in events] == ["session_started", "pause", "action"]
    messages, events = start(paused=False)
    assert messages[0]["text"] == kb.render(kb.messages.disclaimer)
    assert [e["event"] for e in events] == ["session_started", "action"]
