"""The dashboard's "What patients ask" page and its CSV export (:mod:`mesoguide.analytics`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, html, raw
from sqlalchemy.engine import Engine

from mesoguide.analytics import Report, build_report, charts
from mesoguide.dashboard import pages
from mesoguide.escalations.redaction import spreadsheet_safe
from mesoguide.escalations.store import EscalationStore

PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30


def add_analytics_routes(app: Sanic, store: EscalationStore, tracker_engine: Engine) -> None:
    """``/analytics`` and ``/analytics.csv`` (log-in required by the app's middleware)."""

    @app.get("/analytics")
    async def analytics(request: Request) -> HTTPResponse:
        days = _days(request)
        report = build_report(tracker_engine, store.engine, days=days)
        store.audit(request.ctx.user, "analytics_viewed")
        page = pages.analytics_page(
            report, _charts(report), days=days, periods=PERIODS, user=request.ctx.user, csrf=request.ctx.csrf
        )
        return html(page)

    @app.get("/analytics.csv")
    async def analytics_csv(request: Request) -> HTTPResponse:
        days = _days(request)
        report = build_report(tracker_engine, store.engine, days=days)
        store.audit(request.ctx.user, "analytics_exported")
        name = f"mesoguide-analytics-{dt.date.today():%Y-%m-%d}-{days}d.csv"
        return raw(
            csv_text(report).encode("utf-8"),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def csv_text(report: Report) -> str:
    """The report as one table: ``section,day,key,value`` (a spreadsheet pivots it).

    Sections: ``conversations`` (key: channel), ``answers`` (key: topic), ``escalations`` (key:
    reason, ``urgent`` added for red flags), ``turns``, ``fallbacks``, ``fallback_rate``,
    ``fallback_question`` (key: an example of a group, value: the group's size),
    ``first_contact_median_minutes``, ``first_contact_waiting``.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "day", "key", "value"])
    for day in report.days:
        for channel, count in sorted(report.conversations.get(day, {}).items()):
            writer.writerow(["conversations", day.isoformat(), channel, count])
        for (reason, urgent), count in sorted(report.escalations.get(day, {}).items()):
            writer.writerow(["escalations", day.isoformat(), reason + (" urgent" if urgent else ""), count])
    for topic, count in report.answers.most_common():
        writer.writerow(["answers", "", topic, count])
    writer.writerow(["turns", "", "", report.turns])
    writer.writerow(["fallbacks", "", "", report.fallbacks])
    rate = report.fallback_rate
    writer.writerow(["fallback_rate", "", "", f"{rate:.4f}" if rate is not None else ""])
    for group in report.fallback_groups:
        writer.writerow(["fallback_question", "", spreadsheet_safe(group.examples[0] if group.examples else ""), group.count])
    median = report.median_first_contact_minutes
    writer.writerow(["first_contact_median_minutes", "", "", f"{median:.1f}" if median is not None else ""])
    writer.writerow(["first_contact_waiting", "", "", report.waiting])
    return out.getvalue()


def _charts(report: Report) -> dict[str, object]:
    days = report.days
    channels = report.channels()
    no_count: Counter = Counter()
    reasons = sorted({key for counts in report.escalations.values() for key in counts}, key=lambda k: (not k[1], k[0]))
    return {
        "conversations": charts.stacked_by_day(
            "Conversations per day, by channel", days,
            {ch: [report.conversations.get(d, no_count)[ch] for d in days] for ch in channels},
        ),
        "escalations": charts.stacked_by_day(
            "Escalations per day, by reason", days,
            {_reason_label(key): [report.escalations.get(d, no_count)[key] for d in days] for key in reasons},
        ),
        "answers": charts.horizontal("Answers per topic", report.answers.most_common(15)),
    }


def _reason_label(key: tuple[str, bool]) -> str:
    reason, urgent = key
    label = pages.REASON_LABELS.get(reason, reason)
    return f"{label} (urgent)" if urgent else label


def _days(request: Request) -> int:
    try:
        days = int(request.args.get("days") or DEFAULT_DAYS)
    except ValueError:
        return DEFAULT_DAYS
    return min(max(days, 1), 366)
