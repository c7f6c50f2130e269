"""Whether a message says anything of its own beyond "yes", "ok" or a treatment area.

"yes", "ok", "?", an emoji, "for my face" or "and for cellulite?" carry no question of their own:
they answer the assistant's last question or change one thing of the last answer. The classifier
has little to go on in such a message and its guesses are noise ("for my face" once came out as a
request for personal advice). So for a message without content only the vocabularies can call for
an escalation (:func:`.precedence.decide`), and the dialogue reads the message in the context of
the conversation instead (``actions/conversation_context.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mesoguide.constants import ENTITY_TREATMENT_AREA
from mesoguide.guardrail.matcher import GuardrailMatch

#: Words that acknowledge, agree, refuse or hesitate.
ACKNOWLEDGEMENTS = frozenset(
    [
        "yes",
        "yeah",
        "yea",
        "yep",
        "yup",
        "ya",
        "ye",
        "aye",
        "ok",
        "okay",
        "okey",
        "k",
        "kk",
        "sure",
        "fine",
        "alright",
        "right",
        "cool",
        "great",
        "good",
        "nice",
        "no",
        "nope",
        "nah",
        "not",
        "hmm",
        "hm",
        "hmmm",
        "mm",
        "mmm",
        "uh",
        "um",
        "er",
        "ah",
        "oh",
        "so",
        "well",
        "please",
        "pls",
        "plz",
        "then",
    ]
)
#: Words that only join a follow-up to what was said before ("and for the face?", "what about my
#: thighs", "how about on the belly then").
FILLER = frozenset(
    [
        "and",
        "or",
        "but",
        "also",
        "too",
        "for",
        "the",
        "a",
        "an",
        "my",
        "me",
        "mine",
        "our",
        "your",
        "his",
        "her",
        "their",
        "its",
        "of",
        "on",
        "in",
        "at",
        "to",
        "with",
        "about",
        "what",
        "how",
        "which",
        "one",
        "ones",
        "area",
        "areas",
        "part",
        "bit",
        "there",
        "this",
        "that",
        "those",
        "these",
        "it",
        "if",
        "specifically",
        "just",
        "only",
        "instead",
        "same",
        "as",
    ]
)
#: Words that ask to go on with the last answer ("tell me more", "why?", "why do i need one",
#: "what does that mean"): a follow-up of the topic, not a question of its own.
FOLLOW_UP = frozenset(
    [
        "tell", "more", "why", "explain", "elaborate", "detail", "details", "info", "information",
        "further", "else", "go", "come", "mean", "means", "meaning", "do", "does", "did", "i", "need",
        "matter", "matters", "important", "is", "so", "can", "you",
    ]
)
_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)


#: First words that turn an offer down ("no thats ok", "nope", "no thanks").
NEGATIONS = frozenset(["no", "nope", "nah", "not", "dont", "don't", "never"])


def declines(text: str) -> bool:
    """True when the message starts by saying no ("no thats ok", "nah im good")."""
    first = _WORD.search(text.lower().replace("\u2019", "'"))
    return first is not None and first.group() in NEGATIONS


def carries_content(text: str, matches: Iterable[GuardrailMatch]) -> bool:
    """What the guardrail judges by: content of its own, and not a follow-up of the last answer."""
    matches = list(matches)
    return has_content(text, matches) and not is_follow_up(text, matches)


def is_follow_up(text: str, matches: Iterable[GuardrailMatch]) -> bool:
    """True for "tell me more", "why?", "why do i need one": no content of its own and at least one
    word asking to go on with the last answer."""
    words = [w.group().lower() for w in _WORD.finditer(text)]
    matches = list(matches)
    if not words or any(m.is_guardrail for m in matches) or not any(w in FOLLOW_UP for w in words):
        return False
    return not has_content(text, matches, extra=FOLLOW_UP)


def has_content(text: str, matches: Iterable[GuardrailMatch], *, extra: frozenset[str] = frozenset()) -> bool:
    """True when the message holds a word that is not an acknowledgement, a filler word or part
    of a named treatment area.

    Args:
        text: The message as typed.
        matches: The guardrail matcher's matches in it (areas are what count here).
        extra: More words that carry no content here.
    """
    covered = [(m.start, m.end) for m in matches if m.entity == ENTITY_TREATMENT_AREA]
    for word in _WORD.finditer(text):
        if any(start <= word.start() and word.end() <= end for start, end in covered):
            continue
        if word.group().lower() not in ACKNOWLEDGEMENTS | FILLER | extra:
            return True
    return False
