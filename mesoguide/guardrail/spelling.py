"""Misspelled vocabulary words read as the words they stand for ("warfrin", "anticoagulents").

Patients misspell medicine and condition names; the span ruler matches exact lemmas only. The
corrector reads a word that is not ordinary English and lies within a small edit distance of
exactly one vocabulary word as that word, and the matcher matches the corrected reading too
(:func:`.normalise.readings`).

False positives are the risk: an ordinary word one letter away from a vocabulary word must stay
itself. So:

- only words of ``MIN_LENGTH`` to ``MAX_LENGTH`` letters are corrected, by at most one edit (two for words
  of at least ``TWO_EDITS_FROM`` letters), counting a swap of neighbours as one edit;
- a word that is common English (spaCy's English word probabilities, ``spacy-lookups-data``, above
  ``COMMON_LOG_PROB``) is never corrected. At build time every common word within reach of a
  vocabulary word is listed as protected; the list travels with the pipeline, so the big
  probability table is not needed at run time;
- a word two edits from a vocabulary word but one edit from a common English word is a slip on
  the common word ("permanant" is "permanent", not "preganant"): the common words long enough
  for two-edit corrections travel with the pipeline as shadows (about 15,000 words);
- a word equally close to two vocabulary words takes the first in alphabetical order (the
  vocabularies list common misspellings themselves, so near ties are usually spellings of one term).

The index is a deletion neighbourhood (SymSpell): every string made by deleting up to two letters
of a vocabulary word points back to it, so a lookup costs a few dictionary reads, not a scan.
"""

# No `from __future__ import annotations` here: spaCy validates the factory's signature with
# pydantic, which needs real annotations, not strings.
import functools
import json
from collections.abc import Iterable, Iterator
from itertools import combinations
from pathlib import Path

import srsly
from spacy.language import Language
from spacy.tokens import Doc

MIN_LENGTH = 5
MAX_LENGTH = 24  # no medicine or condition name is longer; a longer "word" is noise, not a typo
TWO_EDITS_FROM = 9
COMMON_LOG_PROB = -15.0
# Only rare words are corrected towards: medicine, condition and symptom names. A misspelled
# common word ("consulation") must not turn into a rare term one edit away from it.
TARGET_MAX_LOG_PROB = -12.5
PIPE_NAME = "guardrail_spelling"


def allowed_edits(word: str) -> int:
    """How many edits a word of this length may be away from a vocabulary word."""
    return 2 if len(word) >= TWO_EDITS_FROM else 1


