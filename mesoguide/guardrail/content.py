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
    ]
)
_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)


def has_content(text: str, matches: Iterable[GuardrailMatch]) -> bool:
    """True when the message holds a word that is not an acknowledgement, a filler word or part
    of a named treatment area.

    Args:
        text: The message as typed.
        matches: The guardrail matcher's matches in it (areas are what count here).
    """
    covered = [(m.start, m.end) for m in matches if m.entity == ENTITY_TREATMENT_AREA]
    for word in _WORD.finditer(text):
        if any(start <= word.start() and word.end() <= end for start, end in covered):
            continue
        if word.group().lower() not in ACKNOWLEDGEMENTS | FILLER:
            return True
    return False
