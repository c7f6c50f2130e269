"""The numbers of one period, built from the tracker store and the escalation database."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mesoguide import constants as c
from mesoguide.analytics.grouping import Group, group_similar
from mesoguide.analytics.turns import read_events
from mesoguide.escalations import models as m
from mesoguide.escalations.redaction import redact

#: Staff actions in the audit log that mean the patient was reached (a call back marked done).
CONTACT_ACTIONS = ("status_contacted", "status_resolved")


@dataclass
class Report:
    """What patients asked in ``days`` (UTC dates, oldest first).

    Attributes:
        days: The period's dates.
        conversations: Conversations with a patient message, per day and channel.
        answers: Answers per topic.
        escalations: New escalation records per day and (reason, urgent).
        turns: Turns with an outcome.
        fallbacks: Of those, fallbacks.
        fallback_groups: The questions that fell back, redacted, grouped by similarity.
        first_contact_minutes: Minutes from each escalation to staff first reaching the patient.
        waiting: Escalations of the period nobody has reached yet.
    """

    days: list[dt.date]
    conversations: dict[dt.date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    answers: Counter[str] = field(default_factory=Counter)
    escalations: dict[dt.date, Counter[tuple[str, bool]]] = field(default_factory=lambda: defaultdict(Counter))
    turns: int = 0
    fallbacks: int = 0
    fallback_groups: list[Group] = field(default_factory=list)
    first_contact_minutes: list[float] = field(default_factory=list)
    waiting: int = 0

    @property
    def fallback_rate(self) -> float | None:
        """Fallbacks per turn with an outcome (None without turns)."""
        return self.fallbacks / self.turns if self.turns else None

    @property
    def median_first_contact_minutes(self) -> float | None:
        """The median time to first contact (None when no escalation was reached yet)."""
        return statistics.median(self.first_contact_minutes) if self.first_contact_minutes else None

    def channels(self) -> list[str]:
        """Every channel with a conversation in the period, sorted."""
        return sorted({channel for counts in self.conversations.values() for channel in counts})


def build_report(tracker: Engine, escalations: Engine, *, days: int, today: dt.date | None = None) -> Report:
    """The report of the ``days`` days up to and including ``today`` (UTC).

    Args:
        tracker: Rasa's SQL tracker store.
        escalations: The escalation database.
        days: Length of the period (1 to 366).
        today: The period's last day (default: today, UTC).
    """
    if not 1 <= days <= 366:
        raise ValueError("days must be between 1 and 366")
    last = today or dt.datetime.now(dt.timezone.utc).date()
    first = last - dt.timedelta(days=days - 1)
    report = Report(days=[first + dt.timedelta(days=i) for i in range(days)])
    since = dt.datetime.combine(first, dt.time())
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    messages, turns = read_events(tracker, since=since)
    seen: set[tuple[dt.date, str]] = set()
    for message in messages:
        if message.at < until and (message.at.date(), message.conversation_id) not in seen:
            seen.add((message.at.date(), message.conversation_id))
            report.conversations[message.at.date()][message.channel] += 1
    fell_back = []
    for turn in (t for t in turns if t.at < until):
        report.turns += 1
        if turn.outcome.startswith(c.ANSWER_PREFIX):
            report.answers[turn.outcome[len(c.ANSWER_PREFIX):]] += 1
        elif turn.outcome == c.OUTCOME_FALLBACK:
            report.fallbacks += 1
            fell_back.append(redact(turn.text))
    report.fallback_groups = group_similar(fell_back)
    _add_escalations(report, escalations, since, until)
    return report


def _add_escalations(report: Report, engine: Engine, since: dt.datetime, until: dt.datetime) -> None:
    """New records per day, and for each the time to the first staff contact after it: read in
    three queries, whatever the number of records."""
    e, t, a = m.escalations, m.takeovers, m.audit_log
    with engine.connect() as conn:
        records = conn.execute(
            sa.select(e.c.reference, e.c.conversation_id, e.c.reason, e.c.urgent, e.c.created_at)
            .where(e.c.created_at >= since)
            .where(e.c.created_at < until)
        ).all()
        messages = defaultdict(list)  # conversation -> times staff first wrote in a takeover
        for conversation, at in conn.execute(
            sa.select(t.c.conversation_id, t.c.first_message_at).where(t.c.first_message_at >= since)
        ):
            messages[conversation].append(at)
        marks = defaultdict(list)  # reference -> times the record was marked contacted/resolved
        for reference, at in conn.execute(
            sa.select(a.c.target, a.c.at).where(a.c.action.in_(CONTACT_ACTIONS)).where(a.c.at >= since)
        ):
            marks[reference].append(at)
    for reference, conversation, reason, urgent, created in records:
        report.escalations[created.date()][(reason, bool(urgent))] += 1
        reached = min((x for x in [*messages[conversation], *marks[reference]] if x >= created), default=None)
        if reached is None:
            report.waiting += 1
        else:
            report.first_contact_minutes.append((reached - created).total_seconds() / 60)