def deletions(word: str, depth: int) -> set[str]:
    """The word and every string made by deleting up to ``depth`` of its letters."""
    out = {word}
    for k in range(1, depth + 1):
        if len(word) - k < 2:
            break
        out.update("".join(ch for i, ch in enumerate(word) if i not in set(drop)) for drop in combinations(range(len(word)), k))
    return out


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def one_edit(word: str) -> Iterator[str]:
    """Every string one edit from the word (Norvig's ``edits1``)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    for left, right in splits:
        if right:
            yield left + right[1:]
            for letter in _LETTERS:
                yield left + letter + right[1:]
        if len(right) > 1:
            yield left + right[1] + right[0] + right[2:]
        for letter in _LETTERS:
            yield left + letter + right


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a neighbour swap is one edit), or ``limit + 1`` when
    it is larger than ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class SpellingCorrector:
    """Corrects words to vocabulary words; a spaCy pipe so it is saved with the pipeline.

    Args:
        vocabulary: The vocabulary's words (lowercase letters).
        protected: Common words that must never be corrected.
        shadows: Long common words: a word one edit from one of them is not corrected by two edits.
    """

    def __init__(self, *, vocabulary: Iterable[str] = (), protected: Iterable[str] = (), shadows: Iterable[str] = ()) -> None:
        self.set_words(sorted(set(vocabulary)), sorted(set(protected)), sorted(set(shadows)))

    def set_words(self, vocabulary: list[str], protected: list[str], shadows: Iterable[str] = ()) -> None:
        """Replaces the word lists and rebuilds the indexes."""
        self.vocabulary = vocabulary
        self.protected = frozenset(protected)
        self.shadows = tuple(shadows)
        self._known = frozenset(vocabulary)
        self._index: dict[str, list[str]] = {}
        for word in vocabulary:
            if len(word) >= MIN_LENGTH:
                for variant in deletions(word, allowed_edits(word)):
                    self._index.setdefault(variant, []).append(word)
        self._shadow_set = frozenset(self.shadows)

    def _slip_on_a_common_word(self, word: str) -> bool:
        """True when the word is one edit (a letter added, dropped, changed or two swapped) from a
        long common word."""
        return any(variant in self._shadow_set for variant in one_edit(word))

    def __call__(self, doc: Doc) -> Doc:
        """A pass-through: the matcher asks :meth:`correct` for the words it reads."""
        return doc

    def candidates(self, word: str) -> Iterator[tuple[int, str]]:
        """(distance, vocabulary word) for every vocabulary word within reach of ``word``."""
        seen: set[str] = set()
        for variant in deletions(word, 2):
            for target in self._index.get(variant, ()):
                if target in seen:
                    continue
                seen.add(target)
                limit = min(allowed_edits(target), allowed_edits(word))
                distance = edit_distance(word, target, limit)
                if distance <= limit:
                    yield distance, target

    def correct(self, word: str) -> str | None:
        """The vocabulary word a misspelled word stands for, or ``None`` to leave it as it is."""
        if not MIN_LENGTH <= len(word) <= MAX_LENGTH or not word.isalpha() or word in self._known or word in self.protected:
            return None
        found = sorted(self.candidates(word))
        if not found or (found[0][0] >= 2 and self._slip_on_a_common_word(word)):
            return None
        return found[0][1]

    def to_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> None:
        """Saves the word lists next to the rest of the pipeline."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        words = {"vocabulary": self.vocabulary, "protected": sorted(self.protected), "shadows": list(self.shadows)}
        srsly.write_json(path / "words.json", words)

    def from_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> "SpellingCorrector":
        """Loads what :meth:`to_disk` saved."""
        data = json.loads((Path(path) / "words.json").read_text(encoding="utf-8"))
        self.set_words(list(data["vocabulary"]), list(data["protected"]), list(data.get("shadows", [])))
        return self


@Language.factory(PIPE_NAME)
def make_spelling_corrector(nlp: Language, name: str) -> SpellingCorrector:
    """The factory spaCy calls when it loads a saved guardrail pipeline."""
    return SpellingCorrector()


def build_corrector(vocabulary_words: Iterable[str]) -> SpellingCorrector:
    """A corrector towards the rare words of the vocabulary, with the common words near them
    protected. Reads spaCy's English word probabilities (``spacy-lookups-data``) once per process."""
    probabilities = _log_probabilities()
    targets = {
        w
        for w in vocabulary_words
        if len(w) >= MIN_LENGTH and w.isalpha() and probabilities.get(w, -99.0) <= TARGET_MAX_LOG_PROB
    }
    protected = _near(frozenset(targets))
    return SpellingCorrector(vocabulary=targets, protected=protected, shadows=_shadows(frozenset(targets)))


@functools.lru_cache(maxsize=1)
def _log_probabilities() -> dict[str, float]:
    """Lowercase word -> log probability in English text (the highest of its casings)."""
    import spacy_lookups_data

    table = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
    probabilities: dict[str, float] = {}
    for word, log_prob in srsly.read_gzip_json(table).items():
        key = word.lower()
        probabilities[key] = max(log_prob, probabilities.get(key, log_prob))
    return probabilities


@functools.lru_cache(maxsize=4)
def _near(vocabulary: frozenset[str]) -> frozenset[str]:
    """The common words within reach of a vocabulary word: they stay as they are."""
    probe = SpellingCorrector(vocabulary=vocabulary)
    return frozenset(
        word
        for word, log_prob in _log_probabilities().items()
        if log_prob > COMMON_LOG_PROB
        and len(word) >= MIN_LENGTH
        and word.isalpha()
        and word not in vocabulary
        and next(probe.candidates(word), None) is not None
    )



@functools.lru_cache(maxsize=4)
def _shadows(vocabulary: frozenset[str]) -> frozenset[str]:
    """The common words long enough that a one-edit slip on them gets a two-edit correction."""
    return frozenset(
        word
        for word, log_prob in _log_probabilities().items()
        if log_prob > COMMON_LOG_PROB
        and TWO_EDITS_FROM - 1 <= len(word) <= MAX_LENGTH + 1
        and word.isalpha()
        and word not in vocabulary
    )
