"""Retention and erasure against a real Rasa SQL tracker store and a real escalation store."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from mesoguide.escalations import cli, retention
from mesoguide.escalations.models import NewEscalation
from mesoguide.escalations.store import EscalationStore
from mesoguide.paths import REPO_ROOT

SMS = "twilio:+447700900123"
OTHER = "rest:someone-else"


def _tracker_store(path: Path) -> SQLTrackerStore:
    return SQLTrackerStore(Domain.load(REPO_ROOT / "domain.yml"), dialect="sqlite", db=str(path))


def _save(store: SQLTrackerStore, sender: str, texts: list[tuple[str, float]]) -> None:
    tracker = DialogueStateTracker(sender, slots=[])
    for text, timestamp in texts:
        tracker.update(UserUttered(text, timestamp=timestamp))
    asyncio.run(store.save(tracker))


def _texts(store: SQLTrackerStore, sender: str) -> list[str]:
    tracker = asyncio.run(store.retrieve_full_tracker(sender))
    return [e.text for e in tracker.events if isinstance(e, UserUttered)] if tracker else []


@pytest.fixture()
def stores(tmp_path: Path) -> tuple[SQLTrackerStore, EscalationStore, Path]:
    trackers = _tracker_store(tmp_path / "tracker.db")
    escalations = EscalationStore(url=f"sqlite:///{tmp_path / 'escalations.db'}", notify_channels=())
    return trackers, escalations, tmp_path / "tracker.db"


def _escalate(store: EscalationStore, conversation: str) -> str:
    new = NewEscalation(conversation_id=conversation, channel=conversation.split(":")[0], reason="contraindication",
                        urgent=False, terms=[], excerpt="patient: I'm on warfarin")
    return store.record(new)["reference"]


def test_old_conversation_messages_are_purged(stores: tuple[SQLTrackerStore, EscalationStore, Path]) -> None:
    trackers, _, db = stores
    now = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    old, recent = (now - dt.timedelta(days=120)).timestamp(), (now - dt.timedelta(days=5)).timestamp()
    _save(trackers, SMS, [("old message", old), ("recent message", recent)])
    assert retention.purge_conversations(f"sqlite:///{db}", older_than_days=90, now=now) == 1
    assert _texts(_tracker_store(db), SMS) == ["recent message"]
    with pytest.raises(ValueError):
        retention.purge_conversations(f"sqlite:///{db}", older_than_days=-1)


def test_forget_erases_one_conversation_everywhere(stores: tuple[SQLTrackerStore, EscalationStore, Path], tmp_path: Path) -> None:
    trackers, escalations, db = stores
    _save(trackers, SMS, [("I'm on warfarin", 1.0)])
    _save(trackers, OTHER, [("does it hurt?", 1.0)])
    reference = _escalate(escalations, SMS)
    kept = _escalate(escalations, OTHER)
    spool = tmp_path / "spool.jsonl"
    spool.write_text(json.dumps({"kind": "callback", "conversation_id": SMS, "callback_phone": "07700900123"}) + "\n"
                     + json.dumps({"kind": "escalation", "conversation_id": OTHER}) + "\n", encoding="utf-8")

    gone = retention.forget(reference.lower().replace("-", " "), store=escalations, tracker=f"sqlite:///{db}", spool=spool)

    assert gone.conversation_id == SMS and gone.escalations == (reference,) and gone.spooled == 1
    assert gone.tracker_events > 0 and _texts(_tracker_store(db), SMS) == []
    assert _texts(_tracker_store(db), OTHER) == ["does it hurt?"], "other conversations are untouched"
    assert [r["reference"] for r in escalations.list()] == [kept]
    assert "07700900123" not in spool.read_text() and OTHER in spool.read_text()
    assert spool.stat().st_mode & 0o077 == 0


def test_forget_by_conversation_id_from_the_command_line(
    stores: tuple[SQLTrackerStore, EscalationStore, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    trackers, escalations, db = stores
    _save(trackers, SMS, [("I'm on warfarin", 1.0)])
    _escalate(escalations, SMS)
    monkeypatch.setenv("MESOGUIDE_DATABASE_URL", escalations.url)
    monkeypatch.setenv("MESOGUIDE_TRACKER_URL", f"sqlite:///{db}")
    monkeypatch.setenv("MESOGUIDE_ESCALATION_SPOOL", str(db.parent / "none.jsonl"))
    assert cli.main(["forget", SMS]) == 0
    assert "1 escalation(s)" in capsys.readouterr().out
    assert escalations.list() == [] and _texts(_tracker_store(db), SMS) == []
