"""What text-only channels (Telegram, SMS, WhatsApp) share.

* Buttons become numbered options in the text ("1. Pain") and a reply that is just that number
  is read as the button's payload. The options are looked up in the conversation's tracker,
  so this works across restarts and several server processes.
* Long texts are split at paragraph, then line, then word boundaries to fit a provider's
  per-message limit (Telegram 4,096 characters, Twilio 1,600).
* Custom payloads are dropped: the only one we send is the widget's escalation marker, whose
  content the text already says; passing it on would make Rasa's connectors call provider
  APIs with it (Telegram) or send it as a message (Twilio).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Button = Mapping[str, Any]

#: How the patient is told to pick an option (interface wording, not health content).
CHOOSE_HINT = "Reply with a number to choose."
_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def numbered_options(text: str, buttons: Sequence[Button]) -> str:
    """``text`` followed by the buttons as a numbered list and how to choose."""
    titles = [str(b.get("title") or b.get("payload") or "") for b in buttons]
    if not titles:
        return text
    lines = [f"{i}. {title}" for i, title in enumerate(titles, start=1)]
    return f"{text}\n\n" + "\n".join(lines) + f"\n{CHOOSE_HINT}"


def choice_payload(text: str, buttons: Sequence[Button]) -> str | None:
    """The payload of the button a bare number picks (``"2"`` -> 2nd button), else None."""
    match = _CHOICE.match(text or "")
    if not match:
        return None
    index = int(match.group(1)) - 1
    if 0 <= index < len(buttons):
        payload = buttons[index].get("payload")
        return str(payload) if payload else None
    return None


def last_offered_buttons(events: Iterable[Mapping[str, Any]]) -> list[Button]:
    """The buttons of the assistant's latest reply (empty once the patient wrote after it).

    Args:
        events: A tracker's events, oldest first (dicts as the tracker store serialises them).
    """
    for event in reversed(list(events)):
        kind = event.get("event")
        if kind == "user":
            return []
        if kind == "bot":
            buttons = (event.get("data") or {}).get("buttons") or []
            if buttons:
                return list(buttons)
    return []


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut where reading allows."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut <= limit // 3:  # no good boundary: cut hard rather than make tiny pieces
            cut = limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


async def resolve_choice(app: Any, conversation: str, text: str) -> str:
    """``text``, or the payload of the option it picks in the latest reply of ``conversation``
    (the namespaced id, :func:`mesoguide.conversation_ids.conversation_id`)."""
    if not _CHOICE.match(text or ""):
        return text
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    tracker_store = getattr(agent, "tracker_store", None)
    if tracker_store is None:
        return text
    tracker = await tracker_store.retrieve(conversation)
    if tracker is None:
        return text
    events = [e.as_dict() for e in tracker.events]
    return choice_payload(text, last_offered_buttons(events)) or text


class DropsReplyMeta:
    """Output mixin for text-only channels: the reply's custom payload is not sent.

    The payload (``mesoguide.reply_meta``) is for the web widget; the text already carries
    everything, and Rasa's Telegram/Twilio outputs would send it as an API call or a body.
    """

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        logging.getLogger(type(self).__module__).debug("custom payload not sent (%s)", ", ".join(json_message))
