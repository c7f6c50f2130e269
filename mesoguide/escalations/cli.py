"""``python -m mesoguide.escalations``: the staff CLI (same store as the dashboard).

Commands: migrate, list, show, status, resolve, note, export-csv, purge, purge-conversations,
forget, add-user, disable-user, audit, outbox, import-spool, notify. Commands that read or change
patient records or users are written to the audit log under the operating-system user.
Errors print one line saying what to fix and exit 2; nothing prints a stack trace.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import logging
import os
import sys
from typing import TextIO

from mesoguide.escalations import models as m
from mesoguide.escalations import retention
from mesoguide.escalations.config import EscalationConfig, EscalationConfigError
from mesoguide.escalations.redaction import spreadsheet_safe
from mesoguide.escalations.store import EscalationNotFound, EscalationStore

CSV_FIELDS = (
    "reference",
    "created_at",
    "updated_at",
    "status",
    "reason",
    "urgent",
    "channel",
    "conversation_id",
    "terms",
    "times_escalated",
    "callback_name",
    "callback_phone",
    "callback_email",
    "callback_time",
    "callback_consent_at",
    "excerpt",
    "notes",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mesoguide.escalations", description="MesoGuide escalation queue")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the database schema")
    ls = sub.add_parser("list", help="list escalations, newest first")
    ls.add_argument("--status", choices=m.STATUSES)
    ls.add_argument("--reason", choices=m.REASONS)
    ls.add_argument("--urgent", action="store_true", help="only urgent ones")
    show = sub.add_parser("show", help="one escalation with excerpt, callback details and notes")
    show.add_argument("reference")
    status = sub.add_parser("status", help="set the status of an escalation")
    status.add_argument("reference")
    status.add_argument("status", choices=m.STATUSES)
    status.add_argument("--note")
    resolve = sub.add_parser("resolve", help="mark an escalation resolved")
    resolve.add_argument("reference")
    resolve.add_argument("--note")
    note = sub.add_parser("note", help="add a staff note")
    note.add_argument("reference")
    note.add_argument("text")
    export = sub.add_parser("export-csv", help="every escalation as CSV (to a file, or - for stdout)")
    export.add_argument("path")
    purge = sub.add_parser("purge", help="delete escalations older than the retention period")
    purge.add_argument("--older-than-days", type=int, help="default: MESOGUIDE_RETENTION_DAYS (365)")
    conversations = sub.add_parser("purge-conversations", help="delete conversation messages older than their retention period")
    conversations.add_argument("--older-than-days", type=int, help="default: MESOGUIDE_CONVERSATION_RETENTION_DAYS (90)")
    forget = sub.add_parser("forget", help="erase one conversation everywhere (messages, escalations, callback details, spool)")
    forget.add_argument("target", help="a conversation id (twilio:+44..., rest:..., webchat:...) or a reference code")
    user = sub.add_parser("add-user", help="create a staff user or set their password")
    user.add_argument("username")
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user.add_argument("--role", choices=m.ROLES, help="staff (the queue) or admin (also the audit log); default: keep")
    disable = sub.add_parser("disable-user", help="stop a staff user logging in and end their sessions")
    disable.add_argument("username")
    sub.add_parser("audit", help="the audit log of staff actions, newest first")
    outbox = sub.add_parser("outbox", help="notifications not delivered yet (attempts, last error)")
    outbox.add_argument("--all", action="store_true", help="delivered ones too")
    spool = sub.add_parser("import-spool", help="store the escalations that could not be stored when they happened")
    spool.add_argument("path", nargs="?", help="default: MESOGUIDE_ESCALATION_SPOOL or build/escalations-unsaved.jsonl")
    notify = sub.add_parser("notify", help="run the notification worker (webhook / e-mail outbox)")
    notify.add_argument("--once", action="store_true", help="one delivery round, then exit")
    notify.add_argument("--poll", type=float, default=1.0, help="seconds between rounds")
    for command in (status, resolve, note):
        command.add_argument("--by", default=os.environ.get("USER") or "staff", help="who does this (for the notes)")
    return parser


def main(argv: list[str] | None = None, *, out: TextIO | None = None) -> int:
    """Runs one command; returns the exit code."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = EscalationConfig.from_env()
        store = EscalationStore(url=config.database_url, notify_channels=config.notify_channels)
        return _run(args, store, config, out)
    except (EscalationNotFound, ValueError, EscalationConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, store: EscalationStore, config: EscalationConfig, out: TextIO) -> int:
    command = args.command
    if command == "migrate":
        print(f"schema up to date at {_safe_url(config.database_url)}", file=out)
    elif command == "list":
        rows = store.list(status=args.status, reason=args.reason, urgent=True if args.urgent else None)
        for r in rows:
            flag = "URGENT" if r["urgent"] else "      "
            print(
                f"{r['reference']}  {r['created_at']:%Y-%m-%d %H:%M}  {flag}  {r['status']:9}  {r['reason']:16}  {r['channel']}",
                file=out,
            )
        print(f"{len(rows)} escalation(s)", file=out)
    elif command == "show":
        record = store.get(args.reference)
        store.audit(_operator(), "record_viewed", record["reference"])
        _show(record, out)
    elif command in ("status", "resolve"):
        status = args.status if command == "status" else "resolved"
        store.set_status(args.reference, status, author=f"cli:{args.by}", note=args.note)
        store.audit(f"cli:{args.by}", f"status_{status}", args.reference)
        print(f"{args.reference}: {status}", file=out)
    elif command == "note":
        store.add_note(args.reference, args.text, author=f"cli:{args.by}")
        store.audit(f"cli:{args.by}", "note_added", args.reference)
        print(f"{args.reference}: note added", file=out)
    elif command == "export-csv":
        count = _export(store, args.path, out)
        store.audit(_operator(), "export_csv", str(count))
        print(f"{count} escalation(s) exported to {args.path}", file=sys.stderr if args.path == "-" else out)
    elif command == "purge":
        days = config.retention_days if args.older_than_days is None else args.older_than_days
        if days < 0:
            raise ValueError("--older-than-days must not be negative")
        print(f"{store.purge(older_than_days=days)} escalation(s) older than {days} days deleted", file=out)
        store.audit(_operator(), "purge", f"older than {days} days")
    elif command == "purge-conversations":
        days = retention.conversation_retention_days() if args.older_than_days is None else args.older_than_days
        count = retention.purge_conversations(retention.tracker_url(), older_than_days=days)
        print(f"{count} conversation event(s) older than {days} days deleted", file=out)
    elif command == "forget":
        gone = retention.forget(args.target, store=store, tracker=retention.tracker_url())
        store.audit(_operator(), "forget", ",".join(gone.escalations) or "no escalation")
        print(
            f"conversation {gone.conversation_id}: {gone.tracker_events} message event(s), "
            f"{len(gone.escalations)} escalation(s) {', '.join(gone.escalations) or ''}, "
            f"{gone.spooled} spooled record(s) erased",
            file=out,
        )
    elif command == "add-user":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
        store.set_user(args.username, password, role=args.role)
        store.audit(_operator(), "user_saved", args.username)
        print(f"staff user {args.username!r} saved (any session of theirs ended)", file=out)
    elif command == "disable-user":
        store.disable_user(args.username)
        store.audit(_operator(), "user_disabled", args.username)
        print(f"staff user {args.username!r} disabled", file=out)
    elif command == "audit":
        for e in store.audit_entries():
            print(f"{e['at']:%Y-%m-%d %H:%M:%S}  {e['actor']:20}  {e['action']:18}  {e['target']}", file=out)
    elif command == "outbox":
        items = [i for i in store.outbox_items() if args.all or i["delivered_at"] is None]
        for i in items:
            state = (
                f"delivered {i['delivered_at']:%Y-%m-%d %H:%M:%S}"
                if i["delivered_at"]
                else f"next try {i['next_attempt_at']:%Y-%m-%d %H:%M:%S}"
            )
            print(
                f"#{i['id']} escalation {i['escalation_id']} {i['channel']} {i['event']}: "
                f"{i['attempts']} failed attempt(s), {state}"
                + (f", last error: {i['last_error']}" if i["last_error"] else ""),
                file=out,
            )
        print(f"{len(items)} notification(s)", file=out)
    elif command == "import-spool":
        print(_import_spool(store, args.path), file=out)
    elif command == "notify":
        from mesoguide.escalations.notifier import deliver_due, run_forever

        if args.once:
            delivered, failed = deliver_due(store, config)
            print(f"{delivered} delivered, {failed} failed (will be retried)", file=out)
        else:
            run_forever(store, config, poll_s=args.poll)
    return 0


