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
from mesoguide.constants import INTENT_RED_FLAG
from mesoguide.outcomes import Escalation, decide_escalation, escalation_for_intent

GUARDRAIL_KEY = "guardrail"  # parse-data key the GuardrailRouter writes (its own constant lives
# in the Rasa component, which the action server does not import)


def escalation_of_latest(tracker: Tracker, matcher: GuardrailMatcher) -> tuple[Escalation | None, list[GuardrailMatch]]:
    """The escalation the latest message calls for, and the guardrail matches found in it.

    Combines the intent Rasa predicted, the entities Rasa extracted and a fresh match of the
    text, with SPEC precedence.
    """
    matches = matcher.guardrail_matches(latest_text(tracker))
    types = latest_entity_types(tracker) + [m.entity for m in matches]
    return decide_escalation(latest_intent(tracker), types), matches


def escalation_in_form(tracker: Tracker, matcher: GuardrailMatcher) -> tuple[Escalation | None, list[GuardrailMatch]]:
    """The escalation an answer typed into the callback form calls for.

    Stricter about evidence than :func:`escalation_of_latest`, because form answers are names,
    phone numbers and times that the classifier has never seen: the router lifts such unsure
    messages to an escalation intent when the best guess was one, which would end the form on
    "yes". Counted here: guardrail vocabulary matches (the raw text, again), a red-flag intent
    however it was reached (red flags are never second-guessed), and an escalation intent the
    classifier predicted itself. A request for a person is not a reason to stop arranging
    a callback.
    """
    matches = matcher.guardrail_matches(latest_text(tracker))
    types = latest_entity_types(tracker) + [m.entity for m in matches]
    candidates = [decide_escalation(None, types)]
    intent = latest_intent(tracker)
    if intent == INTENT_RED_FLAG:
        candidates.append(Escalation.RED_FLAG)
    guardrail = tracker.latest_message.get(GUARDRAIL_KEY) or {}
    predicted = guardrail.get("predicted_intent", intent) if isinstance(guardrail, dict) else intent
    candidates.append(escalation_for_intent(predicted))
    found = [e for e in candidates if e is not None and e is not Escalation.HUMAN]
    return (max(found, key=lambda e: e.rank) if found else None), matches
