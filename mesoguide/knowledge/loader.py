"""Load and check ``knowledge/``: one pass, every rule, errors that name file/entry/field.

Start-up (both servers) and training call :func:`load_knowledge`; a knowledge base that breaks
a rule never serves a patient. ``python -m mesoguide.knowledge`` runs the same check alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mesoguide.constants import REQUIRED_TOPIC_IDS, SMALLTALK_INTENTS
from mesoguide.errors import KnowledgeError
from mesoguide.knowledge.aspects import AspectCues
from mesoguide.knowledge.glossary import Glossary, words_of
from mesoguide.knowledge.hours import HoursError, OpeningHours
from mesoguide.knowledge.languages import load_language_packs
from mesoguide.knowledge.models import (
    REGULATORY_NOTE,
    Area,
    ClinicInfo,
    FactsChecked,
    KnowledgeBase,
    Messages,
    NearRule,
    OutOfHours,
    RegulatoryNote,
    Source,
    Topic,
    VocabularyCategory,
    VocabularyEntry,
)
from mesoguide.knowledge.reading import (
    check_placeholders as _check_placeholders,
)
from mesoguide.knowledge.reading import (
    check_terms_unique as _check_terms_unique,
)
from mesoguide.knowledge.reading import (
    clinician_signoff as _clinician_signoff,
)
from mesoguide.knowledge.reading import (
    identifier as _identifier,
)
from mesoguide.knowledge.reading import (
    list_of_mappings as _list_of_mappings,
)
from mesoguide.knowledge.reading import (
    mapping as _mapping,
)
from mesoguide.knowledge.reading import (
    read_yaml as _read_yaml,
)
from mesoguide.knowledge.reading import (
    text as _text,
)
from mesoguide.knowledge.reading import (
    text_list as _text_list,
)

MAX_ANSWER_WORDS = 120  # docs/product.md: "at most ~120 words"
#: A clinic's regulatory note ends some answers; answers that end with it leave room for the
#: longest note a clinic may write (its country and its text), so no clinic can push one past
#: MAX_ANSWER_WORDS.
MAX_REGULATORY_NOTE_WORDS = 30
MAX_REGULATORY_COUNTRY_WORDS = 4
MAX_NEAR_GAP = 6
CONTRAINDICATION_GROUPS = frozenset(
    {"condition", "medicine", "pregnancy", "allergy", "age", "procedure", "infection", "circumstance"}
)
RED_FLAG_GROUPS = frozenset({"symptom"})
MEDICAL_ADVICE_GROUPS = frozenset({"diagnosis", "dose", "medicine_decision", "treatment_plan"})
GROUPS: Mapping[str, frozenset[str]] = {
    "contraindication": CONTRAINDICATION_GROUPS,
    "red_flag": RED_FLAG_GROUPS,
    "medical_advice": MEDICAL_ADVICE_GROUPS,
}
VOCABULARY_FILES: Mapping[str, VocabularyCategory] = {
    "contraindications.yml": "contraindication",
    "red_flags.yml": "red_flag",
    "medical_advice.yml": "medical_advice",
}
#: Phrases that name an education topic with a vocabulary word inside ("allergy test").
EDUCATION_PHRASES_FILE = "education_phrases.yml"
GLOSSARY_FILE = "glossary.yml"
ASPECTS_FILE = "aspects.yml"
# The callback form's texts and the placeholders each must contain besides clinic ones.
CALLBACK_FIELDS = {
    "button": (), "ask_consent": (), "ask_name": (), "ask_contact": (), "ask_time": (),
    "ask_confirm": ("{name}", "{contact}", "{time}"), "invalid_consent": (), "invalid_name": (),
    "invalid_contact": (), "invalid_time": (), "invalid_confirm": (), "confirmed": ("{reference}",),
    "cancelled": (),
}
ESCALATION_KEYS = ("red_flag", "contraindication", "medical_advice", "human")
#: Texts the Rasa server sends on its own when the normal path cannot answer.
RUNTIME_KEYS = ("unavailable", "too_long", "slow_down")
#: messages.yml ``staff``: a person joining and leaving a chat, and "the team is not in right now".
STAFF_KEYS = {"joined": ("{staff_name}",), "left": ("{staff_name}",), "closed_now": ("{next_opening}",)}


def load_knowledge(directory: Path) -> KnowledgeBase:
    """Load every knowledge file below ``directory`` and check it.

    Args:
        directory: The ``knowledge/`` directory.

    Returns:
        The validated knowledge base.

    Raises:
        KnowledgeError: The first rule broken, naming the file, the entry and the field.
    """
    directory = Path(directory)
    sources = _load_sources(directory / "sources.yml")
    areas = _load_areas(directory / "areas.yml")
    clinic = _load_clinic(directory / "clinic.yml")
    topics = _load_topics(directory / "topics", {s.title for s in sources}, set(areas))
    messages = _load_messages(directory / "messages.yml")
    vocabulary: list[VocabularyEntry] = []
    for name, category in VOCABULARY_FILES.items():
        vocabulary.extend(_load_vocabulary(directory / "vocabularies" / name, category))
    _check_unique([e.id for e in vocabulary], directory / "vocabularies", "vocabulary id")
    languages = load_language_packs(directory, [e.id for e in vocabulary if e.category == "red_flag"])
    education = _load_education_phrases(directory / "vocabularies" / EDUCATION_PHRASES_FILE)
    glossary = _load_glossary(directory / GLOSSARY_FILE, set(topics))
    aspects = _load_aspects(directory / ASPECTS_FILE, set(topics))
    return KnowledgeBase(
        topics=topics,
        areas=areas,
        sources=sources,
        clinic=clinic,
        messages=messages,
        vocabulary=tuple(vocabulary),
        education_phrases=education,
        languages=languages,
        glossary=glossary,
        aspects=aspects,
    )


# --- reading -------------------------------------------------------------------------------


def _check_unique(ids: list[str], path: Path, what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise KnowledgeError(path, f"{what} '{item}' is defined twice; ids must be unique", entry=item)
        seen.add(item)


def _check_words(text: str) -> str | None:
    """A topic text: at most MAX_ANSWER_WORDS words, known placeholders, the note only at the end."""
    words = len(text.split())
    if words > MAX_ANSWER_WORDS:
        return f"has {words} words; shorten it to at most {MAX_ANSWER_WORDS} (docs/product.md)"
    note = "{" + REGULATORY_NOTE + "}"
    if note in text:
        if text.count(note) > 1 or not text.rstrip().endswith(note):
            return f"may use {note} only once, as the very end of the text (it is empty when the clinic sets no note)"
        room = MAX_ANSWER_WORDS - MAX_REGULATORY_NOTE_WORDS - MAX_REGULATORY_COUNTRY_WORDS + 1
        if words > room:
            return (
                f"has {words} words; a text ending with {note} may have at most {room}, "
                f"to leave room for a clinic's note of up to {MAX_REGULATORY_NOTE_WORDS + MAX_REGULATORY_COUNTRY_WORDS} words"
            )
    return _check_placeholders(text, allow_note=True)


# --- files ---------------------------------------------------------------------------------


def _load_sources(path: Path) -> tuple[Source, ...]:
    sources = []
    for index, item in enumerate(_list_of_mappings(_read_yaml(path), "sources", path)):
        entry = str(item.get("id") or f"#{index + 1}")
        sources.append(
            Source(
                id=_identifier(item, path, entry),
                title=_text(item, "title", path, entry),
                file=_text(item, "file", path, entry),
                kind=_text(item, "kind", path, entry),
            )
        )
    _check_unique([s.id for s in sources], path, "source id")
    return tuple(sources)


def _load_areas(path: Path) -> dict[str, Area]:
    areas: dict[str, Area] = {}
    for index, item in enumerate(_list_of_mappings(_read_yaml(path), "areas", path)):
        entry = str(item.get("id") or f"#{index + 1}")
        area = Area(
            id=_identifier(item, path, entry),
            label=_text(item, "label", path, entry),
            terms=_text_list(item, "terms", path, entry),
        )
        if area.id in areas:
            raise KnowledgeError(path, "area id is defined twice", entry=area.id, field="id")
        areas[area.id] = area
    return areas


def _load_glossary(path: Path, topic_ids: set[str]) -> Glossary:
    """``glossary.yml``: optional (no file, no glossary); each term in one topic, once."""
    if not path.is_file():
        return Glossary(terms={})
    data = _read_yaml(path)
    terms: dict[tuple[str, ...], str] = {}
    for index, item in enumerate(_list_of_mappings(data, "glossary", path)):
        topic = item.get("topic")
        entry = str(topic or f"#{index + 1}")
        if topic not in topic_ids:
            message = f"unknown topic '{topic}'; use a file name of knowledge/topics/"
            raise KnowledgeError(path, message, entry=entry, field="topic")
        for term in _text_list(item, "terms", path, entry):
            words = words_of(term)
            if not words:
                raise KnowledgeError(path, f"term '{term}' has no letters or digits", entry=entry, field="terms")
            if words in terms:
                raise KnowledgeError(
                    path, f"term '{term}' is listed twice (also under '{terms[words]}'); a term explains one topic",
                    entry=entry, field="terms",
                )
            terms[words] = topic
    ordinary = _text_list(data, "ordinary_words", path, None, required=False)
    return Glossary(terms=terms, ordinary_words=frozenset(w.lower() for w in ordinary))


def _load_aspects(path: Path, topic_ids: set[str]) -> AspectCues:
    """``aspects.yml``: optional (no file, no aspect cues); topic ids only, each cue once."""
    if not path.is_file():
        return AspectCues()
    data = _mapping(_read_yaml(path), path)
    subjects = _text_list(data, "subjects", path, "subjects")
    for subject in subjects:
        if subject not in topic_ids:
            raise KnowledgeError(path, f"unknown topic '{subject}'; use a file name of knowledge/topics/", field="subjects")
    cues: dict[tuple[str, ...], str] = {}
    for index, item in enumerate(_list_of_mappings(data, "aspects", path)):
        topic = item.get("topic")
        entry = str(topic or f"#{index + 1}")
        if topic not in topic_ids or topic in subjects:
            message = f"'{topic}' is not a topic id, or is listed as a subject; an aspect is a file name of knowledge/topics/"
            raise KnowledgeError(path, message, entry=entry, field="topic")
        for cue in _text_list(item, "cues", path, entry):
            words = words_of(cue)
            if not words or words in cues:
                problem = "has no letters or digits" if not words else f"is listed twice (also under '{cues[words]}')"
                raise KnowledgeError(path, f"cue '{cue}' {problem}; a cue names one aspect", entry=entry, field="cues")
            cues[words] = topic
    return AspectCues(subjects=frozenset(subjects), cues=cues)


def _load_clinic(path: Path) -> ClinicInfo:
    data = _mapping(_read_yaml(path), path)
    clinic = _mapping(data.get("clinic"), path, field="clinic")
    no_placeholders = _check_no_placeholders  # every value of the clinic block
    return ClinicInfo(
        name=_text(clinic, "name", path, "clinic", check=no_placeholders),
        phone=_text(clinic, "phone", path, "clinic", check=no_placeholders),
        email=_text(clinic, "email", path, "clinic", check=no_placeholders),
        address=_text(clinic, "address", path, "clinic", check=no_placeholders),
        opening_hours=_text(clinic, "opening_hours", path, "clinic", check=no_placeholders),
        booking_url=_text(clinic, "booking_url", path, "clinic", check=no_placeholders),
        emergency_number=_text(clinic, "emergency_number", path, "clinic", check=no_placeholders),
        out_of_hours=_out_of_hours(clinic, path),
        regulatory_note=_regulatory_note(clinic, path),
        facts_checked=_facts_checked(clinic, path),
        link_domains=_link_domains(clinic, path),
        hours=_hours(clinic, path),
        is_example=bool(data.get("example", False)),
    )


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _link_domains(clinic: Mapping[str, Any], path: Path) -> tuple[str, ...]:
    """Optional: the clinic's own web domains, whose https links the web widget makes clickable."""
    raw = clinic.get("link_domains") or []
    if not isinstance(raw, list):
        raise KnowledgeError(path, "must be a list of domain names, e.g. [clinic.example]", entry="clinic", field="link_domains")
    domains = []
    for value in raw:
        domain = str(value).strip().lower()
        if not _DOMAIN.match(domain):
            raise KnowledgeError(
                path,
                f"{value!r} is not a domain name: write the host only (clinic.example), no https:// and no path",
                entry="clinic",
                field="link_domains",
            )
        domains.append(domain)
    return tuple(domains)


