"""Which language a message is written in: English unless the evidence for another is clear.

Rules, in order (``mesoguide/language/README.md`` explains each choice):

1. **Script**: when most letters are Chinese characters, Arabic, Cyrillic or Greek, the script
   decides (``zh``, ``ar``, ``ru``, ``el``): no English word is written in them.
2. **English guardrail terms** (red flag, contraindication, medical advice; not treatment areas,
   whose words other languages share) found in the message make it English: a mixed message
   ("doktor bey, can't breathe") is the English guardrail's to judge.
3. **Short messages** (one or two words: "ok", "botox?", "PRP", a name) are English.
4. **English words**: when more than half of the words are English (spaCy's English lookup
   tables), the message is English, whatever the detector makes of the rest.
5. **The detector** (lingua, offline, its models shipped in the package, limited to English
   and the languages the clinic has packs for) gives the languages other than English at least
   :data:`MIN_CONFIDENCE` together, and its best language either that much alone or one of the
   language's own small words ("mi", "est", "und": spaCy's stop words) is in the message; a
   channel's hint (the browser's language, Telegram's
   ``language_code``) wins when the detector's confidence for it is within :data:`HINT_MARGIN`
   of the best. Otherwise: English.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.lookups import Table, load_lookups
from spacy.util import get_lang_class

from mesoguide.errors import LanguagePackError
from mesoguide.language.fold import fold

ENGLISH = "en"
#: The detector's least confidence for a language other than English.
MIN_CONFIDENCE = 0.55
#: A channel's hint wins when the detector's confidence for it is this close to the best.
HINT_MARGIN = 0.2
#: Messages of at most this many words are English (rule 3).
SHORT_WORDS = 2
#: Share of English words that makes a message English (rule 4).
ENGLISH_SHARE = 0.5
#: The share of a message's letters that makes a script decide (rule 1).
SCRIPT_SHARE = 0.5
_WORD = re.compile(r"[^\W\d_]+")
#: Unicode name prefixes of the scripts that decide, and the language each stands for. Arabic
#: script is also Persian and Urdu, Cyrillic also Ukrainian or Bulgarian: the closest pack a
#: clinic is likely to have still carries the phone and the emergency number.
_SCRIPTS = {"CJK": "zh", "ARABIC": "ar", "CYRILLIC": "ru", "GREEK": "el"}


@dataclass(frozen=True)
class LanguageGuess:
    """The language of one message and why.

    Attributes:
        code: ISO 639-1 code (``en``, ``tr``).
        reason: ``script``, ``english_terms``, ``short``, ``english_words``, ``detector``,
            ``hint``, ``unsure`` or ``no_letters``.
        confidence: The detector's confidence in ``code`` (1.0 for rules).
    """

    code: str
    reason: str
    confidence: float = 1.0

    @property
    def is_english(self) -> bool:
        """True when the message is read as English."""
        return self.code == ENGLISH


class LanguageIdentifier:
    """Identifies a message's language among English and the given languages.

    Args:
        languages: The other languages to tell apart (the clinic's language packs).
        low_accuracy: lingua's low-accuracy mode (trigrams only, about 30 MB instead of about
            250 MB in memory; worse on short texts).
    """

    def __init__(self, *, languages: Iterable[str], low_accuracy: bool = False) -> None:
        self.languages = tuple(sorted(set(languages) - {ENGLISH}))
        detected = [_lingua_language(code) for code in self.languages if code not in _SCRIPTS.values()]
        builder = LanguageDetectorBuilder.from_languages(Language.ENGLISH, *detected)
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        self._detector: LanguageDetector | None = builder.with_preloaded_language_models().build() if detected else None

    def identify(self, text: str, *, english_terms: bool = False, hint: str | None = None) -> LanguageGuess:
        """The language of a message.

        Args:
            text: The patient's message.
            english_terms: True when the English guardrail found a vocabulary term (not an area:
                "cellulite" is French and German too).
            hint: A channel's language hint (``tr-TR``, ``de``), if any.
        """
        by_script = _script_language(text)
        if by_script is not None:
            return LanguageGuess(by_script, "script")
        words = _WORD.findall(text)
        if not words:
            return LanguageGuess(ENGLISH, "no_letters")
        if english_terms:
            return LanguageGuess(ENGLISH, "english_terms")
        if len(words) <= SHORT_WORDS:
            return LanguageGuess(ENGLISH, "short")
        if english_share(words) > ENGLISH_SHARE:
            return LanguageGuess(ENGLISH, "english_words")
        return self._detect(text, _hint_code(hint))

    def detected(self, text: str) -> str:
        """The detector's best language for ``text`` (English included), no rule applied: which
        language the words are in, when a red flag is found whatever the message is read as."""
        by_script = _script_language(text)
        if by_script is not None or self._detector is None:
            return by_script or ENGLISH
        best = self._detector.detect_language_of(text)
        return _code(best) if best is not None else ENGLISH

    def likeliest(self, text: str, codes: Iterable[str]) -> str | None:
        """Of ``codes``, the language the detector finds likeliest for ``text`` ("pus" is a word
        in four languages: the reply uses one)."""
        codes = list(dict.fromkeys(codes))
        if len(codes) <= 1 or self._detector is None:
            return codes[0] if codes else None
        values = {_code(v.language): v.value for v in self._detector.compute_language_confidence_values(text)}
        return max(codes, key=lambda code: values.get(code, 0.0))

    def _detect(self, text: str, hint: str | None) -> LanguageGuess:
        if self._detector is None:
            return LanguageGuess(ENGLISH, "unsure")
        values = {_code(v.language): v.value for v in self._detector.compute_language_confidence_values(text)}
        english = values.pop(ENGLISH, 0.0)
        if not values or 1.0 - english < MIN_CONFIDENCE:
            return LanguageGuess(ENGLISH, "detector", english)
        best, confidence = max(values.items(), key=lambda item: item[1])
        if hint in values and hint != best and values[hint] >= confidence - HINT_MARGIN:
            return LanguageGuess(hint, "hint", values[hint])
        # Close neighbours (Spanish and Portuguese) split the confidence between them: the
        # language's own small words then decide ("mi cara esta hinchada"). Without them, a few
        # unknown words ("dermapen vs prp") stay English.
        if confidence >= MIN_CONFIDENCE or has_function_words(text, best):
            return LanguageGuess(best, "detector", confidence)
        return LanguageGuess(ENGLISH, "unsure", english)


def has_function_words(text: str, language: str) -> bool:
    """True when the text holds one of the language's stop words (spaCy's lists), folded."""
    words = set(_WORD.findall(fold(text, language)))
    return bool(words & _stop_words(language))


@functools.cache
def _stop_words(language: str) -> frozenset[str]:
    try:
        words = get_lang_class(language).Defaults.stop_words
    except (ImportError, KeyError, ValueError):
        return frozenset()
    # Two-letter words shared with English ("a", "i", "do", "no", "me") prove nothing.
    return frozenset(fold(w, language) for w in words) - _english_lexicon().lemmas


def english_share(words: list[str]) -> float:
    """The share of words that are English words or forms of them; single letters ("l" of
    "l'effetto", "a") count for nothing either way."""
    words = [w for w in words if len(w) > 1]
    if not words:
        return 0.0
    lexicon = _english_lexicon()
    return sum(1 for w in words if lexicon.knows(w.casefold())) / len(words)


@dataclass(frozen=True)
class _EnglishLexicon:
    """English word forms (keyed by hash in spaCy's table), lemmas and stop words."""

    forms: Table
    lemmas: frozenset[str]

    def knows(self, word: str) -> bool:
        return word in self.lemmas or word in self.forms


@functools.lru_cache(maxsize=1)
def _english_lexicon() -> _EnglishLexicon:
    """spacy-lookups-data's English lemma table: 41,000 forms and their lemmas."""
    table = load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")
    return _EnglishLexicon(forms=table, lemmas=frozenset(str(v) for v in table.values()) | STOP_WORDS)


def _script_language(text: str) -> str | None:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    counts: dict[str, int] = {}
    for ch in letters:
        name = unicodedata.name(ch, "")
        script = next((s for s in _SCRIPTS if name.startswith(s)), None)
        if script is not None:
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return None
    script, count = max(counts.items(), key=lambda item: item[1])
    return _SCRIPTS[script] if count / len(letters) >= SCRIPT_SHARE else None


def _hint_code(hint: str | None) -> str | None:
    """``tr-TR`` → ``tr``; anything that is not a language tag → None."""
    if not isinstance(hint, str):
        return None
    code = hint.strip().lower().replace("_", "-").split("-")[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


def _lingua_language(code: str) -> Language:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
    except ValueError:
        raise LanguagePackError(
            f"the language detector does not know language '{code}'; remove messages.{code}.yml and "
            f"vocabularies/red_flags.{code}.yml, or use an ISO 639-1 code lingua supports"
        ) from None
