"""Typed records of the knowledge base; the boundary between ``knowledge/`` and the code.

All records are frozen: the knowledge base is loaded once per process and shared.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from mesoguide.knowledge.aspects import AspectCues
from mesoguide.knowledge.glossary import Glossary
from mesoguide.knowledge.hours import OpeningHours

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
class ClinicianSignoff:
    """A clinician's sign-off of a text, as written in ``clinician_signoff:``.

    Attributes:
        name: The clinician who signed, by name.
        registration: Their professional registration (body and number, e.g. "GMC 1234567").
        signed_on: The date they signed.
        fingerprint: The fingerprint of the text they signed
            (:func:`mesoguide.knowledge.release.fingerprint`); a later edit no longer matches.
    """

    name: str
    registration: str
    signed_on: dt.date
    fingerprint: str


@dataclass(frozen=True)
class Topic:
    """One curated answer (docs/product.md).

    ``reviewed_by``/``reviewed_on`` record the editorial review (the content team);
    ``clinician_signoff`` the clinician's, which a release requires (``make check-release``).
    """

    id: str
    title: str
    answer: str
    variants: Mapping[str, str]
    related: tuple[str, ...]
    sources: tuple[str, ...]
    reviewed_by: str
    reviewed_on: dt.date
    clinician_signoff: ClinicianSignoff | None = None

    def text_for(self, area: str | None) -> tuple[str, str | None]:
        """The answer text for an area, and the area whose variant was used (or ``None``)."""
        if area and area in self.variants:
            return self.variants[area], area
        return self.answer, None


@dataclass(frozen=True)
class NearRule:
    """Two word lists that signal a match when they occur close together.

    Attributes:
        first: Phrases of the first side.
        second: Phrases of the second side.
        max_gap: The most words allowed between the two sides.
        in_order: The first side must come before the second. Sides pair in either order by
            default; an either-or diagnosis ("is it melasma or ...") must not also match the
            reverse ("fine lines or is it more of a glow thing?").
    """

    first: tuple[str, ...]
    second: tuple[str, ...]
    max_gap: int
    in_order: bool = False


@dataclass(frozen=True)
class VocabularyEntry:
    """A guardrail vocabulary entry: a canonical id and the phrases that stand for it."""

    id: str
    category: VocabularyCategory
    group: str
    terms: tuple[str, ...] = ()
    near: NearRule | None = None


@dataclass(frozen=True)
class ForeignRedFlag:
    """A red-flag entry of another language's vocabulary (``vocabularies/red_flags.<lang>.yml``).

    Attributes:
        id: The English red-flag entry it stands for (``breathing_difficulty``).
        terms: Phrases in that language; each word is a stem (``mesoguide/language/README.md``).
    """

    id: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class LanguagePack:
    """What a patient who writes another language gets: ``messages.<lang>.yml`` and the
    red-flag vocabulary of that language, signed together.

    Attributes:
        code: ISO 639-1 code (``tr``).
        name: The language's own name for itself (``Türkçe``).
        english_only: The safe reply: the assistant answers in English only, how to reach the
            clinic, the emergency number.
        red_flag: The urgent text, a translation of ``escalation.red_flag``.
        reference_line: Contains ``{reference}``.
        reference_unavailable: When the escalation could not be stored.
        red_flags: The red-flag vocabulary of the language.
        clinician_signoff: Covers the texts and the vocabulary (``release.fingerprint``).
    """

    code: str
    name: str
    english_only: str
    red_flag: str
    reference_line: str
    reference_unavailable: str
    red_flags: tuple[ForeignRedFlag, ...]
    clinician_signoff: ClinicianSignoff | None = None


#: The placeholder that ends an answer about regulated products: the clinic's regulatory note,
#: or nothing when the clinic has not set one. Allowed only at the very end of a topic text.
REGULATORY_NOTE = "regulatory_note"


@dataclass(frozen=True)
class OutOfHours:
    """Where a patient with an urgent problem goes while the clinic is closed.

    Attributes:
        service: Who answers, written to follow "call": "our on-call nurse", "NHS 111".
        phone: Their number.
    """

    service: str
    phone: str


@dataclass(frozen=True)
class RegulatoryNote:
    """The clinic's own regulator's position, added to answers about regulated products.

    Attributes:
        country: The country the note is about (answers always say which country).
        text: One or two plain sentences.
    """

    country: str
    text: str

    def render(self) -> str:
        """The note as it ends an answer: the country first, so no reader takes it as universal."""
        return f"{self.country}: {self.text}"


@dataclass(frozen=True)
class FactsChecked:
    """Who at the clinic last checked every clinic fact against reality, and when."""

    by: str
    on: dt.date


@dataclass(frozen=True, kw_only=True)
class ClinicInfo:
    """The clinic's own facts, from ``clinic.yml``."""

    name: str
    phone: str
    email: str
    address: str
    opening_hours: str
    booking_url: str
    emergency_number: str
    out_of_hours: OutOfHours
    is_example: bool
    regulatory_note: RegulatoryNote | None = None
    facts_checked: FactsChecked | None = None
    #: Domains whose https links the web widget turns into links (the booking link's is added).
    link_domains: tuple[str, ...] = ()
    #: The opening hours as data (``hours``), None when the clinic has not given them.
    hours: OpeningHours | None = None

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
            "out_of_hours_service": self.out_of_hours.service,
            "out_of_hours_phone": self.out_of_hours.phone,
            REGULATORY_NOTE: self.regulatory_note.render() if self.regulatory_note else "",
        }