def _operator() -> str:
    return f"cli:{os.environ.get('USER') or 'staff'}"


def _import_spool(store: EscalationStore, path_arg: str | None) -> str:
    """Stores spooled escalations (and their callback details); the file is renamed afterwards
    so a second run cannot store them twice."""
    import json
    from pathlib import Path

    from mesoguide.escalations.spool import spool_path

    path = Path(path_arg) if path_arg else spool_path()
    if not path.exists():
        return f"nothing to import: {path} does not exist"
    stored = callbacks = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise ValueError(f"{path}, line {number}: not JSON; fix or remove the line and run again") from None
        if item.get("kind") == "callback":
            request = m.CallbackRequest(
                name=item["name"], phone=item.get("phone"), email=item.get("email"), preferred_time=item["preferred_time"]
            )
            if store.attach_callback(item["conversation_id"], request) is None:
                store.record(
                    m.NewEscalation(
                        conversation_id=item["conversation_id"],
                        channel="unknown",
                        reason="human",
                        urgent=False,
                        terms=[],
                        excerpt="",
                    )
                )
                store.attach_callback(item["conversation_id"], request)
            callbacks += 1
        else:
            # The spool holds whatever a record was when it could not be stored: keep its known keys.
            store.record(m.NewEscalation(**{k: item[k] for k in m.NewEscalation.__annotations__}))  # type: ignore[typeddict-item]
            stored += 1
    done = path.with_name(path.name + f".imported-{m.utcnow():%Y%m%d%H%M%S}")
    path.rename(done)
    return f"{stored} escalation(s) and {callbacks} callback request(s) stored; spool moved to {done}"


