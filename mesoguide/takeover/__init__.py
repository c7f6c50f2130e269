"""A person from the clinic in a patient's chat: take over, write, hand back.

Rasa's own mechanisms do the work; this package decides when and records who:

* **Pause and resume** are Rasa's ``pause`` and ``resume`` events (``ConversationPaused``,
  ``ConversationResumed``), appended through Rasa's HTTP API. A paused conversation still logs
  every patient message (the NLU, guardrail router included, reads it) but predicts nothing,
  so the assistant stays quiet while a person writes.
* **A staff message** is a ``bot`` event appended through the same API with
  ``execute_side_effects=true&output_channel=latest``: Rasa writes it to the tracker and sends it
  through the channel the patient last wrote on (widget, Telegram, SMS or WhatsApp). Its
  metadata carries the staff member's name (:mod:`mesoguide.channels.staff`), so the transcript
  says who wrote what and the widget shows the name.
* **A red flag while paused** still gets the urgent text at once and an urgent record (which
  notifies the clinic): the Rasa server's never-silent wrapper sees that a paused conversation
  sent nothing and lets the guardrail decide (:mod:`mesoguide.runtime.never_silent`).
* **Who has which conversation** is kept in the escalation database (``mg_takeovers``,
  :mod:`.records`): one person at a time, the time of their first message (the clinic's time to
  first contact), and when they handed back.

The dashboard (:mod:`mesoguide.dashboard`) is the only caller; it reaches the Rasa API on
loopback with the API token (``RASA_AUTH_TOKEN``), at ``MESOGUIDE_RASA_URL``.
"""

from mesoguide.takeover.errors import TakeoverError
from mesoguide.takeover.service import PUSH_CHANNELS, TakeoverService

__all__ = ["PUSH_CHANNELS", "TakeoverError", "TakeoverService"]
