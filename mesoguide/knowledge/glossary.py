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
edit (two from :data:`TWO_EDITS_FROM` letters), with its first letter right: patients rarely
spell "deoxycholate" right.
A common English word within that reach ("aesthetic" is one edit from "anesthetic") is listed
under ``ordinary_words`` and stays itself; a test lists any common word the terms reach that the
file does not name.
"""

from __future__ import annotations

import functools
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
        ordered: list[str] = []
        for i, word in enumerate(words):
            for term in self._terms_at(word):
                last = i + len(term) - 1
                if last >= len(words) or words[i:last] != term[:-1] or self.terms[term] in ordered:
                    continue
                if _same_word_cached(term[-1], words[last], len(term) == 1, self.ordinary_words):
                    ordered.append(self.terms[term])
        return ordered

    def _terms_at(self, word: str) -> list[tuple[str, ...]]:
        """The terms that may start with ``word``: by their first word (or its plural, for a
        one-word term), and the long one-word terms it may misspell (same first letter)."""
        exact = self._by_first_word.get(word, [])
        if len(word) < FUZZY_MIN_WORD or word in self.ordinary_words:
            return exact
        return exact + [t for t in self._long_terms.get(word[0], ()) if t not in exact]

    @functools.cached_property
    def _by_first_word(self) -> dict[str, list[tuple[str, ...]]]:
        index: dict[str, list[tuple[str, ...]]] = {}
        for term in self.terms:
            forms = (term[0], term[0] + "s", term[0] + "es") if len(term) == 1 else (term[0],)
            for form in forms:
                index.setdefault(form, []).append(term)
        return index

    @functools.cached_property
    def _long_terms(self) -> dict[str, tuple[tuple[str, ...], ...]]:
        """One-word terms long enough to be matched misspelled, by their first letter (patients
        rarely miss the first letter, and a word is compared with a handful of terms, not all)."""
        index: dict[str, list[tuple[str, ...]]] = {}
        for term in self.terms:
            if len(term) == 1 and len(term[0]) >= FUZZY_FROM:
                index.setdefault(term[0][0], []).append(term)
        return {letter: tuple(terms) for letter, terms in index.items()}


@functools.lru_cache(maxsize=4096)
def _same_word_cached(term: str, word: str, fuzzy: bool, ordinary: frozenset[str]) -> bool:
    # A long message repeats its words; an edit distance in pure Python is the costly step.
    return same_word(term, word, fuzzy=fuzzy, ordinary=ordinary)


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
