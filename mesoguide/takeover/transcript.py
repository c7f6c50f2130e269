"""A conversation as staff read it: who said what, and when a person joined or left."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypedDict

from mesoguide.channels.staff import STAFF_NAME_KEY

Speaker = Literal["patient", "assistant", "staff", "event"]


class Line(TypedDict):
    """One line of the transcript."""

    index: int  # position among the tracker's events: the page asks for lines after it
    at: str  # "HH:MM" UTC
    speaker: Speaker
    who: str  # "Patient", "Assistant", the staff member's name, or "" for events
    text: str


def transcript(events: Iterable[Mapping[str, Any]]) -> list[Line]:
    """The lines of a tracker's events (Rasa's JSON form), oldest first."""
    lines: list[Line] = []
    for index, event in enumerate(events):
        line = _line(index, event)
        if line is not None:
            lines.append(line)
    return lines


def _line(index: int, event: Mapping[str, Any]) -> Line | None:
    kind, text = event.get("event"), event.get("text")
    at = _clock(event.get("timestamp"))
    if kind == "user":
        return Line(index=index, at=at, speaker="patient", who="Patient", text=str(text or ""))
    if kind == "bot":
        staff = (event.get("metadata") or {}).get(STAFF_NAME_KEY)
        if isinstance(staff, str) and staff:
            return Line(index=index, at=at, speaker="staff", who=staff, text=str(text or ""))
        return Line(index=index, at=at, speaker="assistant", who="Assistant", text=str(text or ""))
    if kind == "pause":
        return Line(index=index, at=at, speaker="event", who="", text="The assistant paused: a person has the chat.")
    if kind == "resume":
        return Line(index=index, at=at, speaker="event", who="", text="Handed back: the assistant answers again.")
    return None


def _clock(timestamp: Any) -> str:
    if not isinstance(timestamp, (int, float)):
        return ""
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%H:%M")