def _hours(clinic: Mapping[str, Any], path: Path) -> OpeningHours | None:
    """Optional: the opening hours as data (:mod:`mesoguide.knowledge.hours`)."""
    raw = clinic.get("hours")
    if raw is None:
        return None
    block = _mapping(raw, path, entry="clinic", field="hours")
    try:
        return OpeningHours.from_mapping(block)
    except HoursError as exc:
        raise KnowledgeError(path, str(exc), entry="clinic", field="hours") from exc


def _check_no_placeholders(text: str) -> str | None:
    """Clinic values are filled into texts as they are: a placeholder copied into one would
    reach patients as "{phone}"."""
    if "{" in text or "}" in text:
        return "must not contain '{' or '}': write the value itself (it is shown to patients as written)"
    return None


def _out_of_hours(clinic: Mapping[str, Any], path: Path) -> OutOfHours:
    """The route for urgent problems while the clinic is closed: required, every field named."""
    if "out_of_hours" not in clinic:
        raise KnowledgeError(
            path,
            "is missing: say who a patient with an urgent problem calls while the clinic is closed "
            "(service: and phone:, e.g. an on-call line or the local urgent-care service)",
            entry="clinic",
            field="out_of_hours",
        )
    route = _mapping(clinic["out_of_hours"], path, entry="clinic", field="out_of_hours")
    return OutOfHours(
        service=_text(route, "service", path, "clinic", check=_check_no_placeholders, within="out_of_hours"),
        phone=_text(route, "phone", path, "clinic", check=_check_no_placeholders, within="out_of_hours"),
    )


