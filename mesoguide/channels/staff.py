"""How a staff member's message looks on each channel during a takeover.

A staff message is a ``bot`` event appended through Rasa's own API
(``POST /conversations/<id>/tracker/events?execute_side_effects=true&output_channel=latest``,
see :mod:`mesoguide.takeover`) with the staff member's name in its metadata; Rasa merges the
metadata into the message the output channel receives. The widget shows the name above the
message; text-only channels (Telegram, SMS, WhatsApp) put it in front of the text, since the
patient sees every message coming from the same number or bot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mesoguide.conversation_ids import sender_in

#: Metadata keys of a staff member's ``bot`` event (read by the channels and the transcript).
STAFF_NAME_KEY = "staff_name"
#: "joined" or "left" on the messages that open and close a takeover, absent otherwise.
TAKEOVER_KEY = "takeover"
TAKEOVER_JOINED = "joined"
TAKEOVER_LEFT = "left"
MAX_STAFF_NAME_CHARS = 40


def staff_of(message: Mapping[str, Any]) -> dict[str, str] | None:
    """``{"staff": name}`` (and ``"takeover"``) when ``message`` is a staff member's, else None."""
    name = message.get(STAFF_NAME_KEY)
    if not isinstance(name, str) or not name.strip():
        return None
    found = {"staff": name.strip()[:MAX_STAFF_NAME_CHARS]}
    takeover = message.get(TAKEOVER_KEY)
    if takeover in (TAKEOVER_JOINED, TAKEOVER_LEFT):
        found["takeover"] = takeover
    return found


def signed_text(text: str, message: Mapping[str, Any]) -> str:
    """``text`` with the staff member's name in front ("Anna: ..."), for text-only channels.

    The joined/left notices already name the person, so they are sent as they are.
    """
    staff = staff_of(message)
    if staff is None or "takeover" in staff:
        return text
    return f"{staff['staff']}: {text}"


class ConversationAddressed:
    """Output-channel mixin: a message addressed to the tracker's namespaced id
    (``telegram:123``) goes to the id the provider knows (``123``).

    Replies to a patient's message already carry the provider's id; a staff member's message,
    sent through Rasa's API, carries the tracker's. Needs ``name()`` from the output channel.
    """

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await super().send_response(sender_in(self.name(), recipient_id), message)  # type: ignore[misc,attr-defined]
