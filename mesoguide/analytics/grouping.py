"""Questions that fell back, grouped by similarity, so an editor sees what to add next.

Deterministic and dependency-free: each question becomes the set of its content words (lower
case, without common function words, plural "s" dropped); a question joins the first group whose
first question's words it shares enough of, otherwise it starts a group. "Enough" is the overlap
coefficient (shared words / the smaller set's size) of at least ``threshold``: patients add
words around the same question ("... after it? call me on [phone]"), which a measure over the
union (Jaccard) would count against them. Groups are listed largest first. Good enough for tens to thousands of short
questions a month; the texts are redacted before they get here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_WORD = re.compile(r"[a-zà-ÿ0-9]+")
_FUNCTION_WORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "do", "does", "did", "for",
        "from", "have", "has", "had", "how", "i", "i'm", "if", "in", "is", "it", "its", "me", "my", "of", "on",
        "or", "so", "that", "the", "there", "this", "to", "was", "what", "when", "where", "which", "who", "why",
        "will", "with", "would", "you", "your", "about", "after", "any", "am", "been", "before", "get", "got",
        "just", "much", "many", "need", "should", "some", "than", "then", "them", "they", "we",
    }
)
DEFAULT_THRESHOLD = 0.6
MAX_EXAMPLES = 3


@dataclass
class Group:
    """Similar questions.

    Attributes:
        words: The words of the question that started the group.
        count: How many questions are in it.
        examples: Up to :data:`MAX_EXAMPLES` distinct questions, as written (redacted).
    """

    words: frozenset[str]
    count: int = 0
    examples: list[str] = field(default_factory=list)


def content_words(text: str) -> frozenset[str]:
    """The words that carry a question's meaning."""
    words = set()
    for word in _WORD.findall(text.lower()):
        if word in _FUNCTION_WORDS or len(word) < 3:
            continue
        words.add(word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word)
    return frozenset(words)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Overlap coefficient of two word sets (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def group_similar(texts: Iterable[str], *, threshold: float = DEFAULT_THRESHOLD) -> list[Group]:
    """``texts`` grouped by similarity, largest group first (ties: first seen first)."""
    groups: list[Group] = []
    for text in texts:
        text = " ".join(text.split())
        if not text:
            continue
        words = content_words(text)
        # Questions without content words ("??", "hm") go together.
        home = next((g for g in groups if similarity(words, g.words) >= threshold or not (words or g.words)), None)
        if home is None:
            home = Group(words=words)
            groups.append(home)
        home.count += 1
        if text not in home.examples and len(home.examples) < MAX_EXAMPLES:
            home.examples.append(text)
    return sorted(groups, key=lambda g: -g.count)
