"""The machine-readable part of a bot reply, for surfaces that show more than text.

An escalation reply carries, next to its text, a custom payload ``{"mesoguide": ReplyMeta}``.
The web widget uses it to show escalations distinctly (urgent ones in red) with their
reference code; text-only channels (Telegram, SMS, WhatsApp) drop it, because the text
already says everything the patient needs. One place defines the shape so the action that
writes it and the surfaces that read it cannot drift.
"""

from __future__ import annotations

from typing import Any, TypedDict, cast

#: Key of the custom payload in a bot message (``message["custom"][CUSTOM_KEY]``).
CUSTOM_KEY = "mesoguide"


class ReplyMeta(TypedDict):
    """What a surface may show about a reply besides its text."""

    outcome: str  # the turn's outcome, e.g. "escalate:red_flag"
    urgent: bool  # red flags: the surface should make the reply stand out
    reference: str | None  # the escalation's reference code, once it is stored
    language: str  # ISO 639-1 code of the reply's first text ("tr" for a Turkish urgent text)


def custom_payload(meta: ReplyMeta) -> dict[str, Any]:
    """The ``custom`` value of a bot message that carries ``meta``."""
    return {CUSTOM_KEY: dict(meta)}


def meta_of(message: dict[str, Any]) -> ReplyMeta | None:
    """The reply meta in a bot message as a channel delivers it, or None if it has none."""
    custom = message.get("custom")
    if isinstance(custom, dict) and isinstance(custom.get(CUSTOM_KEY), dict):
        return cast(ReplyMeta, custom[CUSTOM_KEY])
    return None
