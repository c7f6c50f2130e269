"""Flesch-Kincaid grade level of a text, with no dependency: the reading-level check of docs/product.md.

Grade = 0.39 * (words / sentences) + 11.8 * (syllables / words) - 15.59 (Kincaid et al., 1975).
The formula is fixed; what differs between tools is how they count. The rules here:

- Sentences end at ``.``, ``!`` or ``?`` (a run of them counts once) followed by a space or the
  end; ``:`` and ``;`` do not end a sentence. Dots inside known abbreviations (``e.g.``,
  ``U.S.``, ...) and inside numbers (``1.5``) are not sentence ends.
- A word is a run of letters or digits, with inner apostrophes or hyphens (``it's``,
  ``micro-injury``): a hyphenated word is one word whose syllables are those of its parts.
- A number is read digit by digit (``12`` = 2 syllables): never easier than spoken aloud.
- Syllables are estimated from spelling (vowel groups, silent endings, vowel pairs that are
  said as two), with a small table of common words the rules get wrong. English spelling
  does not allow an exact count without a pronouncing dictionary; ``tests/unit/test_readability.py``
  pins the estimate against dictionary counts.
- ``{placeholders}`` (clinic facts such as ``{phone}``) count as one one-syllable word: a phone
  number or a link is not prose, and the clinic's own values should not change an answer's grade.
  ``{regulatory_note}`` counts as nothing: it is empty unless the clinic writes a note (whose
  own grade is the clinic's to check).

Why not a package: ``textstat`` 0.7.13 (the common choice) loads the CMU dictionary through
NLTK, downloading it at first use, which these machines cannot do (tried: it fails on the first
text); its older releases hyphenate with ``pyphen`` instead, and hyphenation points are not
syllables. Its grades also move between releases, so a pinned gate would move with them. These
rules are short enough to read, and the tests pin them. Measured against the CMU dictionary
(a one-off check): 99.8% of the 1,044 word types of ``knowledge/`` (on which the rules and the
exceptions table were tuned) and 96.8% of 1,638 other word types (the source articles, the product spec,
README; 0.035 syllables off per word on average). The count is stricter than textstat 0.7.3:
on the knowledge base before the clinician-editor's review, median grade 8.0 here, 6.7 there.

``python -m mesoguide.knowledge.readability [DIR]`` prints the distributions for a knowledge
directory (read as plain YAML, so an older tree can be measured too).
"""

from __future__ import annotations

import math
import re
import statistics
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from mesoguide.constants import READING_GRADE_MAX
from mesoguide.knowledge.models import REGULATORY_NOTE
from mesoguide.paths import knowledge_dir

