"""The guardrail: vocabularies -> spaCy pipeline -> matches -> one decision -> escalation.

One folder you can read on its own (README.md walks a message through it):

- :mod:`.pipeline` builds the spaCy pipeline from the vocabularies in ``knowledge/``;
- :mod:`.matcher` finds red flags, contraindications, medical-advice requests and areas;
- :mod:`.precedence` holds the precedence and :func:`.precedence.decide`, the one decision;
- :mod:`.rasa_router` is the Rasa NLU component (it stores its pipeline inside the model);
- :mod:`.action_check` is the actions' re-check before they answer.

Importing this package does not import Rasa: the action server uses it without Rasa's NLU.
"""

from __future__ import annotations

from mesoguide.guardrail.matcher import GuardrailMatch, GuardrailMatcher
from mesoguide.guardrail.precedence import PRECEDENCE, Escalation, Evidence, decide

__all__ = ["PRECEDENCE", "Escalation", "Evidence", "GuardrailMatch", "GuardrailMatcher", "decide"]
