"""HTML of the staff dashboard, from the Jinja2 templates in ``templates/``.

Autoescaping is on for every template, so a value that came from a patient or a staff member is
never read as markup, and a missing value is an error rather than an empty string. There is no
script on any page (the CSP forbids scripts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

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


def audit_page(entries: Sequence[Mapping[str, object]], *, user: str, csrf: str) -> str:
    """The audit log of staff actions (admins only)."""
    return _render("audit.html", "Audit log", user=user, csrf=csrf, entries=entries)


def message_page(title: str, text: str, *, user: str | None = None, csrf: str | None = None) -> str:
    """A short page with a title and one sentence."""
    return _render("message.html", title, user=user, csrf=csrf, text=text)
