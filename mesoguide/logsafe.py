"""What may appear in a log line about a patient: nothing they wrote, only hashed ids.

A conversation id is a phone number on SMS and WhatsApp and a chat id on Telegram. Logs name a
conversation by :func:`hashed`: the same id always gives the same short hash, so one
conversation's lines can be followed, and staff can find the hash of an id they already know
(``python -m mesoguide.logsafe <id>``), but a log reader cannot get the id back.

:func:`install` makes every log record of the process go through :func:`scrub` (a log-record
factory, so lines from Rasa, rasa_sdk, Sanic and every library are covered, whatever handler
writes them), and replaces Rasa's structured-log anonymiser, which removes the fields that hold
message text (``text``, ``parse_data_text``, ``user_message``, ...) at every level.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

#: Channels whose conversation ids appear in logs as ``<channel>:<sender>``.
_CONVERSATION = re.compile(r"\b(?:rest|webchat|telegram|twilio|cmdline|unknown):[^\s'\",)\]]+")
#: Fields of Rasa's structured logs that hold what a patient wrote (and the bot's replies to it).
TEXT_FIELDS = frozenset({
    "text", "response_text", "user_text", "slot_values", "parse_data_text", "parse_data_entities",
    "prediction_events", "tracker_latest_message", "prefilled_slots", "message", "response",
    "slot_candidates", "rasa_event", "rasa_events", "tracker_states", "current_states", "old_states",
    "successes", "current_entity", "next_entity", "states", "entity", "token_text", "user_message",
    "json_message", "events", "slots",
})
ID_FIELDS = frozenset({"sender_id", "conversation_id", "recipient_id"})
REMOVED = "[removed]"


def hashed(identifier: object) -> str:
    """A short, stable, one-way name for a conversation id (or any identifier)."""
    return "id-" + hashlib.sha256(str(identifier).encode("utf-8", "replace")).hexdigest()[:12]


def scrub(line: str) -> str:
    """``line`` with conversation ids hashed and phone numbers and e-mail addresses removed."""
    # Imported here: the escalation package logs through this module.
    from mesoguide.escalations.redaction import redact

    return redact(_CONVERSATION.sub(lambda m: hashed(m.group(0)), line))


def remove_patient_fields(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: text fields removed, id fields hashed, the rest scrubbed."""
    for key, value in list(event_dict.items()):
        if key in TEXT_FIELDS:
            event_dict[key] = REMOVED
        elif key in ID_FIELDS:
            event_dict[key] = hashed(value)
        elif isinstance(value, str):
            event_dict[key] = scrub(value)
    return event_dict


_INSTALLED: list[bool] = []


def install(*, rasa: bool = True) -> None:
    """Scrub every log record of this process (idempotent); see the module docstring.

    Args:
        rasa: Also replace Rasa's structured-log anonymiser (the Rasa server; the action server
            does not load Rasa).
    """
    if _INSTALLED:
        return
    make_record = logging.getLogRecordFactory()

    def scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            line = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is left to logging's own handling
            return record
        clean = scrub(line)
        if clean != line:
            record.msg, record.args = clean, ()
        return record

    logging.setLogRecordFactory(scrubbed_record)
    if rasa:
        import rasa.utils.log_utils as rasa_log_utils

        rasa_log_utils._anonymizer = remove_patient_fields
    _INSTALLED.append(True)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(hashed(arg))
