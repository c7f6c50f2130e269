"""Which escalation a message gets: the precedence and the one decision both servers make.

Precedence, highest first (docs/product.md): red flag > contraindication > medical advice >
human > answer. :func:`decide` is the only place that turns evidence (the classifier's ranking,
the vocabulary matches, whether the callback form is asking) into an escalation. The Rasa
component calls it to route a message whatever intent the classifier predicted; the actions call
it again before they answer or while the form collects details (defence in depth), so both sides
apply the same rules.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mesoguide import constants as c


class Escalation(str, enum.Enum):
    """Why a message goes to a person, highest precedence first."""

    RED_FLAG = "red_flag"
    CONTRAINDICATION = "contraindication"
    MEDICAL_ADVICE = "medical_advice"
    HUMAN = "human"

    @property
    def outcome(self) -> str:
        """The ``turn_outcome`` value, e.g. ``escalate:red_flag``."""
        return c.ESCALATE_PREFIX + self.value

    @property
    def intent(self) -> str:
        """The intent that stands for this escalation in the dialogue."""
        return _INTENT_OF[self]

    @property
    def rank(self) -> int:
        """Higher wins."""
        return len(PRECEDENCE) - PRECEDENCE.index(self)


PRECEDENCE: tuple[Escalation, ...] = (
    Escalation.RED_FLAG,
    Escalation.CONTRAINDICATION,
    Escalation.MEDICAL_ADVICE,
    Escalation.HUMAN,
)

_INTENT_OF = {
    Escalation.RED_FLAG: c.INTENT_RED_FLAG,
    Escalation.CONTRAINDICATION: c.INTENT_CONTRAINDICATION,
    Escalation.MEDICAL_ADVICE: c.INTENT_MEDICAL_ADVICE,
    Escalation.HUMAN: c.INTENT_HUMAN,
}
_ESCALATION_OF_INTENT = {intent: esc for esc, intent in _INTENT_OF.items()}
_ESCALATION_OF_ENTITY = {
    c.ENTITY_RED_FLAG: Escalation.RED_FLAG,
    c.ENTITY_CONTRAINDICATION: Escalation.CONTRAINDICATION,
    c.ENTITY_MEDICAL_ADVICE: Escalation.MEDICAL_ADVICE,
}
#: The safety net's threshold: the measured choice (docs/decisions/nlu-pipeline.md); config.yml
#: sets it for the Rasa component, which records it for the actions' re-check.
DEFAULT_ESCALATION_SHARE = 0.12
#: A sentence of a story escalates the message when the classifier puts it on a safety intent
#: with at least this confidence and the whole message gives that intent at least
#: SENTENCE_SUPPORT: a single sentence read alone is easily over-confident ("I've got my first
#: session next week." came out as a red flag at 0.99).
DEFAULT_SENTENCE_CONFIDENCE = 0.9
SENTENCE_SUPPORT = 0.03
#: The escalations the classifier's safety net adds up: the guardrail's own. A request for a
#: person is not a safety question, so a little "talk to someone" confidence does not escalate.
SAFETY_ESCALATIONS: frozenset[Escalation] = frozenset(_ESCALATION_OF_ENTITY.values())


def escalation_for_intent(intent: str | None) -> Escalation | None:
    """The escalation an intent stands for, or ``None`` for any other intent."""
    return _ESCALATION_OF_INTENT.get(intent or "")


def highest(candidates: Iterable[Escalation | None]) -> Escalation | None:
    """The highest-precedence escalation among the candidates (``None`` ignored)."""
    found = [e for e in candidates if e is not None]
    return max(found, key=lambda e: e.rank) if found else None


def decide_escalation(intent: str | None, entity_types: Iterable[str]) -> Escalation | None:
    """The highest-precedence escalation that an intent or guardrail entities call for.

    Args:
        intent: An intent name (after routing, or as predicted).
        entity_types: Entity labels found in the message (guardrail labels count, others
            are ignored).

    Returns:
        The escalation to give, or ``None`` when the message may be answered.
    """
    return highest([*(_ESCALATION_OF_ENTITY.get(e) for e in entity_types), escalation_for_intent(intent)])


@dataclass(frozen=True)
class Evidence:
    """What is known about one message when its escalation is decided.

    Attributes:
        predicted_intent: The classifier's own intent (``nlu_fallback`` when it was unsure),
            before any guardrail routing.
        ranking: The classifier's ranking as (intent, confidence), best first, without
            ``nlu_fallback``.
        entity_types: Guardrail entity labels from the vocabularies (areas are ignored).
        routed_intent: The intent the dialogue acted on, when the router already decided (the
            actions' re-check) or a button payload set it; ``None`` inside the router.
        has_content: False for "yes", "ok", "?", "for my face": a message with nothing of its
            own beyond acknowledgements and treatment areas (:mod:`.content`).
        sentence_intents: For a story of several sentences, the classifier's best intent and its
            confidence for each sentence.
    """

    predicted_intent: str | None
    ranking: Sequence[tuple[str, float]] = ()
    entity_types: Sequence[str] = field(default_factory=tuple)
    routed_intent: str | None = None
    has_content: bool = True
    sentence_intents: Sequence[tuple[str, float]] = ()


def decide(
    evidence: Evidence,
    *,
    escalation_share: float,
    in_form: bool = False,
    sentence_confidence: float = DEFAULT_SENTENCE_CONFIDENCE,
) -> Escalation | None:
    """The escalation a message calls for, by the project's precedence.

    Outside the callback form, five kinds of evidence count:

    - a vocabulary match (the deterministic layer: never second-guessed);
    - an escalation intent the classifier predicted, or the dialogue already acted on;
    - an unsure classifier (``nlu_fallback``) whose best guess is an escalation: a fallback would
      answer a possibly unsafe question with topic buttons instead of a clinician's number;
    - the safety net: the red-flag, contraindication and medical-advice intents together hold at
      least ``escalation_share`` of the confidence, even if a topic came first. An answer to a
      question a clinician should have had costs far more than a needless referral;
    - one sentence of a longer story that the classifier puts on a safety intent with at least
      ``sentence_confidence``: "we had a lovely holiday. since the injections my cheek keeps getting
      darker and colder. anyway, how long do results last?" is judged by its middle sentence.

    While the callback form asks for a name, a phone number or a time, the classifier has never
    seen such answers and its guesses are noise: the fallback lift and the safety net would end
    the form on "yes". There only vocabulary matches, an escalation intent the classifier
    predicted itself, and a red flag however it was reached count; a request for a person is no
    reason to stop arranging a callback.

    A message without content of its own ("yes", "ok", "for my face") escalates only on a
    vocabulary match: the classifier's guesses about it are noise, and an escalation record with
    nothing in it only fills the clinic's queue.

    Args:
        evidence: What the classifier and the vocabularies found.
        escalation_share: The safety net's threshold, in (0, 1].
        in_form: True when the message answers a question of the callback form.

    Returns:
        The escalation, or ``None`` when the message may be answered.
    """
    from_matches = decide_escalation(None, evidence.entity_types)
    if not evidence.has_content:
        return from_matches
    predicted = escalation_for_intent(evidence.predicted_intent)
    routed = escalation_for_intent(evidence.routed_intent)
    # An escalation the classifier predicted itself is its answer; the lift and the net only
    # read a ranking whose winner was not an escalation.
    lifted = None if predicted is not None else _lifted_by_classifier(evidence, escalation_share)
    if not in_form:
        return highest([from_matches, predicted, lifted, routed, _lifted_by_a_sentence(evidence, sentence_confidence)])
    red_flag = Escalation.RED_FLAG if Escalation.RED_FLAG in (predicted, lifted, routed) else None
    decided = highest([from_matches, predicted, red_flag])
    return None if decided is Escalation.HUMAN else decided


def _lifted_by_a_sentence(evidence: Evidence, sentence_confidence: float) -> Escalation | None:
    """The highest safety escalation one sentence of the story calls for, if any."""
    whole = dict(evidence.ranking)
    verdicts = [
        escalation_for_intent(name)
        for name, conf in evidence.sentence_intents
        if conf >= sentence_confidence and whole.get(name, 0.0) >= SENTENCE_SUPPORT
    ]
    return highest(e for e in verdicts if e in SAFETY_ESCALATIONS)


def _lifted_by_classifier(evidence: Evidence, escalation_share: float) -> Escalation | None:
    """The escalation the fallback lift or the safety net gives, if any."""
    ranking = [(name, conf) for name, conf in evidence.ranking if name != c.INTENT_NLU_FALLBACK]
    if evidence.predicted_intent == c.INTENT_NLU_FALLBACK and ranking:
        best = escalation_for_intent(ranking[0][0])
        if best is not None:
            return best
    guarded = [(escalation_for_intent(name), conf) for name, conf in ranking]
    guarded = [(esc, conf) for esc, conf in guarded if esc in SAFETY_ESCALATIONS]
    if guarded and sum(conf for _, conf in guarded) >= escalation_share:
        return max(guarded, key=lambda pair: pair[1])[0]
    return None