def _regulatory_note(clinic: Mapping[str, Any], path: Path) -> RegulatoryNote | None:
    """The clinic's own regulator's position: optional; when set, both country and text."""
    raw = clinic.get("regulatory_note")
    if raw is None:
        return None
    note = _mapping(raw, path, entry="clinic", field="regulatory_note")
    if not note.get("country") and not note.get("text"):
        return None  # both left empty: the clinic adds no note
    country, text = (
        _text(note, key, path, "clinic", check=_check_no_placeholders, within="regulatory_note") for key in ("country", "text")
    )
    for key, value, limit in (("country", country, MAX_REGULATORY_COUNTRY_WORDS), ("text", text, MAX_REGULATORY_NOTE_WORDS)):
        if len(value.split()) > limit:
            raise KnowledgeError(
                path, f"has {len(value.split())} words; shorten it to at most {limit}", entry="clinic",
                field=f"regulatory_note.{key}",
            )
    if text[-1] not in ".!?":
        raise KnowledgeError(path, "must end with a full stop (it ends an answer)", entry="clinic", field="regulatory_note.text")
    return RegulatoryNote(country=country, text=text)


def _facts_checked(clinic: Mapping[str, Any], path: Path) -> FactsChecked | None:
    """Who last checked the clinic's facts, and when: optional here, required for a release."""
    raw = clinic.get("facts_checked")
    if raw is None:
        return None
    record = _mapping(raw, path, entry="clinic", field="facts_checked")
    if not record.get("by") and record.get("on") is None:
        return None  # left empty: nobody has checked yet (a release refuses this)
    checked_on = record.get("on")
    if not isinstance(checked_on, dt.date):
        raise KnowledgeError(path, "needs the date written as YYYY-MM-DD", entry="clinic", field="facts_checked.on")
    return FactsChecked(by=_text(record, "by", path, "clinic", within="facts_checked"), on=checked_on)


