"""The escalation store on a real SQLite file and a real PostgreSQL (parametrised ``store``)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import sqlalchemy as sa

from mesoguide.escalations import codes as codes_module
from mesoguide.escalations import models as m
from mesoguide.escalations.codes import ALPHABET, new_reference, normalize_reference
from mesoguide.escalations.migrations import LATEST, current_version, migrate
from mesoguide.escalations.store import EscalationNotFound, EscalationStore


def new(
    conversation: str = "c1", reason: str = "contraindication", *, urgent: bool = False, terms=("contraindication:pregnancy",)
) -> m.NewEscalation:
    return m.NewEscalation(
        conversation_id=conversation,
        channel="rest",
        reason=reason,
        urgent=urgent,
        terms=list(terms),
        excerpt="patient: am I ok to have it while pregnant?",
    )


def test_an_escalation_gets_a_record_a_code_and_a_queued_notification(store: EscalationStore) -> None:
    result = store.record(new())
    assert result["created"] and result["notifications"] == 1
    assert normalize_reference(result["reference"]) == result["reference"]
    record = store.get(result["reference"])
    assert record["status"] == "open" and record["reason"] == "contraindication" and not record["urgent"]
    assert record["terms"] == ["contraindication:pregnancy"] and record["channel"] == "rest"
    assert record["excerpt"].startswith("patient:")
    [item] = store.outbox_items(record["id"])
    assert item["channel"] == "webhook" and item["event"] == "new" and item["delivered_at"] is None


def test_repeated_escalations_in_one_conversation_update_one_record(store: EscalationStore) -> None:
    first = store.record(new(reason="human", terms=()))
    second = store.record(new(reason="red_flag", urgent=True, terms=("red_flag:pus",)))
    third = store.record(new(reason="medical_advice", terms=("medical_advice:dose",)))
    assert first["reference"] == second["reference"] == third["reference"]
    assert not second["created"] and second["notifications"] == 1, "becoming urgent notifies again"
    assert third["notifications"] == 0
    record = store.get(first["reference"])
    assert record["reason"] == "red_flag", "precedence: the highest reason stays"
    assert record["urgent"] and record["times_escalated"] == 3
    assert record["terms"] == ["medical_advice:dose", "red_flag:pus"]
    assert [i["event"] for i in store.outbox_items(record["id"])] == ["new", "urgent"]
    assert len(store.list()) == 1


def test_a_resolved_record_is_not_reopened(store: EscalationStore) -> None:
    first = store.record(new())["reference"]
    store.set_status(first, "resolved", author="nurse")
    second = store.record(new())["reference"]
    assert second != first and len(store.list()) == 2


def test_status_notes_and_filters(store: EscalationStore) -> None:
    a = store.record(new("a"))["reference"]
    b = store.record(new("b", "red_flag", urgent=True))["reference"]
    store.set_status(a, "contacted", author="nurse", note="left a voicemail")
    store.add_note(a, "<b>called back</b>", author="nurse")
    record = store.get(a.lower().replace("-", " "))  # staff may type the code loosely
    assert record["status"] == "contacted"
    assert [n["text"] for n in record["notes"]] == ["status: open -> contacted", "left a voicemail", "<b>called back</b>"]
    assert [r["reference"] for r in store.list(status="contacted")] == [a]
    assert [r["reference"] for r in store.list(urgent=True)] == [b]
    assert [r["reference"] for r in store.list(reason="red_flag")] == [b]
    with pytest.raises(ValueError, match="status must be one of"):
        store.set_status(a, "closed", author="nurse")
    with pytest.raises(ValueError, match="empty"):
        store.add_note(a, "   ", author="nurse")
    with pytest.raises(ValueError, match="at most"):
        store.add_note(a, "x" * 5000, author="nurse")
    with pytest.raises(EscalationNotFound):
        store.get("MG-AAA-AAA")


def test_callback_details_are_stored_in_their_own_fields(store: EscalationStore) -> None:
    code = store.record(new())["reference"]
    request = m.CallbackRequest(name="Ana Silva", phone="+44 7700 900123", email=None, preferred_time="mornings")
    assert store.attach_callback("c1", request) == code
    record = store.get(code)
    assert (record["callback_name"], record["callback_phone"], record["callback_time"]) == (
        "Ana Silva",
        "+44 7700 900123",
        "mornings",
    )
    assert record["callback_consent_at"] is not None
    assert "Ana" not in record["excerpt"]
    assert [i["event"] for i in store.outbox_items(record["id"])] == ["new", "callback"]
    assert store.attach_callback("nobody", request) is None


def test_purge_removes_old_records_with_their_personal_data(store: EscalationStore) -> None:
    old = store.record(new("old"))["reference"]
    store.add_note(old, "note", author="nurse")
    recent = store.record(new("recent"))["reference"]
    with store.engine.begin() as conn:
        conn.execute(
            m.escalations.update().where(m.escalations.c.reference == old).values(created_at=m.utcnow() - dt.timedelta(days=400))
        )
    assert store.purge(older_than_days=365) == 1
    assert [r["reference"] for r in store.list()] == [recent]
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(m.notes)).scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(m.outbox)).scalar() == 1


def test_outbox_retry_bookkeeping(store: EscalationStore) -> None:
    store.record(new())
    [item] = store.due_notifications()
    store.mark_failed(item["id"], "connection refused", retry_in_s=60)
    assert store.due_notifications() == []
    later = m.utcnow() + dt.timedelta(seconds=61)
    [again] = store.due_notifications(now=later)
    assert again["attempts"] == 1 and again["last_error"] == "connection refused"
    store.mark_delivered(item["id"])
    assert store.due_notifications(now=later) == []


def test_urgent_notifications_are_delivered_before_the_others(store: EscalationStore) -> None:
    for n in range(4):
        store.record(new(f"routine-{n}"))  # a backlog of routine ones, queued first
    urgent = store.record(new("urgent", reason="red_flag", urgent=True))["reference"]
    [first] = store.due_notifications(limit=1)
    assert store.get_by_id(first["escalation_id"])["reference"] == urgent, "the urgent one first, even past the limit"
    order = [item["escalation_id"] for item in store.due_notifications()]
    routine = [e for e in order if e != first["escalation_id"]]
    assert order == [first["escalation_id"]] * (len(order) - len(routine)) + routine, "every urgent item before any routine one"
    assert routine == sorted(routine) and len(set(routine)) == 4, "the others oldest first"


def test_schema_is_versioned_and_migration_is_idempotent(store_url: str) -> None:
    EscalationStore(url=store_url).dispose()
    from mesoguide.escalations.store import make_engine

    engine = make_engine(store_url)
    assert migrate(engine) == LATEST
    with engine.connect() as conn:
        assert current_version(conn) == LATEST
        assert conn.execute(sa.select(sa.func.count()).select_from(m.schema_version)).scalar() == 1
    with engine.begin() as conn:
        conn.execute(m.schema_version.update().values(version=LATEST + 1))
    with pytest.raises(RuntimeError, match="upgrade MesoGuide"):
        migrate(engine)
    engine.dispose()


def test_staff_users_and_sessions(store: EscalationStore) -> None:
    assert not store.has_users()
    store.set_user("nurse", "correct horse battery")
    assert store.has_users()
    assert store.check_login("nurse", "correct horse battery")
    assert not store.check_login("nurse", "wrong password!")
    assert not store.check_login("nobody", "correct horse battery")
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(m.staff_users.c.password_hash)).scalar()
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    with pytest.raises(ValueError, match="at least"):
        store.set_user("nurse", "short")
    token, csrf = store.open_session("nurse", minutes=5)
    assert store.session(token) == ("nurse", csrf)
    assert store.session("forged") is None
    with store.engine.begin() as conn:
        conn.execute(m.staff_sessions.update().values(expires_at=m.utcnow() - dt.timedelta(seconds=1)))
    assert store.session(token) is None, "sessions expire"
    token, _ = store.open_session("nurse", minutes=5)
    store.close_session(token)
    assert store.session(token) is None


def test_reference_codes_are_unambiguous(monkeypatch: pytest.MonkeyPatch) -> None:
    # Seeded, so the run is the same every time; uniqueness is the store's job (it retries).
    monkeypatch.setattr(codes_module, "secrets", random.Random(20261124))
    codes = {new_reference() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert code.startswith("MG-") and len(code) == 10
        assert not set(code[3:].replace("-", "")) - set(ALPHABET)
        assert not set(code[3:]) & set("0O1IL2Z5S8BUV")
    assert normalize_reference("mg k7p 4xm") == "MG-K7P-4XM"
    assert normalize_reference("MG-K7P-4X") is None
    assert normalize_reference("MG-O0O-000") is None


def test_a_version_1_database_gains_roles_and_the_audit_log(store_url: str) -> None:
    """A database made before roles existed: its users keep their passwords and become staff."""
    from mesoguide.escalations.passwords import hash_password
    from mesoguide.escalations.store import make_engine

    old = sa.MetaData()
    version = sa.Table("mg_schema_version", old, sa.Column("version", sa.Integer, nullable=False))
    users = sa.Table(
        "mg_staff_users", old,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    engine = make_engine(store_url)
    with engine.begin() as conn:
        old.create_all(conn)
        conn.execute(version.insert().values(version=1))
        conn.execute(users.insert().values(username="old", password_hash=hash_password("an old password"),
                                           created_at=m.utcnow()))
    engine.dispose()
    store = EscalationStore(url=store_url)
    assert store.check_login("old", "an old password") and store.user_role("old") == "staff"
    store.audit("old", "login")
    assert store.audit_entries()[0]["action"] == "login"
    store.dispose()