def _show(r: m.EscalationRecord, out: TextIO) -> None:
    print(f"{r['reference']}  {'URGENT ' if r['urgent'] else ''}{r['reason']}  status: {r['status']}", file=out)
    print(
        f"created {r['created_at']:%Y-%m-%d %H:%M} UTC, updated {r['updated_at']:%Y-%m-%d %H:%M} UTC, "
        f"escalated {r['times_escalated']}x, channel {r['channel']}, conversation {r['conversation_id']}",
        file=out,
    )
    print(f"terms: {', '.join(r['terms']) or '-'}", file=out)
    if r["callback_consent_at"]:
        print(
            f"callback: {r['callback_name']}, {r['callback_phone'] or ''} {r['callback_email'] or ''}, "
            f"preferred time: {r['callback_time']} (consent {r['callback_consent_at']:%Y-%m-%d %H:%M} UTC)",
            file=out,
        )
    print("excerpt:", file=out)
    print("  " + (r["excerpt"] or "-").replace("\n", "\n  "), file=out)
    for n in r["notes"]:
        print(f"note {n['created_at']:%Y-%m-%d %H:%M} {n['author']}: {n['text']}", file=out)


def _export(store: EscalationStore, path: str, out: TextIO) -> int:
    handle = out if path == "-" else open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - stdout is not ours to close
    try:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        count = 0
        for r in store.iter_all():
            # CSV_FIELDS are record keys, but mypy cannot read a tuple of strings as TypedDict keys.
            row = {k: r[k] for k in CSV_FIELDS if k not in ("terms", "notes")}  # type: ignore[literal-required]
            row["terms"] = " ".join(r["terms"])
            row["notes"] = " | ".join(f"{n['author']}: {n['text']}" for n in r["notes"])
            # A cell starting with = + - @ is a formula in spreadsheets: neutralise it.
            writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
            count += 1
        return count
    finally:
        if handle is not out:
            handle.close()


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)