_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|U\.S|U\.K|etc|vs|Dr|Mr|Mrs|Ms|approx)\.", re.I)
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019\-][A-Za-z0-9]+)*")
_VOWEL_GROUP = re.compile(r"[aeiouy]+")
# Vowel pairs said as two syllables: me-di-a, ra-di-o, cal-ci-um, vid-e-o, u-su-al, re-act.
_SPLIT_PAIRS = (
    re.compile(r"(?<![cstgx])ia"),  # media; not -cial, -tial, -sia
    re.compile(r"(?<![cstgx])io|(?<=[cstgx])io(?![nu])"),  # radio, antioxidant; not -tion, -gion, -xious
    re.compile(r"iu"),  # calcium, premium
    re.compile(r"(?<![cst])ien(?=[tc])"),  # ingredient, experience; not patient, efficient
    re.compile(r"(?<!p)eo(?!u)"),  # video, neon; not people, -eous
    re.compile(r"(?<![qg])ua"),  # usual, gradual; not quality, language
    re.compile(r"(?<![qg])uo"),  # fluorescent, duo
    re.compile(r"^(re|de|pre)a(?=ct|pp)"),  # react, reapply, deactivate
    re.compile(r"^(re|pre|co)o"),  # reorder, preoperative, coordinate
    re.compile(r"(?<=[^aeiou])yi"),  # applying, drying
    re.compile(r"oing$"),  # doing, going
    re.compile(r"[^aeiou]ism$"),  # mechanism, organism
)
# An "e" closing the first part of a word, not said: likely, treatment, safety, pipeline.
_SILENT_BEFORE_SUFFIX = re.compile(r"[^aeiouy]e(ly|ment|ments|ful|ness|ty|less|lines?|times?|style)$")
# Words the spelling rules count wrongly, with their dictionary syllable count.
_EXCEPTIONS: Mapping[str, int] = {
    "area": 3, "areas": 3, "idea": 3, "ideas": 3, "create": 2, "created": 3, "creates": 2,
    "people": 2, "every": 3, "everyone": 3, "everything": 3, "diet": 2, "diets": 2, "quiet": 2,
    "science": 2, "scientific": 4, "client": 2, "clients": 2, "fluid": 2, "fluids": 2,
    "ruin": 2, "being": 2, "seeing": 2, "real": 1, "really": 2, "million": 2, "millions": 2,
    "business": 2, "evening": 2, "different": 3, "interest": 3, "several": 3, "average": 3,
    "temperature": 4, "vegetable": 4, "sometimes": 2, "someone": 2, "something": 2,
    "somewhere": 2, "anyone": 3, "themselves": 2, "yourself": 2, "here": 1, "there": 1,
    "where": 1, "were": 1, "whole": 1, "once": 1, "are": 1, "one": 1, "done": 1, "gone": 1,
    "none": 1, "come": 1, "some": 1, "give": 1, "live": 1, "have": 1, "move": 1, "above": 2,
    "before": 2, "more": 1, "sure": 1, "made": 1, "make": 1, "take": 1, "type": 1,
    "mesotherapy": 5, "hyaluronic": 5, "collagen": 3, "elastin": 3, "cocktail": 2,
    "mesoderm": 3, "microneedling": 4, "nappage": 2, "cellulite": 3, "alopecia": 5,
    "areata": 4, "biotin": 3, "deoxycholic": 5, "deoxycholate": 5, "exosome": 3,
    "exosomes": 3, "ultrasound": 3, "pigment": 2, "glutathione": 4, "tranexamic": 4,
    "minoxidil": 4, "finasteride": 4, "keloid": 2, "keloids": 2, "hives": 1,
    "orange": 2, "any": 2, "many": 2, "acne": 2, "recipe": 3, "recipes": 3, "platelet": 2,
    "platelets": 2, "lifestyle": 2, "facelift": 2, "doesn't": 2, "doesnt": 2, "fibromyalgia": 6, "osteoarthritis": 6,
    "phosphatidylcholine": 7, "liposuction": 4, "usual": 3, "usually": 4,
}


def count_syllables(word: str) -> int:
    """Estimated syllables of one English word (a hyphenated word: the sum of its parts).

    Args:
        word: One word, any case; apostrophes and hyphens allowed.

    Returns:
        The estimated count, at least 1 for any word with a letter or digit, else 0.
    """
    parts = [p for p in re.split(r"[-\u2010\u2011]", word) if p]
    if len(parts) > 1:
        return sum(count_syllables(p) for p in parts)
    if word.isupper() and 1 < len(word) <= 5 and word.isalpha():
        return len(word)  # an initialism is spelled out: FDA, PRP, UV
    letters = re.sub(r"[^a-z0-9]", "", word.lower())
    if not letters:
        return 0
    if letters.isdigit():
        return len(letters)
    if not re.search(r"[aeiouy]", letters):
        return len(letters)  # an abbreviation is spelled out: "vs", "pm"
    if letters in _EXCEPTIONS:
        return _EXCEPTIONS[letters]
    if letters.endswith("s") and letters[:-1] in _EXCEPTIONS:
        return _EXCEPTIONS[letters[:-1]]
    if len(letters) <= 3:
        return 1
    # A "y" before a vowel at the start or after a vowel is a consonant (you, beyond, layer).
    spelled = re.sub(r"(^|(?<=[aeiou]))y(?=[aeiou])", "_", letters)
    count = len(_VOWEL_GROUP.findall(spelled))
    count += sum(len(pattern.findall(spelled)) for pattern in _SPLIT_PAIRS)
    count -= _silent_endings(spelled)
    return max(1, count)


def _silent_endings(word: str) -> int:
    """Vowel groups counted above that are not said: make, lines, used, likely, technique."""
    silent = 0
    if word.endswith(("que", "ques")):
        silent += 1  # technique, unique
    elif word.endswith("e") and not re.search(r"([^aeiouy]le|[aeiouy]e)$", word):
        silent += 1  # make, scale; not table, free, tissue
    elif word.endswith("es") and _silent_es(word):
        silent += 1  # makes, lines, types; not places, changes, boxes, needles
    elif word.endswith("ed") and _silent_ed(word):
        silent += 1  # used, helped, called; not treated, needed, handled
    if _SILENT_BEFORE_SUFFIX.search(word):
        silent += 1  # likely, safely, treatment, safety
    return silent


