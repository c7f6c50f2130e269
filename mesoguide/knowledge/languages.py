"""Load the language packs: ``messages.<lang>.yml`` with ``vocabularies/red_flags.<lang>.yml``.

A language is offered when both files exist: the texts a patient who writes it gets, and the
red-flag words in it. One without the other is an error that names the missing file, so a half
added language never reaches a patient (``mesoguide/language/README.md``, "Adding a language").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from mesoguide.errors import KnowledgeError
from mesoguide.knowledge.models import ForeignRedFlag, LanguagePack
from mesoguide.knowledge.reading import (
    check_placeholders,
    check_terms_unique,
    clinician_signoff,
    identifier,
    list_of_mappings,
    mapping,
    read_yaml,
    text,
    text_list,
)

_CODE = re.compile(r"^[a-z]{2}$")
_MESSAGES = re.compile(r"^messages\.([a-z]{2})\.yml$")
_VOCABULARY = re.compile(r"^red_flags\.([a-z]{2})\.yml$")
#: Placeholders every text of a pack must carry: the patient can always reach someone.
REQUIRED = {
    "english_only": ("{clinic_name}", "{phone}", "{opening_hours}", "{emergency_number}", "{out_of_hours_phone}"),
    "red_flag": ("{emergency_number}", "{phone}", "{opening_hours}", "{out_of_hours_phone}"),
    "reference_line": ("{reference}",),
    "reference_unavailable": ("{phone}",),
}


def language_files(directory: Path) -> list[Path]:
    """Every file of every language pack below a knowledge directory, sorted."""
    found = [p for p in directory.glob("messages.*.yml") if _MESSAGES.match(p.name)]
    found += [p for p in (directory / "vocabularies").glob("red_flags.*.yml") if _VOCABULARY.match(p.name)]
    return sorted(found)


def load_language_packs(directory: Path, red_flag_ids: Iterable[str]) -> dict[str, LanguagePack]:
    """The language packs of a knowledge directory, by code.

    Args:
        directory: The ``knowledge/`` directory.
        red_flag_ids: The English red-flag entry ids: every entry of another language names one.

    Raises:
        KnowledgeError: A pack is incomplete or breaks a rule (file, entry and field named).
    """
    known = set(red_flag_ids)
    messages = {m.group(1): p for p in directory.glob("messages.*.yml") if (m := _MESSAGES.match(p.name))}
    vocabularies = {
        m.group(1): p for p in (directory / "vocabularies").glob("red_flags.*.yml") if (m := _VOCABULARY.match(p.name))
    }
    for code in sorted(set(messages) ^ set(vocabularies)):
        missing = directory / ("messages." + code + ".yml" if code not in messages else f"vocabularies/red_flags.{code}.yml")
        raise KnowledgeError(missing, f"is missing: language '{code}' needs both messages.{code}.yml and "
                             f"vocabularies/red_flags.{code}.yml")
    return {code: _load_pack(code, messages[code], vocabularies[code], known) for code in sorted(messages)}


def _load_pack(code: str, messages_path: Path, vocabulary_path: Path, known: set[str]) -> LanguagePack:
    data = mapping(read_yaml(messages_path), messages_path)
    _check_code(data, code, messages_path)
    texts = {key: text(data, key, messages_path, None, check=_requires(REQUIRED[key])) for key in REQUIRED}
    return LanguagePack(
        code=code,
        name=text(data, "name", messages_path, None),
        red_flags=_load_red_flags(vocabulary_path, code, known),
        clinician_signoff=clinician_signoff(data, messages_path, None),
        **texts,
    )


def _load_red_flags(path: Path, code: str, known: set[str]) -> tuple[ForeignRedFlag, ...]:
    data = read_yaml(path)
    _check_code(mapping(data, path), code, path)
    entries = []
    for index, item in enumerate(list_of_mappings(data, "entries", path)):
        entry_id = identifier(item, path, str(item.get("id") or f"#{index + 1}"))
        if entry_id not in known:
            raise KnowledgeError(
                path, "must be the id of an entry of red_flags.yml (the English vocabulary it translates)",
                entry=entry_id, field="id",
            )
        terms = text_list(item, "terms", path, entry_id)
        check_terms_unique(terms, path, entry_id)
        entries.append(ForeignRedFlag(id=entry_id, terms=terms))
    return tuple(entries)


def _check_code(data: Mapping, code: str, path: Path) -> None:
    if data.get("language") != code or not _CODE.match(code):
        raise KnowledgeError(path, f"must say `language: {code}` (the code in the file name)", field="language")


def _requires(placeholders: tuple[str, ...]):
    def check(value: str) -> str | None:
        missing = [p for p in placeholders if p not in value]
        if missing:
            return f"must contain {' and '.join(missing)}: a patient who cannot read English still needs them"
        return check_placeholders(value.replace("{reference}", ""))

    return check
