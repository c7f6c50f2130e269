"""Defence in depth: the actions decide the latest message's escalation again.

The Rasa component already routes guardrail matches to ``action_escalate``. Actions that would
answer, and the callback form while it collects details, decide once more with the action
server's own matcher on the raw text and the same :func:`.precedence.decide`, so a configuration
slip (a missing rule, a stale model, a crafted button payload) can never answer a message that
names a red flag, a contraindication or a request for personal advice.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from mesoguide.constants import ENTITY_RED_FLAG, PARSE_KEY_GUARDRAIL, PARSE_KEY_LANGUAGE, PARSE_KEY_SENTENCE_INTENTS
from mesoguide.guardrail.content import carries_content
from mesoguide.guardrail.matcher import GuardrailMatch, GuardrailMatcher
from mesoguide.guardrail.precedence import DEFAULT_ESCALATION_SHARE, Escalation, Evidence, decide
from mesoguide.language.rail import LanguageVerdict
from mesoguide.language.red_flags import ForeignRedFlags


def escalation_of_latest(
    tracker: Tracker,
    matcher: GuardrailMatcher,
    *,
    in_form: bool = False,
    foreign: ForeignRedFlags | None = None,
) -> tuple[Escalation | None, list[GuardrailMatch]]:
    """The escalation the latest message calls for, and the guardrail matches found in it.

    The evidence is what the Rasa component recorded (the classifier's own intent and ranking)
    plus the entities Rasa extracted and a fresh match of the text, in English and, with
    ``foreign``, in every other language the clinic has a red-flag vocabulary for. A message the
    language rail read as another language is judged on vocabulary matches only: the English
    classifier's guesses about words it has never seen are noise.

    Args:
        tracker: The conversation.
        matcher: The action server's matcher, built from ``knowledge/``.
        in_form: True while the callback form asks for a detail (see :func:`.precedence.decide`).
        foreign: The other languages' red-flag matchers (:mod:`mesoguide.language.red_flags`).
    """
    latest: dict[str, Any] = tracker.latest_message or {}
    text = str(latest.get("text") or "")
    found = matcher.match(text)
    matches = [m for m in found if m.is_guardrail]
    if foreign is not None:
        matches += [
            GuardrailMatch(entity=ENTITY_RED_FLAG, value=m.value, text="", start=0, end=0) for m in foreign.match(text)
        ]
    recorded = latest.get(PARSE_KEY_GUARDRAIL)
    recorded = recorded if isinstance(recorded, dict) else {}
    other_language = LanguageVerdict.from_record(latest.get(PARSE_KEY_LANGUAGE)).needs_language_reply
    # A button payload ("/ask_pain") skips the NLU pipeline: its intent is all there is.
    intent = (latest.get("intent") or {}).get("name")
    evidence = Evidence(
        predicted_intent=None if other_language else recorded.get("predicted_intent", intent),
        ranking=[] if other_language else [(str(name), float(conf)) for name, conf in recorded.get("ranking") or []],
        entity_types=[str(e.get("entity", "")) for e in latest.get("entities") or []] + [m.entity for m in matches],
        routed_intent=intent,
        has_content=carries_content(text, found),
        sentence_intents=[] if other_language else [(str(n), float(p)) for n, p in latest.get(PARSE_KEY_SENTENCE_INTENTS) or []],
    )
    share = float(recorded.get("escalation_share") or DEFAULT_ESCALATION_SHARE)
    return decide(evidence, escalation_share=share, in_form=in_form), matches
