"""``python -m mesoguide.escalations``: list, show, status/resolve, note, export-csv, purge, add-user."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys

import pytest

from mesoguide.escalations import models as m
from mesoguide.escalations.cli import main
from mesoguide.escalations.store import EscalationStore
from mesoguide.paths import REPO_ROOT


@pytest.fixture
def db(tmp_path, monkeypatch) -> EscalationStore:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MESOGUIDE_DATABASE_URL", url)
    monkeypatch.delenv("MESOGUIDE_NOTIFY_WEBHOOK_URL", raising=False)
    return EscalationStore(url=url)


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def record(
    store: EscalationStore, conversation: str, reason: str = "contraindication", *, excerpt: str = "patient: warfarin?"
) -> str:
    return store.record(
        m.NewEscalation(
            conversation_id=conversation,
            channel="rest",
            reason=reason,
            urgent=reason == "red_flag",
            terms=[f"{reason}:x"],
            excerpt=excerpt,
        )
    )["reference"]


def test_list_show_resolve(db: EscalationStore) -> None:
    a = record(db, "a")
    b = record(db, "b", "red_flag")
    code, out = cli("list")
    assert code == 0 and a in out and b in out and "2 escalation(s)" in out and "URGENT" in out
    code, out = cli("list", "--urgent")
    assert a not in out and b in out
    code, out = cli("show", a)
    assert code == 0 and "patient: warfarin?" in out and "status: open" in out
    assert cli("note", a, "called, no answer", "--by", "nurse")[0] == 0
    code, out = cli("resolve", a, "--note", "spoke to the patient", "--by", "nurse")
    assert code == 0 and f"{a}: resolved" in out
    code, out = cli("show", a)
    assert "status: resolved" in out and "nurse: called, no answer" in out and "cli:nurse: spoke to the patient" in out
    assert a not in cli("list", "--status", "open")[1]


def test_errors_are_one_clear_line(db: EscalationStore, capsys) -> None:
    assert cli("show", "MG-AAA-AAA")[0] == 2
    assert "no escalation with reference" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli("status", "MG-AAA-AAA", "closed")  # argparse names the allowed statuses


def test_export_csv_neutralises_formulas(db: EscalationStore, tmp_path) -> None:
    a = record(db, "a", excerpt='=HYPERLINK("http://evil")')
    path = tmp_path / "out.csv"
    code, out = cli("export-csv", str(path))
    assert code == 0 and "1 escalation(s) exported" in out
    [row] = list(csv.DictReader(path.open(encoding="utf-8")))
    assert row["reference"] == a and row["excerpt"].startswith("'=") and row["status"] == "open"


def test_purge_uses_the_retention_period(db: EscalationStore, monkeypatch) -> None:
    old, recent = record(db, "old"), record(db, "recent")
    with db.engine.begin() as conn:
        conn.execute(
            m.escalations.update().where(m.escalations.c.reference == old).values(created_at=m.utcnow() - dt.timedelta(days=40))
        )
    monkeypatch.setenv("MESOGUIDE_RETENTION_DAYS", "30")
    code, out = cli("purge")
    assert code == 0 and "1 escalation(s) older than 30 days deleted" in out
    assert [r["reference"] for r in db.list()] == [recent]


def test_add_user_reads_the_password_from_stdin(db: EscalationStore, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    code, out = cli("add-user", "nurse", "--password-stdin")
    assert code == 0 and db.check_login("nurse", "a long enough password")
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli("add-user", "nurse", "--password-stdin")[0] == 2


def test_the_module_runs_as_documented(db: EscalationStore) -> None:
    a = record(db, "a")
    result = subprocess.run(
        [sys.executable, "-m", "mesoguide.escalations", "list"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and a in result.stdout


def test_outbox_lists_undelivered_notifications(db: EscalationStore, monkeypatch) -> None:
    db.notify_channels = ("webhook",)
    record(db, "a")
    [item] = db.outbox_items()
    db.mark_failed(item["id"], "ConnectionRefusedError", retry_in_s=30)
    code, out = cli("outbox")
    assert code == 0 and "webhook new: 1 failed attempt(s)" in out and "ConnectionRefusedError" in out
    db.mark_delivered(item["id"])
    assert "0 notification(s)" in cli("outbox")[1]
    assert "1 notification(s)" in cli("outbox", "--all")[1]


def test_import_spool_stores_what_could_not_be_stored(db: EscalationStore, tmp_path, monkeypatch) -> None:
    import json

    spool = tmp_path / "unsaved.jsonl"
    monkeypatch.setenv("MESOGUIDE_ESCALATION_SPOOL", str(spool))
    lines = [
        {
            "kind": "escalation",
            "conversation_id": "p1",
            "channel": "rest",
            "reason": "red_flag",
            "urgent": True,
            "terms": ["red_flag:pus"],
            "excerpt": "patient: pus",
            "failed_at": "2026-11-21T04:00:00",
        },
        {
            "kind": "callback",
            "conversation_id": "p1",
            "name": "Ana Silva",
            "phone": None,
            "email": "ana@example.com",
            "preferred_time": "mornings",
            "failed_at": "2026-11-21T04:01:00",
        },
    ]
    spool.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    code, out = cli("import-spool")
    assert code == 0 and "1 escalation(s) and 1 callback request(s) stored" in out
    [r] = db.list()
    assert r["urgent"] and db.get(r["reference"])["callback_email"] == "ana@example.com"
    assert not spool.exists(), "moved aside so it cannot be imported twice"
    assert "nothing to import" in cli("import-spool")[1]
