"""Defence in depth: decide the escalation of the latest message again, inside the action.

The Rasa pipeline already routes guardrail matches to ``action_escalate``. Actions that would
answer check once more, on the raw text with the action server's own matcher, so a
configuration slip (a missing rule, a stale spaCy model, a crafted button payload) can never
answer a message that names a contraindication or a red flag.
"""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.replies import latest_entity_types, latest_intent, latest_text
from mesoguide.guardrail.matcher import GuardrailMatch, GuardrailMatcher
from mesoguide.outcomes import Escalation, decide_escalation


def escalation_of_latest(tracker: Tracker, matcher: GuardrailMatcher) -> tuple[Escalation | None, list[GuardrailMatch]]:
    """The escalation the latest message calls for, and the guardrail matches found in it.

    Combines the intent Rasa predicted, the entities Rasa extracted and a fresh match of the
    text, with SPEC precedence.
    """
    matches = matcher.guardrail_matches(latest_text(tracker))
    types = latest_entity_types(tracker) + [m.entity for m in matches]
    return decide_escalation(latest_intent(tracker), types), matches
