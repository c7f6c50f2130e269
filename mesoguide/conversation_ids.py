"""Conversation ids are namespaced by channel: ``<channel>:<sender>``.

Twilio keys a conversation by the patient's phone number and Telegram by the chat id, and a REST
caller chooses its own sender. Without namespaces, anyone who knows a patient's number could
continue that SMS conversation over REST and read what it holds. The Rasa server applies
:func:`conversation_id` to every incoming message (:mod:`mesoguide.runtime.never_silent`), so the
tracker, the escalation records and the audit trail all use the namespaced id; channels still
reply to the id they know.
"""

from __future__ import annotations

#: Channels whose senders are kept as they are: Rasa's own terminal shell (one local user).
UNNAMESPACED_CHANNELS = frozenset({"cmdline"})


def conversation_id(channel: str | None, sender: str) -> str:
    """The tracker key of ``sender`` on ``channel``, e.g. ``rest:me``, ``twilio:+447700900123``."""
    channel = channel or "unknown"
    if channel in UNNAMESPACED_CHANNELS or sender.startswith(f"{channel}:"):
        return sender
    return f"{channel}:{sender}"


def sender_in(channel: str, conversation: str) -> str:
    """The id ``channel`` itself knows for ``conversation`` (``twilio:+44...`` -> ``+44...``).

    Messages that do not answer a patient message (a staff member writing during a takeover,
    sent through Rasa's ``/conversations/<id>/tracker/events``) are addressed to the tracker's
    namespaced id; each output channel takes its own prefix off before calling its provider.
    An id without the prefix is returned as it is.
    """
    prefix = f"{channel}:"
    return conversation[len(prefix):] if conversation.startswith(prefix) else conversation
