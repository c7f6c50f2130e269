"""Red flags written in other languages: each language's vocabulary as a spaCy ``Matcher``.

The English guardrail (:mod:`mesoguide.guardrail`) matches lemmas of English words; other
languages inflect far more (Turkish and Russian suffixes, German compounds, Arabic clitics), and
spaCy has no lemma tables here for most of them. So each word of a term is a **stem**: it
matches a word of the message that starts with it ("şiş" matches şişti, şişmiş, şişiyor).
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

from mesoguide.errors import LanguagePackError
from mesoguide.knowledge import ForeignRedFlag, LanguagePack
from mesoguide.language.fold import fold

#: Other words allowed between two words of a term ("yüzüm çok fazla şişti").
MAX_GAP = 2
#: Characters allowed between the parts of a Chinese term ("脸 肿" matches 脸非常肿).
MAX_CHINESE_GAP = 4
_ARABIC_PREFIXES = "(?:[وف])?(?:[بكل])?(?:ال|لل)?"
_CHARACTER_LANGUAGES = frozenset({"zh"})


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
        for entry in entries:
            self._matcher.add(entry.id, [self._pattern(term) for term in entry.terms])

    def match(self, text: str) -> list[ForeignRedFlagMatch]:
        """The red-flag entries this language's vocabulary finds in a message, in text order."""
        doc = self._nlp.make_doc(fold(text, self.language))
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
            parts = [[{"LOWER": {"REGEX": self._stem(token.text)}}] for token in self._nlp.make_doc(folded)]
            gap = MAX_GAP
        pattern: list[dict[str, Any]] = []
        for index, part in enumerate(parts):
            if index:
                pattern += [{"OP": "?"}] * gap
            pattern += part
        return pattern

    def _stem(self, word: str) -> str:
        prefix = _ARABIC_PREFIXES if self.language == "ar" else ""
        return f"^{prefix}{re.escape(word)}"


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