def _load_topics(directory: Path, source_titles: set[str], area_ids: set[str]) -> dict[str, Topic]:
    if not directory.is_dir():
        raise KnowledgeError(directory, "topic directory is missing")
    topics: dict[str, Topic] = {}
    for path in sorted(directory.glob("*.yml")):
        topic = _load_topic(path, source_titles, area_ids)
        topics[topic.id] = topic
    for topic_id in REQUIRED_TOPIC_IDS:
        if topic_id not in topics:
            raise KnowledgeError(
                directory / f"{topic_id}.yml", "is missing: docs/product.md requires this topic", entry=topic_id
            )
    for topic in topics.values():
        for related in topic.related:
            if related not in topics:
                raise KnowledgeError(
                    directory / f"{topic.id}.yml", f"names unknown topic '{related}'", entry=topic.id, field="related"
                )
    return topics


def _load_topic(path: Path, source_titles: set[str], area_ids: set[str]) -> Topic:
    record = _mapping(_read_yaml(path), path)
    topic_id = _identifier(record, path, path.stem)
    if topic_id != path.stem:
        raise KnowledgeError(path, f"id '{topic_id}' must equal the file name '{path.stem}'", entry=topic_id, field="id")
    variants_raw = record.get("variants") or {}
    variants_raw = _mapping(variants_raw, path, entry=topic_id, field="variants")
    variants = {}
    for area in variants_raw:
        if area not in area_ids:
            raise KnowledgeError(
                path, f"unknown area '{area}'; known areas: {sorted(area_ids)}", entry=topic_id, field=f"variants.{area}"
            )
        variants[area] = _text(variants_raw, area, path, topic_id, check=_check_words, within="variants")
    sources = _text_list(record, "sources", path, topic_id)
    for title in sources:
        if title not in source_titles:
            raise KnowledgeError(path, f"source '{title}' is not a title in sources.yml", entry=topic_id, field="sources")
    reviewed_on = record.get("reviewed_on")
    if not isinstance(reviewed_on, dt.date):
        raise KnowledgeError(path, "needs a review date written as YYYY-MM-DD", entry=topic_id, field="reviewed_on")
    return Topic(
        id=topic_id,
        title=_text(record, "title", path, topic_id),
        answer=_text(record, "answer", path, topic_id, check=_check_words),
        variants=variants,
        related=_text_list(record, "related", path, topic_id, required=False),
        sources=sources,
        reviewed_by=_text(record, "reviewed_by", path, topic_id),
        reviewed_on=reviewed_on,
        clinician_signoff=_clinician_signoff(record, path, topic_id),
    )


