"""The clinic's opening hours as data: whether someone is in now, and when they next are.

``clinic.yml`` says the hours twice on purpose: ``opening_hours`` is the sentence patients read
next to the phone number; ``hours`` is the same week as data, so a patient who asks for a person
while the clinic is closed is told when someone will reply (``messages.yml``, ``staff.closed_now``).
Whoever signs ``facts_checked`` checks both against the clinic's real hours.

```yaml
hours:
  timezone: Europe/London   # an IANA name: the clinic's local time, summer time included
  monday: "09:00-18:00"
  saturday: "10:00-14:00"   # a day left out, or "closed", is closed
  sunday: closed
```

A day may have several periods ("09:00-12:30, 14:00-18:00"). A period ends on the day it starts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PERIOD = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-4]):([0-5]\d)\s*$")

Period = tuple[dt.time, dt.time]


class HoursError(ValueError):
    """``hours`` in clinic.yml is not as documented; the message says what to fix."""


@dataclass(frozen=True)
class OpeningHours:
    """A clinic's week.

    Attributes:
        timezone: The clinic's IANA time zone name.
        week: Periods open, by weekday (0 = Monday), each (start, end) in local time.
    """

    timezone: str
    week: Mapping[int, tuple[Period, ...]]

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> OpeningHours:
        """Read the ``hours`` block of clinic.yml.

        Raises:
            HoursError: An unknown time zone or day, or a period not written ``HH:MM-HH:MM``.
        """
        zone = str(raw.get("timezone") or "").strip()
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise HoursError(f"timezone {zone!r} is not an IANA time zone name, e.g. Europe/London") from exc
        unknown = sorted(set(raw) - {"timezone", *DAYS})
        if unknown:
            raise HoursError(f"unknown key(s) {unknown}: use timezone and the days {', '.join(DAYS)}")
        week = {index: _periods(day, raw.get(day)) for index, day in enumerate(DAYS)}
        if not any(week.values()):
            raise HoursError("no day has opening hours: give at least one day as HH:MM-HH:MM")
        return cls(timezone=zone, week=week)

    def _local(self, now: dt.datetime) -> dt.datetime:
        if now.tzinfo is None:
            raise ValueError("now must carry a time zone (e.g. datetime.now(timezone.utc))")
        return now.astimezone(ZoneInfo(self.timezone))

    def is_open(self, now: dt.datetime) -> bool:
        """Whether ``now`` falls in an opening period."""
        local = self._local(now)
        return any(start <= local.time() < end for start, end in self.week.get(local.weekday(), ()))

    def next_opening(self, now: dt.datetime) -> dt.datetime:
        """The start of the next opening period after ``now`` (local time; ``now`` if open)."""
        local = self._local(now)
        if self.is_open(now):
            return local
        zone = ZoneInfo(self.timezone)
        for ahead in range(8):
            day = local.date() + dt.timedelta(days=ahead)
            for start, _end in sorted(self.week.get(day.weekday(), ())):
                opening = dt.datetime.combine(day, start, tzinfo=zone)
                if opening > local:
                    return opening
        raise AssertionError("a week with opening hours always has a next opening")  # checked at load

    def describe_next(self, now: dt.datetime) -> str:
        """When someone is next in, as a patient reads it: "today at 14:00", "tomorrow at 9:00",
        "on Monday at 9:00"."""
        opening, today = self.next_opening(now), self._local(now).date()
        clock = f"{opening.hour}:{opening.minute:02d}"
        if opening.date() == today:
            return f"today at {clock}"
        if opening.date() == today + dt.timedelta(days=1):
            return f"tomorrow at {clock}"
        return f"on {DAYS[opening.weekday()].capitalize()} at {clock}"


def _periods(day: str, value: Any) -> tuple[Period, ...]:
    if value is None or str(value).strip().lower() == "closed":
        return ()
    periods = []
    for text in str(value).split(","):
        match = _PERIOD.match(text)
        if not match:
            raise HoursError(f"{day}: {text.strip()!r} is not HH:MM-HH:MM (or 'closed')")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start = dt.time(h1, m1)
        end = dt.time.max if (h2, m2) == (24, 0) else dt.time(h2 % 24, m2)
        if end <= start:
            raise HoursError(f"{day}: {text.strip()!r} ends before it starts (a period ends on its own day)")
        periods.append((start, end))
    return tuple(periods)
