"""The transcript excerpt stored with an escalation: the patient's recent messages, redacted.

Only the patient's own words (the assistant's replies are known texts), at most
MAX_MESSAGES of them, each cut at MAX_MESSAGE_CHARS. Messages typed while the callback form
was active are left out: they are contact details, stored in their own fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from mesoguide.escalations.redaction import redact

MAX_MESSAGES = 8
MAX_MESSAGE_CHARS = 500


def excerpt_from_events(
    events: Sequence[dict[str, Any]], *, form_names: Iterable[str] = (), known_values: Iterable[str] = ()
) -> str:
    """The redacted excerpt of a tracker's events (``tracker.events``).

    Args:
        events: The conversation's events, oldest first.
        form_names: Loops whose user messages hold contact details and are left out.
        known_values: Values to remove wherever they appear (callback details).
    """
    forms = set(form_names)
    active_loop: str | None = None
    texts: list[str] = []
    for event in events:
        kind = event.get("event")
        if kind == "active_loop":
            active_loop = event.get("name")
        elif kind == "session_started":
            texts, active_loop = [], None  # an excerpt belongs to one session
        elif kind == "user" and active_loop not in forms:
            text = str(event.get("text") or "").strip()
            if text:
                texts.append(text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + " [...]")
    values = list(known_values)
    return "\n".join(f"patient: {redact(t, values)}" for t in texts[-MAX_MESSAGES:])
