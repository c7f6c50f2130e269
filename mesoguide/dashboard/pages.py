"""HTML of the staff dashboard, from the Jinja2 templates in ``templates/``.

Autoescaping is on for every template, so a value that came from a patient or a staff member is
never read as markup, and a missing value is an error rather than an empty string. The only script
is the live chat page's own ``live.js`` (the CSP allows no other).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mesoguide.escalations.models import REASONS, STATUSES, EscalationRecord
from mesoguide.takeover.transcript import Line

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
nav a{color:#fff;margin-right:1rem;white-space:nowrap;display:inline-block}
header{flex-wrap:wrap;gap:.3rem}
ol.transcript{list-style:none;padding:0;background:#fff;border:1px solid #dde3e8;max-height:60vh;overflow:auto}
ol.transcript li{padding:.45rem .7rem;border-bottom:1px solid #eef1f4;white-space:pre-wrap}
ol.transcript .who{font-weight:600;margin-right:.4rem}
ol.transcript .staff{background:#eef6ee}
ol.transcript .patient{background:#f2f5fb}
ol.transcript .event{color:#4a5561;font-style:italic}
.time{color:#4a5561;font-size:.85em;margin-right:.4rem}
.cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:1rem 0}
.card{background:#fff;border:1px solid #dde3e8;padding:.6rem .9rem;min-width:9rem}
.card strong{display:block;font-size:1.4rem}
svg.chart{max-width:44rem;background:#fff;border:1px solid #dde3e8;display:block}
details{margin:.4rem 0 1rem}
textarea{width:100%;max-width:40rem;min-height:4rem;font:inherit}
@media (max-width:40rem){main{padding:.6rem}th,td{padding:.3rem}}
label{margin-right:.6rem}
section{margin:1rem 0}
"""


def when(value: dt.datetime | None) -> str:
    """A time as staff read it (UTC), or "-"."""
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "-"


_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_TEMPLATES.filters["when"] = when


def _render(template: str, title: str, *, user: str | None = None, csrf: str | None = None, **values: object) -> str:
    return _TEMPLATES.get_template(template).render(title=title, style=STYLE, user=user, csrf=csrf, **values)


def login_page(csrf: str, *, error: str | None = None) -> str:
    """The log-in form."""
    return _render("login.html", "Log in", csrf=csrf, error=error)


def list_page(records: Sequence[EscalationRecord], filters: Mapping[str, str | None], *, user: str, csrf: str) -> str:
    """The queue, filtered."""
    return _render(
        "list.html", "Escalations", user=user, csrf=csrf, records=records, filters=filters,
        statuses=STATUSES, reasons=REASONS, reason_labels=REASON_LABELS,
    )


def detail_page(r: EscalationRecord, *, user: str, csrf: str, error: str | None = None) -> str:
    """One escalation: excerpt, callback details, status and notes."""
    return _render(
        "detail.html", r["reference"], user=user, csrf=csrf, r=r, error=error,
        statuses=STATUSES, reason_labels=REASON_LABELS,
    )


def live_page(rows: Sequence[Mapping[str, object]], *, minutes: int, user: str, csrf: str) -> str:
    """The conversations going on now, escalated ones first."""
    return _render("live.html", "Live chats", user=user, csrf=csrf, rows=rows, minutes=minutes, reason_labels=REASON_LABELS)


def chat_page(
    cid: str,
    lines: Sequence[Line],
    *,
    held: Mapping[str, object] | None,
    paused: bool,
    channel: str | None,
    escalation: Mapping[str, object] | None,
    user: str,
    csrf: str,
    error: str | None = None,
) -> str:
    """One conversation: its transcript and the takeover controls."""
    from mesoguide.takeover import PUSH_CHANNELS

    return _render(
        "chat.html", "Live chat", user=user, csrf=csrf, cid=cid, lines=lines, held=held, paused=paused,
        channel=channel, can_push=channel in PUSH_CHANNELS, escalation=escalation, error=error,
        last_index=max((line["index"] for line in lines), default=-1), reason_labels=REASON_LABELS,
    )


def analytics_page(
    report: object, charts: Mapping[str, object], *, days: int, periods: Sequence[int], user: str, csrf: str
) -> str:
    """What patients ask: the period's numbers, charts (inline SVG) and tables."""
    return _render(
        "analytics.html", "What patients ask", user=user, csrf=csrf, r=report, charts=charts, days=days,
        periods=periods, reason_labels=REASON_LABELS,
    )


def audit_page(entries: Sequence[Mapping[str, object]], *, user: str, csrf: str) -> str:
    """The audit log of staff actions (admins only)."""
    return _render("audit.html", "Audit log", user=user, csrf=csrf, entries=entries)


def message_page(title: str, text: str, *, user: str | None = None, csrf: str | None = None) -> str:
    """A short page with a title and one sentence."""
    return _render("message.html", title, user=user, csrf=csrf, text=text)
