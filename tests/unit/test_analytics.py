"""What patients ask: a scripted day written through Rasa's own SQL tracker store and the real
escalation store (SQLite), read back as the report, the CSV and the charts."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from mesoguide import constants as c
from mesoguide.analytics import build_report
from mesoguide.analytics.charts import horizontal, stacked_by_day
from mesoguide.analytics.grouping import content_words, group_similar
from mesoguide.dashboard.analytics import csv_text
from mesoguide.escalations import models as m
from mesoguide.escalations.store import EscalationStore
from mesoguide.takeover.records import TakeoverLog

DAY = dt.date(2026, 12, 3)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> float:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.timezone.utc).timestamp()


def conversation(store: SQLTrackerStore, sender: str, turns: list[tuple[float, str, str]]) -> None:
    """Save a conversation: (time, patient text, outcome) per turn."""
    tracker = DialogueStateTracker(sender, [])
    for timestamp, text, outcome in turns:
        tracker.update(UserUttered(text, timestamp=timestamp))
        tracker.update(BotUttered("reply", timestamp=timestamp + 1))
        tracker.update(SlotSet(c.SLOT_TURN_OUTCOME, outcome, timestamp=timestamp + 1))
    asyncio.run(store.save(tracker))


@pytest.fixture
def scripted_day(tmp_path: Path, sqlite_store: EscalationStore) -> tuple[sa.engine.Engine, EscalationStore]:
    """Four conversations on three channels the day before, one the day before that."""
    tracker_store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    conversation(tracker_store, "webchat:a", [
        (at(9), "does it hurt?", "answer:pain"),
        (at(9, 1), "how many sessions?", "answer:sessions"),
        (at(9, 2), "can I drink alcohol after it? call me on 07700 900123", "fallback"),
    ])
    conversation(tracker_store, "telegram:1", [
        (at(10), "does mesotherapy hurt", "answer:pain"),
        (at(10, 5), "Can I drink alcohol after treatment", "fallback"),
        (at(10, 6), "my face is swollen and hot", "escalate:red_flag"),
    ])
    conversation(tracker_store, "twilio:+15550001111", [
        (at(11), "talk to a person", "escalate:human"),
        (at(11, 1), "is it halal", "fallback"),
    ])
    conversation(tracker_store, "webchat:b", [(at(23, 59), "hi", "smalltalk:greet")])
    conversation(tracker_store, "webchat:old", [(at(12, day=DAY - dt.timedelta(days=1)), "price?", "fallback")])
    conversation(tracker_store, "webchat:future", [(at(8, day=DAY + dt.timedelta(days=1)), "later", "fallback")])

    red = sqlite_store.record(m.NewEscalation(
        conversation_id="telegram:1", channel="telegram", reason="red_flag", urgent=True, terms=[], excerpt="x"))
    human = sqlite_store.record(m.NewEscalation(
        conversation_id="twilio:+15550001111", channel="twilio", reason="human", urgent=False, terms=[], excerpt="y"))
    created = dt.datetime.combine(DAY, dt.time(10, 6))
    with sqlite_store.engine.begin() as conn:  # the records as they were written that day
        conn.execute(m.escalations.update().where(m.escalations.c.reference == red["reference"]).values(created_at=created))
        conn.execute(m.escalations.update().where(m.escalations.c.reference == human["reference"])
                     .values(created_at=dt.datetime.combine(DAY, dt.time(11))))
    # Staff wrote in the red flag's chat 12 minutes later; the human request is still waiting.
    log = TakeoverLog(engine=sqlite_store.engine)
    log.start("telegram:1", channel="telegram", user="anna", name="Anna")
    with sqlite_store.engine.begin() as conn:
        conn.execute(m.takeovers.update().values(first_message_at=created + dt.timedelta(minutes=12)))
    return sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}"), sqlite_store


def test_the_report_counts_what_the_day_produced(scripted_day) -> None:
    tracker, store = scripted_day
    report = build_report(tracker, store.engine, days=1, today=DAY)
    assert report.days == [DAY]
    assert dict(report.conversations[DAY]) == {"webchat": 2, "telegram": 1, "twilio": 1}
    assert dict(report.answers) == {"pain": 2, "sessions": 1}
    assert report.turns == 9 and report.fallbacks == 3 and report.fallback_rate == pytest.approx(3 / 9)
    assert dict(report.escalations[DAY]) == {("red_flag", True): 1, ("human", False): 1}
    assert report.first_contact_minutes == [pytest.approx(12)] and report.waiting == 1
    assert report.median_first_contact_minutes == pytest.approx(12)
    [alcohol, halal] = report.fallback_groups
    assert alcohol.count == 2 and halal.examples == ["is it halal"]
    assert not any("07700" in e for e in alcohol.examples), "fallback questions are redacted"


def test_a_longer_period_takes_in_the_day_before(scripted_day) -> None:
    tracker, store = scripted_day
    report = build_report(tracker, store.engine, days=2, today=DAY)
    assert dict(report.conversations[DAY - dt.timedelta(days=1)]) == {"webchat": 1}
    assert report.fallbacks == 4


def test_a_marked_callback_counts_as_first_contact(scripted_day) -> None:
    tracker, store = scripted_day
    [human] = [r for r in store.list() if r["reason"] == "human"]
    with store.engine.begin() as conn:
        conn.execute(m.audit_log.insert().values(
            at=human["created_at"] + dt.timedelta(minutes=30), actor="ben", action="status_contacted", target=human["reference"]))
    report = build_report(tracker, store.engine, days=1, today=DAY)
    assert sorted(report.first_contact_minutes) == [pytest.approx(12), pytest.approx(30)] and report.waiting == 0
    assert report.median_first_contact_minutes == pytest.approx(21)


def test_an_empty_database_gives_an_empty_report(tmp_path: Path, sqlite_store: EscalationStore) -> None:
    report = build_report(sa.create_engine(f"sqlite:///{tmp_path / 'none.db'}"), sqlite_store.engine, days=7, today=DAY)
    assert report.turns == 0 and report.fallback_rate is None and report.median_first_contact_minutes is None
    assert len(report.days) == 7 and report.channels() == []
    with pytest.raises(ValueError, match="days"):
        build_report(sa.create_engine("sqlite://"), sqlite_store.engine, days=0)


def test_the_csv_has_every_number_and_no_formulas(scripted_day) -> None:
    tracker, store = scripted_day
    report = build_report(tracker, store.engine, days=1, today=DAY)
    report.fallback_groups[1].examples[0] = "=HYPERLINK(\"http://x\")"
    rows = list(csv.reader(io.StringIO(csv_text(report))))
    assert rows[0] == ["section", "day", "key", "value"]
    assert ["conversations", "2026-12-03", "webchat", "2"] in rows
    assert ["escalations", "2026-12-03", "red_flag urgent", "1"] in rows
    assert ["answers", "", "pain", "2"] in rows
    assert ["fallback_rate", "", "", "0.3333"] in rows
    assert ["first_contact_median_minutes", "", "", "12.0"] in rows
    assert ["fallback_question", "", "'=HYPERLINK(\"http://x\")", "1"] in rows


def test_similar_questions_are_grouped_and_unlike_ones_are_not() -> None:
    groups = group_similar([
        "can I drink alcohol after?", "Can I drink alcohol after treatment", "is it halal", "??", "hm",
        "how much does it cost", "what does it cost?", "cost", "do you do lips?",
    ])
    assert [(g.count, g.examples[0]) for g in groups] == [
        (3, "how much does it cost"), (2, "can I drink alcohol after?"), (2, "??"), (1, "is it halal"), (1, "do you do lips?"),
    ]
    assert content_words("Sessions and the sessions") == frozenset({"session"})


def test_charts_are_svg_with_escaped_labels() -> None:
    days = [DAY - dt.timedelta(days=1), DAY]
    svg = stacked_by_day("Conversations", days, {"<script>": [1, 2], "telegram": [0, 3]})
    assert svg.startswith("<svg") and "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<rect") == 3 + 2, "three bars (a zero draws nothing) and two legend keys"
    assert "<title>Conversations</title>" in svg and 'role="img"' in svg
    empty = horizontal("Answers per topic", [])
    assert "Nothing in this period." in empty
    bars = horizontal("Answers per topic", [("pain", 4), ("sessions", 2)])
    assert bars.count("<rect") == 2 and 'width="266.0"' in bars and 'width="133.0"' in bars, "bars in proportion"