PLACEHOLDER_NAMES: frozenset[str] = frozenset(
    ClinicInfo(
        name="", phone="", email="", address="", opening_hours="", booking_url="", emergency_number="",
        out_of_hours=OutOfHours(service="", phone=""), is_example=False,
    ).placeholders()
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
    area_prompt: str
    smalltalk: Mapping[str, str]
    topic_prompt: str  # after "yes", "ok", "?" with nothing to agree to: topic buttons follow
    area_not_covered: str  # contains {area}: an area with no variant of the topic asked about
    runtime: Mapping[str, str] = field(default_factory=dict)  # keys RUNTIME_KEYS of the loader
    #: A staff member joining and leaving a chat, and "the team is not in" (keys STAFF_KEYS of
    #: the loader; {staff_name} and {next_opening} are filled in where they are sent).
    staff: Mapping[str, str] = field(default_factory=dict)
    clinician_signoff: ClinicianSignoff | None = None

    @property
    def callback_button(self) -> str:
        """Title of the quick reply that starts the callback form."""
        return self.callback["button"]


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the assistant knows, validated. Build it with :func:`load_knowledge`."""

    topics: Mapping[str, Topic]
    areas: Mapping[str, Area]
    sources: tuple[Source, ...]
    clinic: ClinicInfo
    messages: Messages
    vocabulary: tuple[VocabularyEntry, ...] = field(default=())
    #: Education phrases (``vocabularies/education_phrases.yml``): a vocabulary match that lies
    #: wholly inside one ("allergy test", "what medical conditions does it treat") does not count.
    education_phrases: tuple[str, ...] = field(default=())
    languages: Mapping[str, LanguagePack] = field(default_factory=dict)  # by ISO 639-1 code
    #: Technical words and the topic that explains them (``glossary.yml``; the fallback's last resort).
    glossary: Glossary = field(default_factory=lambda: Glossary(terms={}))
    #: Treatment topics and the words that ask about one aspect of them (``aspects.yml``).
    aspects: AspectCues = field(default_factory=AspectCues)

    def render(self, text: str, **values: str) -> str:
        """Fill clinic placeholders in a text (names were checked at load time), and ``values``
        for the text's own ones ({staff_name}); a value is inserted as written, never read as
        a placeholder itself.

        The text is stripped after filling: ``{regulatory_note}`` ends a text and is empty when
        the clinic has not set a note.
        """
        return text.format_map({**self.clinic.placeholders(), **values}).strip()