def _silent_es(word: str) -> bool:
    before = word[-3]
    if before in "aeiouysxzcg" or word.endswith(("ches", "shes")):
        return False
    return not (before == "l" and word[-4] not in "aeioul")  # needles, circles say the "e"


def _silent_ed(word: str) -> bool:
    before = word[-3]
    if before in "aeiouytd":
        return False
    return not (before == "l" and word[-4] not in "aeioul")  # handled, dimpled say the "e"


@dataclass(frozen=True)
class Readability:
    """The counts behind a grade, so a reviewer can see why a text scores as it does."""

    words: int
    sentences: int
    syllables: int

    @property
    def grade(self) -> float:
        """Flesch-Kincaid grade level (0.0 for a text with no words)."""
        if not self.words:
            return 0.0
        return 0.39 * self.words / self.sentences + 11.8 * self.syllables / self.words - 15.59


def measure(text: str) -> Readability:
    """Words, sentences and syllables of a text, counted by the rules of this module."""
    prose = _PLACEHOLDER.sub(lambda m: "" if m.group(0) == "{" + REGULATORY_NOTE + "}" else "X", text)
    prose = _ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", ""), prose)
    prose = _DECIMAL.sub("", prose)
    words = _WORD.findall(prose)
    prose = prose.strip()
    ends = len(_SENTENCE_END.findall(prose))
    if prose and prose[-1] not in ".!?":
        ends += 1  # a last sentence without a full stop
    sentences = max(1, ends)
    return Readability(words=len(words), sentences=sentences, syllables=sum(count_syllables(w) for w in words))


def flesch_kincaid_grade(text: str) -> float:
    """The Flesch-Kincaid grade level of a text (see the module docstring for the counting rules)."""
    return measure(text).grade


def distribution_report(grades: Mapping[str, float], *, limit: float = READING_GRADE_MAX, bin_width: float = 1.0) -> str:
    """Min, median and max of named grades, and a text histogram, for a test summary.

    Args:
        grades: Grade by text name (e.g. ``topics/pain.answer``).
        limit: The gate; texts above it are listed by name.
        bin_width: Width of a histogram bar in grades.

    Returns:
        A few lines of plain text.
    """
    values = sorted(grades.values())
    if not values:
        return "no texts measured"
    lines = [
        f"{len(values)} texts: min {values[0]:.1f}, median {statistics.median(values):.1f}, max {values[-1]:.1f}; "
        f"{sum(v > limit for v in values)} above grade {limit:g}"
    ]
    for low, count in _histogram(values, bin_width):
        lines.append(f"  grade {low:4.1f}-{low + bin_width:4.1f} | {'#' * count} {count}")
    lines += [f"  above {limit:g}: {name} ({grade:.1f})" for name, grade in sorted(grades.items()) if grade > limit]
    return "\n".join(lines)


def _histogram(values: Iterable[float], bin_width: float) -> list[tuple[float, int]]:
    """(lower bound, count) per bin, from the lowest to the highest bin, empty bins included."""
    counts: dict[int, int] = {}
    for value in values:
        index = math.floor(value / bin_width)
        counts[index] = counts.get(index, 0) + 1
    return [(i * bin_width, counts.get(i, 0)) for i in range(min(counts), max(counts) + 1)]


def knowledge_grades(directory: Path) -> dict[str, dict[str, float]]:
    """Grades of every topic text and every message of a knowledge directory, read as plain YAML
    (not through the loader, so an older or half-edited tree can be measured too)."""
    topics: dict[str, float] = {}
    for path in sorted((directory / "topics").glob("*.yml")):
        record = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        texts = {"answer": record.get("answer") or "", **{f"variants.{a}": v for a, v in (record.get("variants") or {}).items()}}
        topics |= {f"topics/{path.stem}.{where}": flesch_kincaid_grade(str(text)) for where, text in texts.items()}
    messages: dict[str, float] = {}

    def walk(value: object, where: str) -> None:
        if isinstance(value, str):
            messages[where] = flesch_kincaid_grade(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                if key != "clinician_signoff":
                    walk(item, f"{where}.{key}")

    walk(yaml.safe_load((directory / "messages.yml").read_text(encoding="utf-8")) or {}, "messages")
    return {"answers and variants": topics, "messages": messages}


def main(argv: list[str]) -> int:
    """``python -m mesoguide.knowledge.readability [KNOWLEDGE_DIR]``: print the distributions."""
    directory = Path(argv[0]) if argv else knowledge_dir()
    for title, grades in knowledge_grades(directory).items():
        print(f"{title} (Flesch-Kincaid grade):\n{distribution_report(grades)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