def _load_messages(path: Path) -> Messages:
    data = _mapping(_read_yaml(path), path)
    escalation = _mapping(data.get("escalation"), path, field="escalation")
    smalltalk = _mapping(data.get("smalltalk"), path, field="smalltalk")
    runtime = _mapping(data.get("runtime"), path, field="runtime")
    check = _check_placeholders
    return Messages(
        disclaimer=_text(data, "disclaimer", path, None, check=check),
        escalation={k: _text(escalation, k, path, "escalation", check=check) for k in ESCALATION_KEYS},
        callback_offer=_text(data, "callback_offer", path, None, check=check),
        fallback=_text(data, "fallback", path, None, check=check),
        reference_line=_text(data, "reference_line", path, None, check=_check_reference_line),
        reference_unavailable=_text(data, "reference_unavailable", path, None, check=check),
        callback=_load_section(_mapping(data.get("callback"), path, field="callback"), path, "callback", CALLBACK_FIELDS),
        area_prompt=_text(data, "area_prompt", path, None, check=_check_area_prompt),
        smalltalk={k: _text(smalltalk, k, path, "smalltalk", check=check) for k in SMALLTALK_INTENTS},
        topic_prompt=_text(data, "topic_prompt", path, None, check=check),
        area_not_covered=_text(data, "area_not_covered", path, None, check=_check_area_prompt),
        runtime={k: _text(runtime, k, path, "runtime", check=check) for k in RUNTIME_KEYS},
        staff=_load_section(_mapping(data.get("staff"), path, field="staff"), path, "staff", STAFF_KEYS),
        clinician_signoff=_clinician_signoff(data, path, None),
    )


