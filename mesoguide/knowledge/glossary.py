"""The glossary: words patients meet on price lists and clinic pages, and the topic that explains them.

"What's phosphatidylcholine?", "does it use lidocaine", "intradermal??": a short question about
one technical word gives the classifier almost nothing to go on, and it falls back. The glossary
(``knowledge/glossary.yml``) names, for each topic, the technical words its answer is the place
for; the fallback (:mod:`actions.offer_help`) answers the topic of the words a message names
instead of "I'm not sure I understood".

It is used only there: never to escalate or to cancel an escalation (the guardrail has decided
before any answer is chosen), and never against a topic the classifier was sure of.

Matching is deliberately plain, so a reviewer can predict it: lower case, hyphens and
punctuation read as spaces, whole words only, a plural "s"/"es" on the last word allowed, and
long single-word terms (:data:`FUZZY_FROM` letters or more) also match a misspelling within one
edit (two from :data:`TWO_EDITS_FROM` letters): patients rarely spell "deoxycholate" right.
A common English word within that reach ("aesthetic" is one edit from "anesthetic") is listed
under ``ordinary_words`` and stays itself; a test lists any common word the terms reach that the
file does not name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

FUZZY_FROM = 8
TWO_EDITS_FROM = 12
#: A message word shorter than this is never read as a misspelled long term.
FUZZY_MIN_WORD = 7
_WORD = re.compile(r"[a-z0-9]+")


def words_of(text: str) -> tuple[str, ...]:
    """The lower-case words of a text (hyphens and punctuation split words)."""
    return tuple(_WORD.findall(text.lower()))


@dataclass(frozen=True)
class Glossary:
    """Technical terms by the topic whose answer explains them.

    Attributes:
        terms: Each term's words (see :func:`words_of`) mapped to its topic id.
        ordinary_words: Words never read as a misspelled term.
    """

    terms: Mapping[tuple[str, ...], str]
    ordinary_words: frozenset[str] = frozenset()

    def topics_in(self, text: str) -> list[str]:
        """The topics of the glossary terms ``text`` names, in the order they first appear."""
        words = words_of(text)
        found: list[tuple[int, str]] = []
        for term, topic in self.terms.items():
            at = _position(term, words, self.ordinary_words)
            if at is not None:
                found.append((at, topic))
        ordered: list[str] = []
        for _, topic in sorted(found):
            if topic not in ordered:
                ordered.append(topic)
        return ordered


def _position(term: tuple[str, ...], words: tuple[str, ...], ordinary: frozenset[str]) -> int | None:
    """Where ``term`` starts in ``words``, or None."""
    n = len(term)
    for i in range(len(words) - n + 1):
        if words[i : i + n - 1] == term[:-1] and same_word(term[-1], words[i + n - 1], fuzzy=n == 1, ordinary=ordinary):
            return i
    return None


def same_word(term: str, word: str, *, fuzzy: bool, ordinary: frozenset[str] = frozenset()) -> bool:
    """Whether ``word`` is ``term``, its plural, or (``fuzzy``) a misspelling of a long term."""
    if word in (term, term + "s", term + "es"):
        return True
    if not fuzzy or len(term) < FUZZY_FROM or len(word) < FUZZY_MIN_WORD or word in ordinary:
        return False
    # Imported here: the guardrail package loads the knowledge base's records itself.
    from mesoguide.guardrail.spelling import edit_distance

    limit = 2 if len(term) >= TWO_EDITS_FROM else 1
    return edit_distance(term, word, limit) <= limit
