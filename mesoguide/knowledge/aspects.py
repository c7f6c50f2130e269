"""Aspect cues: which aspect of a treatment a question asks about ("how many sessions for a double chin?").

The classifier sees "double chin" and "fat dissolving", rarer and more telling words than "how
many sessions", and ranks the treatment's topic first. ``knowledge/aspects.yml`` names the
treatment topics (``subjects``) and, for each aspect topic, the plain words that ask about it
(``cues``); :mod:`actions.answer_topic` answers the aspect and offers the treatment as the first
button.

Matching is deliberately plain, so a reviewer can predict it: lower case, punctuation read as
spaces, whole words in order, nothing between them; only the sentences that ask (they end with
"?" or start with a question word; a message of one sentence asks with all of it). Exactly one
aspect named, or the classifier's topic stands.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from mesoguide.knowledge.glossary import words_of

#: Words that open a question when a patient leaves off the "?" ("how much is it for the hair").
QUESTION_WORDS = frozenset({
    "how", "what", "whats", "when", "why", "which", "who", "is", "are", "does", "do", "did", "can", "could",
    "will", "would", "should", "any", "hw", "wat", "wot",
})
_OPENERS = frozenset((word,) for word in QUESTION_WORDS)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class AspectCues:
    """The treatment topics and the words that ask about one aspect of them.

    Attributes:
        subjects: Topic ids of treatments and areas (``fat_reduction``, ``hair_loss``); never
            an aspect's (the loader checks), so the aspect found is always another topic.
        cues: Each cue's words (see :func:`~mesoguide.knowledge.glossary.words_of`) mapped to
            its aspect's topic id.
    """

    subjects: frozenset[str] = frozenset()
    cues: Mapping[tuple[str, ...], str] = field(default_factory=dict)

    def aspect_asked(self, topic_id: str, text: str) -> str | None:
        """The aspect topic to answer instead of ``topic_id``, or ``None`` to answer it.

        Args:
            topic_id: The topic the classifier chose.
            text: The patient's message.
        """
        if topic_id not in self.subjects:
            return None
        named = {self.cues[cue] for sentence in asking_sentences(text) for cue in self._cues_in(words_of(sentence))}
        return named.pop() if len(named) == 1 else None

    def _cues_in(self, words: tuple[str, ...]) -> list[tuple[str, ...]]:
        return [
            cue for i, word in enumerate(words) for cue in self._by_first_word.get(word, ())
            if words[i:i + len(cue)] == cue
        ]

    @functools.cached_property
    def _by_first_word(self) -> dict[str, list[tuple[str, ...]]]:
        index: dict[str, list[tuple[str, ...]]] = {}
        for cue in self.cues:
            index.setdefault(cue[0], []).append(cue)
        return index


def asking_sentences(text: str) -> list[str]:
    """The sentences of a message that ask something: ending with "?" or opening with a question
    word; all of them when none does (or when there is only one)."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    asking = [s for s in sentences if s.endswith("?") or words_of(s)[:1] in _OPENERS]
    return asking or sentences