def _load_section(data: Mapping[str, Any], path: Path, section: str, fields: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """The texts of one ``messages.yml`` section, each with the placeholders ``fields`` requires
    of it (and only clinic placeholders besides)."""
    texts = {}
    for key, required in fields.items():

        def check(text: str, required: tuple[str, ...] = required) -> str | None:
            missing = [p for p in required if p not in text]
            if missing:
                return f"must contain {' and '.join(missing)}"
            for placeholder in required:
                text = text.replace(placeholder, "")
            return _check_placeholders(text)

        texts[key] = _text(data, key, path, section, check=check)
    return texts


def _check_reference_line(text: str) -> str | None:
    if "{reference}" not in text:
        return "must contain {reference} (the escalation's reference code)"
    return _check_placeholders(text.replace("{reference}", ""))


def _check_area_prompt(text: str) -> str | None:
    if "{area}" not in text:
        return "must contain {area} (the treatment area's name)"
    return _check_placeholders(text.replace("{area}", ""))


def _load_vocabulary(path: Path, category: VocabularyCategory) -> list[VocabularyEntry]:
    groups = GROUPS[category]
    entries = []
    for index, item in enumerate(_list_of_mappings(_read_yaml(path), "entries", path)):
        entry = str(item.get("id") or f"#{index + 1}")
        entry_id = _identifier(item, path, entry)
        group = item.get("group")
        if group not in groups:
            raise KnowledgeError(path, f"group must be one of {sorted(groups)}, not {group!r}", entry=entry_id, field="group")
        terms = _text_list(item, "terms", path, entry_id, required=False)
        near = _near_rule(item.get("near"), path, entry_id) if "near" in item else None
        if not terms and near is None:
            raise KnowledgeError(path, "needs a non-empty 'terms' list (or a 'near' rule)", entry=entry_id, field="terms")
        _check_terms_unique(terms, path, entry_id)
        entries.append(VocabularyEntry(id=entry_id, category=category, group=group, terms=terms, near=near))
    return entries


def _load_education_phrases(path: Path) -> tuple[str, ...]:
    """The education phrases, or none when the file is absent.

    Without the file every vocabulary match counts: the safe default.
    """
    if not path.is_file():
        return ()
    phrases = _text_list(_mapping(_read_yaml(path), path), "phrases", path, "phrases")
    _check_terms_unique(phrases, path, "phrases")
    return phrases


def _near_rule(value: Any, path: Path, entry: str) -> NearRule:
    rule = _mapping(value, path, entry=entry, field="near")
    gap = rule.get("max_gap")
    if not isinstance(gap, int) or isinstance(gap, bool) or not 0 <= gap <= MAX_NEAR_GAP:
        raise KnowledgeError(path, f"must be a whole number from 0 to {MAX_NEAR_GAP}", entry=entry, field="near.max_gap")
    in_order = rule.get("in_order", False)
    if not isinstance(in_order, bool):
        raise KnowledgeError(path, "must be true or false", entry=entry, field="near.in_order")
    return NearRule(
        first=_text_list(rule, "first", path, entry),
        second=_text_list(rule, "second", path, entry),
        max_gap=gap,
        in_order=in_order,
    )
