"""Reading ``knowledge/`` files: YAML, typed fields, and errors that name file, entry and field.

The loaders of the knowledge base (:mod:`.loader`) and of the language packs (:mod:`.languages`)
read every field through these helpers, so a broken file reads the same wherever it is.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from mesoguide.errors import KnowledgeError
from mesoguide.knowledge.models import PLACEHOLDER_NAMES, REGULATORY_NOTE, ClinicianSignoff, placeholders_in

_FINGERPRINT = re.compile(r"^[0-9a-f]{12}$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
#: A term slot: ``<age>`` stands for a two-digit number, an age ("i'm <age>").
AGE_SLOT = "<age>"
#: A term slot: ``<fever>`` stands for a body temperature in the fever range, in Celsius or
#: Fahrenheit ("temperature of <fever>" matches "38.4", "39c", "102", "101.5f").
FEVER_SLOT = "<fever>"
#: The token a ``<fever>`` slot matches: 38-42 (°C) or 100-107 (°F), decimals and a unit letter allowed.
FEVER_TOKEN = r"^(3[89]|4[0-2]|10[0-7])([.,][0-9]+)?[cf]?$"
SLOTS = (AGE_SLOT, FEVER_SLOT)
_SLOT = re.compile("|".join(re.escape(slot) for slot in SLOTS))


def read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise KnowledgeError(path, "file is missing")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise KnowledgeError(path, f"is not valid YAML: {exc}") from None
    except UnicodeDecodeError:
        raise KnowledgeError(path, "is not UTF-8 text") from None


def mapping(value: Any, path: Path, *, entry: str | None = None, field: str | None = None) -> dict:
    if not isinstance(value, dict):
        raise KnowledgeError(path, "must be a mapping of field: value", entry=entry, field=field)
    return value


def list_of_mappings(data: Any, key: str, path: Path) -> list[dict]:
    items = mapping(data, path).get(key)
    if not isinstance(items, list) or not items:
        raise KnowledgeError(path, f"needs a non-empty list under '{key}:'", field=key)
    for index, item in enumerate(items):
        mapping(item, path, entry=f"#{index + 1}")
    return items


def text(
    record: Mapping,
    key: str,
    path: Path,
    entry: str | None,
    *,
    check: Callable[[str], str | None] | None = None,
    within: str | None = None,
) -> str:
    """A required non-empty text; ``within`` names the enclosing block in errors (``out_of_hours.phone``)."""
    field_name = f"{within}.{key}" if within else key
    value = record.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # a phone number or an emergency number written without quotes
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeError(path, "is missing or empty; write a non-empty text", entry=entry, field=field_name)
    problem = check(value) if check else None
    if problem:
        raise KnowledgeError(path, problem, entry=entry, field=field_name)
    return value.strip()


def text_list(record: Mapping, key: str, path: Path, entry: str | None, *, required: bool = True) -> tuple[str, ...]:
    value = record.get(key)
    if value is None and not required:
        return ()
    if not isinstance(value, list) or (required and not value):
        raise KnowledgeError(path, "must be a non-empty list of texts", entry=entry, field=key)
    items = []
    for item in value:
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            item = str(item)  # "16" in an age list
        if not isinstance(item, str) or not item.strip():
            raise KnowledgeError(path, f"has an empty or non-text item: {item!r}", entry=entry, field=key)
        items.append(item.strip())
    return tuple(items)


def identifier(record: Mapping, path: Path, entry: str) -> str:
    value = record.get("id")
    if not isinstance(value, str) or not _ID.match(value):
        raise KnowledgeError(path, "must be a snake_case id (a-z, 0-9, _)", entry=entry, field="id")
    return value


def check_terms_unique(terms: tuple[str, ...], path: Path, entry: str) -> None:
    seen: set[str] = set()
    for term in terms:
        check_slots(term, path, entry)
        if term.lower() in seen:
            raise KnowledgeError(path, f"lists the term '{term}' twice; remove one", entry=entry, field="terms")
        seen.add(term.lower())


def check_slots(term: str, path: Path, entry: str) -> None:
    """A term may use only the slots the guardrail pipeline knows (``<age>``, ``<fever>``)."""
    stray = _SLOT.sub(" ", term)
    if "<" in stray or ">" in stray:
        raise KnowledgeError(
            path,
            f"term '{term}' has a '<' or '>' that is not a slot; write {AGE_SLOT} for 'a two-digit number "
            f"(an age)', {FEVER_SLOT} for 'a fever temperature (38-42 or 100-107)', or remove the bracket",
            entry=entry,
            field="terms",
        )
    if _SLOT.sub("", term).strip() == "":
        raise KnowledgeError(path, f"term '{term}' is only a slot; add words around it", entry=entry, field="terms")


def check_placeholders(text: str, *, allow_note: bool = False) -> str | None:
    """Known placeholders only; ``{regulatory_note}`` only where ``allow_note`` (topic texts)."""
    allowed_names = PLACEHOLDER_NAMES if allow_note else PLACEHOLDER_NAMES - {REGULATORY_NOTE}
    try:
        unknown = placeholders_in(text) - allowed_names
    except ValueError as exc:
        return f"has a stray '{{' or '}}' ({exc}); use only placeholders like {{phone}}"
    if unknown:
        allowed = ", ".join(sorted("{" + n + "}" for n in allowed_names))
        return f"uses unknown placeholder(s) {sorted(unknown)}; allowed here: {allowed}"
    return None


def clinician_signoff(record: Mapping[str, Any], path: Path, entry: str | None) -> ClinicianSignoff | None:
    """A ``clinician_signoff:`` block: optional here (``make check-release`` requires it), but
    when it is there every field must be well formed."""
    raw = record.get("clinician_signoff")
    if raw is None:
        return None
    block = mapping(raw, path, entry=entry, field="clinician_signoff")
    signed_on = block.get("signed_on")
    if not isinstance(signed_on, dt.date):
        raise KnowledgeError(path, "needs the date written as YYYY-MM-DD", entry=entry, field="clinician_signoff.signed_on")
    fingerprint = str(block.get("fingerprint") or "")
    if not _FINGERPRINT.match(fingerprint):
        raise KnowledgeError(
            path,
            "must be the 12-character fingerprint of the signed text "
            "(python -m mesoguide.knowledge.release --fingerprints prints it)",
            entry=entry,
            field="clinician_signoff.fingerprint",
        )
    return ClinicianSignoff(
        name=text(block, "name", path, entry, within="clinician_signoff"),
        registration=text(block, "registration", path, entry, within="clinician_signoff"),
        signed_on=signed_on,
        fingerprint=fingerprint,
    )
