"""HTML of the staff dashboard. Every value that came from a patient or a staff member goes
through :func:`esc`; there is no script on any page (the CSP forbids scripts)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence

from mesoguide.escalations.models import REASONS, STATUSES, EscalationRecord

REASON_LABELS = {
    "red_flag": "Red flag",
    "contraindication": "Contraindication",
    "medical_advice": "Medical advice",
    "human": "Asked for a person",
}

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1d2733;background:#f5f7f9}
header{background:#16425b;color:#fff;padding:.6rem 1.2rem;display:flex;justify-content:space-between;align-items:center}
header a{color:#fff}
header button{color:#fff;background:none;border:1px solid #fff;border-radius:.2rem;cursor:pointer}
main{padding:1.2rem;max-width:70rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #dde3e8;vertical-align:top}
.urgent{color:#fff;background:#b3261e;padding:.1rem .4rem;border-radius:.2rem;font-weight:600}
.status{padding:.1rem .4rem;border-radius:.2rem;background:#e3e8ed}
.excerpt{white-space:pre-wrap;background:#fff;border:1px solid #dde3e8;padding:.7rem}
form.inline{display:inline}
.error{color:#b3261e}
label{margin-right:.6rem}
section{margin:1rem 0}
"""


def esc(value: object) -> str:
    """HTML-escaped text (quotes too, so it is safe inside attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def when(value: dt.datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "-"


def layout(title: str, body: str, *, user: str | None = None, csrf: str | None = None) -> str:
    logout = ""
    if user:
        logout = (
            f'<span>{esc(user)} <form class="inline" method="post" action="/logout">'
            f'<input type="hidden" name="csrf_token" value="{esc(csrf)}">'
            '<button type="submit">Log out</button></form></span>'
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} - MesoGuide staff</title><style>{STYLE}</style></head><body>"
        f'<header><a href="/"><strong>MesoGuide escalations</strong></a>{logout}</header>'
        f"<main>{body}</main></body></html>"
    )


def login_page(csrf: str, *, error: str | None = None) -> str:
    message = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    return layout(
        "Log in",
        "<h1>Staff log-in</h1>" + message
        + '<form method="post" action="/login">'
        f'<input type="hidden" name="csrf_token" value="{esc(csrf)}">'
        '<p><label>User name <input name="username" autocomplete="username" required maxlength="64"></label></p>'
        '<p><label>Password <input name="password" type="password" autocomplete="current-password" required maxlength="200"></label></p>'
        '<p><button type="submit">Log in</button></p></form>',
    )


def _options(values: Sequence[str], selected: str | None, labels: Mapping[str, str] | None = None) -> str:
    items = ['<option value="">any</option>']
    for value in values:
        mark = " selected" if value == selected else ""
        items.append(f'<option value="{esc(value)}"{mark}>{esc((labels or {}).get(value, value))}</option>')
    return "".join(items)


def list_page(
    records: Sequence[EscalationRecord], filters: Mapping[str, str | None], *, user: str, csrf: str
) -> str:
    rows = "".join(
        "<tr>"
        f'<td><a href="/escalations/{esc(r["reference"])}">{esc(r["reference"])}</a></td>'
        f"<td>{when(r['created_at'])}</td>"
        f"<td>{'<span class=urgent>URGENT</span>' if r['urgent'] else ''}</td>"
        f"<td>{esc(REASON_LABELS.get(r['reason'], r['reason']))}</td>"
        f"<td><span class=status>{esc(r['status'])}</span></td>"
        f"<td>{'yes' if r['callback_consent_at'] else ''}</td>"
        f"<td>{esc(r['channel'])}</td>"
        "</tr>"
        for r in records
    )
    urgent_checked = " checked" if filters.get("urgent") == "1" else ""
    body = (
        "<h1>Escalations</h1>"
        '<form method="get" action="/" class="filters">'
        f'<label>Status <select name="status">{_options(STATUSES, filters.get("status"))}</select></label>'
        f'<label>Reason <select name="reason">{_options(REASONS, filters.get("reason"), REASON_LABELS)}</select></label>'
        f'<label><input type="checkbox" name="urgent" value="1"{urgent_checked}> urgent only</label>'
        '<button type="submit">Filter</button></form>'
        f"<p>{len(records)} escalation(s)</p>"
        "<table><thead><tr><th>Reference</th><th>Created</th><th></th><th>Reason</th><th>Status</th>"
        f"<th>Callback</th><th>Channel</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    return layout("Escalations", body, user=user, csrf=csrf)


def detail_page(r: EscalationRecord, *, user: str, csrf: str, error: str | None = None) -> str:
    ref = esc(r["reference"])
    hidden = f'<input type="hidden" name="csrf_token" value="{esc(csrf)}">'
    callback = "<p>No callback requested.</p>"
    if r["callback_consent_at"]:
        callback = (
            "<dl>"
            f"<dt>Name</dt><dd>{esc(r['callback_name'])}</dd>"
            f"<dt>Phone</dt><dd>{esc(r['callback_phone'] or '-')}</dd>"
            f"<dt>E-mail</dt><dd>{esc(r['callback_email'] or '-')}</dd>"
            f"<dt>Preferred time</dt><dd>{esc(r['callback_time'])}</dd>"
            f"<dt>Consent given</dt><dd>{when(r['callback_consent_at'])}</dd></dl>"
        )
    notes = "".join(
        f"<li><strong>{esc(n['author'])}</strong>, {when(n['created_at'])}: {esc(n['text'])}</li>" for n in r["notes"]
    ) or "<li>No notes yet.</li>"
    status_options = "".join(
        f'<option value="{esc(s)}"{" selected" if s == r["status"] else ""}>{esc(s)}</option>' for s in STATUSES
    )
    message = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    body = (
        f'<p><a href="/">&larr; all escalations</a></p><h1>{ref} '
        f"{'<span class=urgent>URGENT</span>' if r['urgent'] else ''}</h1>{message}"
        "<table>"
        f"<tr><th>Reason</th><td>{esc(REASON_LABELS.get(r['reason'], r['reason']))}</td></tr>"
        f"<tr><th>Status</th><td><span class=status id=status>{esc(r['status'])}</span></td></tr>"
        f"<tr><th>Created</th><td>{when(r['created_at'])}</td></tr>"
        f"<tr><th>Updated</th><td>{when(r['updated_at'])}</td></tr>"
        f"<tr><th>Escalated</th><td>{esc(r['times_escalated'])} time(s) in this conversation</td></tr>"
        f"<tr><th>Matched terms</th><td>{esc(', '.join(r['terms']) or '-')}</td></tr>"
        f"<tr><th>Channel</th><td>{esc(r['channel'])}</td></tr>"
        f"<tr><th>Conversation</th><td>{esc(r['conversation_id'])}</td></tr>"
        "</table>"
        "<section><h2>What the patient wrote (contact details removed)</h2>"
        f'<div class="excerpt">{esc(r["excerpt"] or "-")}</div></section>'
        f"<section><h2>Callback</h2>{callback}</section>"
        f'<section><h2>Status</h2><form method="post" action="/escalations/{ref}/status">{hidden}'
        f'<select name="status" aria-label="new status">{status_options}</select> '
        '<button type="submit">Change status</button></form></section>'
        f"<section><h2>Notes</h2><ul>{notes}</ul>"
        f'<form method="post" action="/escalations/{ref}/notes">{hidden}'
        '<p><textarea name="text" rows="3" cols="60" maxlength="4000" aria-label="note" required></textarea></p>'
        '<button type="submit">Add note</button></form></section>'
    )
    return layout(r["reference"], body, user=user, csrf=csrf)


def message_page(title: str, text: str, *, user: str | None = None, csrf: str | None = None) -> str:
    return layout(title, f"<h1>{esc(title)}</h1><p>{esc(text)}</p>", user=user, csrf=csrf)
