"""Red flags written in other languages: each language's vocabulary as a spaCy ``Matcher``.

The English guardrail (:mod:`mesoguide.guardrail`) matches lemmas of English words; other
languages inflect far more (Turkish and Russian suffixes, German compounds, Arabic clitics), and
spaCy has no lemma tables here for most of them. So each word of a term is a **stem**: it
matches a word of the message that starts with it ("şiş" matches şişti, şişmiş, şişiyor); a
word written with ``=`` after it matches only itself ("pus=" is not "push").
The words of a term come in order with at most :data:`MAX_GAP` other words between them.
Arabic stems may follow the prefixes و ف, ب ك ل and the article ال, which patients write
joined to the word. Chinese is read character by character (spaCy's ``zh`` tokenizer in
character mode, no word segmenter needed): a space inside a Chinese term allows up to
:data:`MAX_CHINESE_GAP` characters between its parts.

Messages and terms are folded alike first (:mod:`.fold`), so "atesim var" matches "ateş".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

from mesoguide.errors import LanguagePackError
from mesoguide.knowledge import ForeignRedFlag, LanguagePack
from mesoguide.language.fold import fold

#: Other words allowed between two words of a term ("yüzüm çok fazla şişti").
MAX_GAP = 2
#: Written after a word of a term, it matches that whole word only ("pus=" is not "push").
WHOLE_WORD = "="
#: Characters allowed between the parts of a Chinese term ("脸 肿" matches 脸非常肿).
MAX_CHINESE_GAP = 4
_ARABIC_PREFIXES = "(?:[وف])?(?:[بكل])?(?:ال|لل)?"
_CHARACTER_LANGUAGES = frozenset({"zh"})
_MAX_ARABIC_PREFIX = 4  # و + ب + ال, the longest run of joined prefixes
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class ForeignRedFlagMatch:
    """A red-flag term of another language found in a message.

    Attributes:
        language: The vocabulary's language (``tr``).
        value: The English red-flag entry it stands for (``breathing_difficulty``).
    """

    language: str
    value: str


class LanguageRedFlagMatcher:
    """Matches messages against one language's red-flag vocabulary.

    Args:
        language: ISO 639-1 code of the vocabulary's language.
        entries: The vocabulary (``LanguagePack.red_flags``).
    """

    def __init__(self, *, language: str, entries: Sequence[ForeignRedFlag]) -> None:
        self.language = language
        try:
            self._nlp: Language = spacy.blank(language)
        except (ImportError, KeyError, ValueError) as exc:
            raise LanguagePackError(
                f"spaCy has no tokenizer for language '{language}' ({exc}); remove messages.{language}.yml "
                f"and vocabularies/red_flags.{language}.yml or use a language spaCy supports"
            ) from None
        self._matcher = Matcher(self._nlp.vocab)
        first_words: set[str] = set()
        term_stems: set[frozenset[str]] = set()
        for entry in entries:
            self._matcher.add(entry.id, [self._pattern(term) for term in entry.terms])
            first_words.update(self._first_word(term) for term in entry.terms)
            term_stems.update(frozenset(word for word, _ in self._words(fold(term, language))) for term in entry.terms)
        self._first_words = frozenset(w for w in first_words if w)
        self._term_stems = tuple(term_stems)

    def match(self, text: str) -> list[ForeignRedFlagMatch]:
        """The red-flag entries this language's vocabulary finds in a message, in text order."""
        folded = fold(text, self.language)
        if not self._may_match(folded):
            return []
        doc = self._nlp.make_doc(folded)
        if not self._stems_present(doc):
            return []
        found = sorted(self._matcher(doc), key=lambda m: (m[1], m[2]))
        values = dict.fromkeys(self._nlp.vocab.strings[match_id] for match_id, _, _ in found)
        return [ForeignRedFlagMatch(language=self.language, value=v) for v in values]

    def _pattern(self, term: str) -> list[dict[str, Any]]:
        folded = fold(term, self.language)
        parts: list[list[dict[str, Any]]]
        if self.language in _CHARACTER_LANGUAGES:
            parts = [[{"ORTH": ch} for ch in part if not ch.isspace()] for part in folded.split()]
            gap = MAX_CHINESE_GAP
        else:
            parts = [[self._stem(token, whole)] for token, whole in self._words(folded)]
            gap = MAX_GAP
        pattern: list[dict[str, Any]] = []
        for index, part in enumerate(parts):
            if index:
                pattern += [{"OP": "?"}] * gap
            pattern += part
        return pattern

    def _may_match(self, folded: str) -> bool:
        """Whether some term's first word is in the text: most messages hold none, and this set
        lookup spares them the token-by-token match (about 0.3 ms per language)."""
        if self.language in _CHARACTER_LANGUAGES:
            return any(word in folded for word in self._first_words)
        starts = range(_MAX_ARABIC_PREFIX + 1) if self.language == "ar" else range(1)
        for word in _WORD.findall(folded):
            for start in starts:
                if any(word[start:end] in self._first_words for end in range(start + 1, len(word) + 1)):
                    return True
        return False

    def _stems_present(self, doc: Doc) -> bool:
        """Whether every stem of some term starts a token (after Arabic prefixes): what each of
        the term's patterns needs, so a message without it cannot match. One-letter first words
        ("a", "o", "s'") pass the first screen on most English messages; this spares them the
        matcher's regular expression at every token for every pattern (about 3 ms a message)."""
        if self.language in _CHARACTER_LANGUAGES:
            return True  # a Chinese term's parts are characters: the first screen is the whole test
        starts = range(_MAX_ARABIC_PREFIX + 1) if self.language == "ar" else range(1)
        starting = {t.lower_[s:e] for t in doc for s in starts for e in range(s + 1, len(t.lower_) + 1)}
        return any(stems <= starting for stems in self._term_stems)

    def _first_word(self, term: str) -> str:
        folded = fold(term, self.language)
        if self.language in _CHARACTER_LANGUAGES:
            return folded.split()[0] if folded.split() else ""
        words = self._words(folded)
        # The screen reads runs of letters: "j'" of "j'étouffe" is looked for as "j".
        runs = _WORD.findall(words[0][0]) if words else []
        return runs[0] if runs else ""

    def _words(self, folded: str) -> list[tuple[str, bool]]:
        """The term's words as the tokenizer splits them ("l'oeil" is two), each with whether it
        must match whole: some words start too many others ("pus" starts "push"), so "pus="
        matches "pus" only."""
        words = []
        for word in folded.split():
            whole = word.endswith(WHOLE_WORD) and len(word) > 1
            tokens = [t.text for t in self._nlp.make_doc(word.removesuffix(WHOLE_WORD) if whole else word)]
            words += [(token, whole and i == len(tokens) - 1) for i, token in enumerate(tokens)]
        return words

    def _stem(self, word: str, whole: bool) -> dict[str, Any]:
        prefix = _ARABIC_PREFIXES if self.language == "ar" else ""
        return {"LOWER": {"REGEX": f"^{prefix}{re.escape(word)}" + ("$" if whole else "")}}


class ForeignRedFlags:
    """Every language pack's red-flag matcher, built once per process.

    Args:
        vocabularies: Each pack's red-flag vocabulary, by language code.
    """

    def __init__(self, *, vocabularies: Mapping[str, Sequence[ForeignRedFlag]]) -> None:
        self._matchers = {code: LanguageRedFlagMatcher(language=code, entries=v) for code, v in vocabularies.items()}

    @classmethod
    def from_packs(cls, packs: Mapping[str, LanguagePack]) -> ForeignRedFlags:
        """The matchers of a knowledge base's language packs."""
        return cls(vocabularies={code: pack.red_flags for code, pack in packs.items()})

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages with a vocabulary, sorted."""
        return tuple(sorted(self._matchers))

    def match(self, text: str, languages: Sequence[str] | None = None) -> list[ForeignRedFlagMatch]:
        """Red flags of the given languages (default: all) found in a message."""
        wanted = self._matchers if languages is None else {c: self._matchers[c] for c in languages if c in self._matchers}
        return [m for matcher in wanted.values() for m in matcher.match(text)]
