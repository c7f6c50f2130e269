"""Typed records of the knowledge base; the boundary between ``knowledge/`` and the code.

All records are frozen: the knowledge base is loaded once per process and shared.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

VocabularyCategory = Literal["contraindication", "red_flag", "medical_advice"]


@dataclass(frozen=True)
class Source:
    """An article the answers rest on."""

    id: str
    title: str
    file: str
    kind: str


@dataclass(frozen=True)
class Area:
    """A treatment area and the words patients use for it."""

    id: str
    label: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    """One curated answer (SPEC §3)."""

    id: str
    title: str
    answer: str
    variants: Mapping[str, str]
    related: tuple[str, ...]
    sources: tuple[str, ...]
    reviewed_by: str
    reviewed_on: dt.date

    def text_for(self, area: str | None) -> tuple[str, str | None]:
        """The answer text for an area, and the area whose variant was used (or ``None``)."""
        if area and area in self.variants:
            return self.variants[area], area
        return self.answer, None


@dataclass(frozen=True)
class NearRule:
    """Two word lists that signal a red flag when they occur close together."""

    first: tuple[str, ...]
    second: tuple[str, ...]
    max_gap: int


@dataclass(frozen=True)
class VocabularyEntry:
    """A guardrail vocabulary entry: a canonical id and the phrases that stand for it."""

    id: str
    category: VocabularyCategory
    group: str
    terms: tuple[str, ...] = ()
    near: NearRule | None = None


@dataclass(frozen=True)
class ClinicInfo:
    """The clinic's own facts, from ``clinic.yml``."""

    name: str
    phone: str
    email: str
    address: str
    opening_hours: str
    booking_url: str
    emergency_number: str
    is_example: bool

    def placeholders(self) -> dict[str, str]:
        """Values for the ``{placeholder}`` names allowed in answers and messages."""
        return {
            "clinic_name": self.name,
            "phone": self.phone,
            "email": self.email,
            "address": self.address,
            "opening_hours": self.opening_hours,
            "booking_url": self.booking_url,
            "emergency_number": self.emergency_number,
        }


PLACEHOLDER_NAMES: frozenset[str] = frozenset(
    ClinicInfo("", "", "", "", "", "", "", False).placeholders()
)


def placeholders_in(text: str) -> set[str]:
    """The ``{name}`` placeholders a text uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@dataclass(frozen=True)
class Messages:
    """The assistant's own texts (not topic answers), from ``messages.yml``."""

    disclaimer: str
    escalation: Mapping[str, str]
    callback_offer: str
    fallback: str
    reference_line: str  # contains {reference}
    reference_unavailable: str
    callback: Mapping[str, str]  # the callback form's texts, keys CALLBACK_KEYS of the loader

    @property
    def callback_button(self) -> str:
        """Title of the quick reply that starts the callback form."""
        return self.callback["button"]
    area_prompt: str
    smalltalk: Mapping[str, str]
    topic_prompt: str  # after "yes", "ok", "?" with nothing to agree to: topic buttons follow
    area_not_covered: str  # contains {area}: an area with no variant of the topic asked about


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the assistant knows, validated. Build it with :func:`load_knowledge`."""

    topics: Mapping[str, Topic]
    areas: Mapping[str, Area]
    sources: tuple[Source, ...]
    clinic: ClinicInfo
    messages: Messages
    vocabulary: tuple[VocabularyEntry, ...] = field(default=())

    def render(self, text: str) -> str:
        """Fill clinic placeholders in a text (names were checked at load time)."""
        return text.format_map(self.clinic.placeholders())
