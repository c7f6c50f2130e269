"""The release gate: is this knowledge base fit for patients? (``make check-release``)

Loading (:func:`mesoguide.knowledge.load_knowledge`) proves the files are well formed; it lets a
clinic try the assistant with example facts and unsigned texts. A release needs more, and this
module names every field that still stands in the way:

1. ``clinic.yml``: ``example: false``; no value holds an ``EXAMPLE`` marker or a reserved example
   domain (``clinic.example``, ``example.com``); every phone and the emergency number contain
   digits; ``out_of_hours`` (required by the loader) is not the daytime phone, which is answered
   only during ``opening_hours``; ``facts_checked`` names who checked the facts, on a date
   within :data:`~mesoguide.constants.CLINIC_FACTS_MAX_AGE_DAYS` days and not in the future.
2. Every topic and ``messages.yml`` carries a ``clinician_signoff`` block: ``name`` (a clinician,
   not "pending", "TBC", "content team", ...), ``registration`` (their professional register
   and number), ``signed_on`` (not in the future, at most
   :data:`~mesoguide.constants.CLINICIAN_SIGNOFF_MAX_AGE_DAYS` days old) and ``fingerprint``,
   which must equal :func:`fingerprint` of the text as it is now: any edit after the signature,
   however small, needs a new one. A topic's ``reviewed_by`` (the editorial review) must not
   say "pending" either.
3. Every language pack's ``messages.<lang>.yml`` carries such a block too; its fingerprint covers
   the pack's texts and its red-flag vocabulary (``vocabularies/red_flags.<lang>.yml``), which a
   clinician and a speaker of the language review together.

``python -m mesoguide.knowledge.release --fingerprints`` prints the fingerprint of every text,
for the editor to copy into the block the clinician signs. A production start-up calls
:func:`require_release_ready` and refuses to start on :class:`ReleaseNotReadyError`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from mesoguide.constants import CLINIC_FACTS_MAX_AGE_DAYS, CLINICIAN_SIGNOFF_MAX_AGE_DAYS
from mesoguide.errors import KnowledgeError, ReleaseNotReadyError
from mesoguide.knowledge.loader import load_knowledge
from mesoguide.knowledge.models import ClinicianSignoff, ClinicInfo, KnowledgeBase, LanguagePack, Messages, Topic
from mesoguide.paths import knowledge_dir

EXAMPLE_MARKER = "EXAMPLE"
# Names reserved for examples and tests (RFC 2606): never a real clinic's e-mail or booking link.
_EXAMPLE_DOMAIN = re.compile(r"(\.(example|test|invalid)\b|\bexample\.(com|org|net)\b)", re.I)
# Words that say nobody has signed yet.
_NOT_A_SIGNATURE = re.compile(r"pending|\btbc\b|\btbd\b|todo|example|content team|not yet|unsigned|\?", re.I)
FINGERPRINT_LENGTH = 12


@dataclass(frozen=True)
class ReleaseProblem:
    """One thing that stops a release, located like a :class:`~mesoguide.errors.KnowledgeError`."""

    path: Path
    entry: str | None
    field: str
    problem: str

    def __str__(self) -> str:
        location = [str(self.path), *([f"entry '{self.entry}'"] if self.entry is not None else []), f"field '{self.field}'"]
        return ", ".join(location) + f": {self.problem}"


def fingerprint(signed: Topic | Messages | LanguagePack) -> str:
    """A short hash of what a clinician signs: a topic's title, texts and sources, or every
    text of ``messages.yml``, or a language pack's texts and red-flag terms. Anything else (related
    buttons, review notes) may change freely.
    """
    if isinstance(signed, Topic):
        content: object = {
            "title": signed.title,
            "answer": signed.answer,
            "variants": dict(sorted(signed.variants.items())),
            "sources": list(signed.sources),
        }
    elif isinstance(signed, LanguagePack):
        content = {k: v for k, v in dataclasses.asdict(signed).items() if k != "clinician_signoff"}
    else:
        content = {f.name: getattr(signed, f.name) for f in dataclasses.fields(signed) if f.name != "clinician_signoff"}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, default=dict)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def release_problems(kb: KnowledgeBase, directory: Path, *, today: dt.date | None = None) -> list[ReleaseProblem]:
    """Everything that stops a release of a loaded knowledge base, in file order.

    Args:
        kb: The knowledge base (already loaded, so well formed).
        directory: Its directory, for the file names in the problems.
        today: The date to judge ages against (default: today).

    Returns:
        The problems; empty when the knowledge base may go to patients.
    """
    today = today or dt.date.today()
    problems = _clinic_problems(kb.clinic, directory / "clinic.yml", today)
    for topic in kb.topics.values():
        path = directory / "topics" / f"{topic.id}.yml"
        if "pending" in topic.reviewed_by.lower():
            problems.append(
                ReleaseProblem(path, topic.id, "reviewed_by", f"still says '{topic.reviewed_by}'; name who reviewed the text")
            )
        problems += _signoff_problems(topic.clinician_signoff, fingerprint(topic), path, topic.id, today)
    messages = kb.messages
    problems += _signoff_problems(messages.clinician_signoff, fingerprint(messages), directory / "messages.yml", None, today)
    for pack in kb.languages.values():
        path = directory / f"messages.{pack.code}.yml"
        problems += _signoff_problems(pack.clinician_signoff, fingerprint(pack), path, None, today)
    return problems


def check_release(directory: Path | None = None, *, today: dt.date | None = None) -> list[ReleaseProblem]:
    """Load a knowledge directory and list what stops its release (a load error is one problem)."""
    return _load_and_check(Path(directory or knowledge_dir()), today)[1]


def require_release_ready(directory: Path | None = None, *, today: dt.date | None = None) -> KnowledgeBase:
    """The knowledge base, if it may go to patients; what a production start-up calls first.

    Raises:
        ReleaseNotReadyError: Naming every field that stops the release.
    """
    kb, problems = _load_and_check(Path(directory or knowledge_dir()), today)
    if kb is None or problems:
        raise ReleaseNotReadyError([str(p) for p in problems])
    return kb


def _load_and_check(directory: Path, today: dt.date | None) -> tuple[KnowledgeBase | None, list[ReleaseProblem]]:
    try:
        kb = load_knowledge(directory)
    except KnowledgeError as exc:
        return None, [ReleaseProblem(exc.path, exc.entry, exc.field or "-", exc.problem)]
    return kb, release_problems(kb, directory, today=today)


# --- the rules -------------------------------------------------------------------------------


def _clinic_problems(clinic: ClinicInfo, path: Path, today: dt.date) -> list[ReleaseProblem]:
    problems: list[ReleaseProblem] = []

    def add(field: str, problem: str) -> None:
        problems.append(ReleaseProblem(path, "clinic" if field != "example" else None, field, problem))

    if clinic.is_example:
        add("example", "is true: replace every EXAMPLE value with the clinic's own, then set example: false")
    values = {
        "name": clinic.name, "phone": clinic.phone, "email": clinic.email, "address": clinic.address,
        "opening_hours": clinic.opening_hours, "booking_url": clinic.booking_url,
        "emergency_number": clinic.emergency_number, "out_of_hours.service": clinic.out_of_hours.service,
        "out_of_hours.phone": clinic.out_of_hours.phone,
    }
    if clinic.regulatory_note:
        values |= {"regulatory_note.country": clinic.regulatory_note.country, "regulatory_note.text": clinic.regulatory_note.text}
    for field, value in values.items():
        if EXAMPLE_MARKER in value or _EXAMPLE_DOMAIN.search(value):
            add(field, f"holds an example value ({value!r}); write the clinic's own")
    for field in ("phone", "out_of_hours.phone", "emergency_number"):
        if not any(ch.isdigit() for ch in values[field]):
            add(field, f"has no digits ({values[field]!r}); write the number patients dial")
    if _digits(clinic.out_of_hours.phone) and _digits(clinic.out_of_hours.phone) == _digits(clinic.phone):
        add(
            "out_of_hours.phone",
            "is the clinic's daytime phone, which is answered only during opening_hours; give a line that is "
            "answered while the clinic is closed (an on-call clinician or the local urgent-care service)",
        )
    checked = clinic.facts_checked
    if checked is None:
        add("facts_checked", "is empty: say who checked every clinic fact against reality (by:) and when (on:)")
    elif checked.on > today:
        add("facts_checked.on", f"is in the future ({checked.on})")
    elif (today - checked.on).days > CLINIC_FACTS_MAX_AGE_DAYS:
        add(
            "facts_checked.on",
            f"is {(today - checked.on).days} days ago; check the phones, hours and out-of-hours route again "
            f"(at most {CLINIC_FACTS_MAX_AGE_DAYS} days)",
        )
    return problems


def _signoff_problems(
    signoff: ClinicianSignoff | None, current: str, path: Path, entry: str | None, today: dt.date
) -> list[ReleaseProblem]:
    if signoff is None:
        return [
            ReleaseProblem(
                path, entry, "clinician_signoff",
                "is missing: a clinician must review this text and sign it (name, registration, signed_on, "
                f"fingerprint {current})",
            )
        ]
    problems = []
    if _NOT_A_SIGNATURE.search(signoff.name):
        problems.append(ReleaseProblem(path, entry, "clinician_signoff.name", f"'{signoff.name}' does not name a clinician"))
    if _NOT_A_SIGNATURE.search(signoff.registration):
        problems.append(
            ReleaseProblem(
                path, entry, "clinician_signoff.registration",
                f"'{signoff.registration}' is not a professional registration (register and number)",
            )
        )
    if signoff.signed_on > today:
        problems.append(ReleaseProblem(path, entry, "clinician_signoff.signed_on", f"is in the future ({signoff.signed_on})"))
    elif (today - signoff.signed_on).days > CLINICIAN_SIGNOFF_MAX_AGE_DAYS:
        problems.append(
            ReleaseProblem(
                path, entry, "clinician_signoff.signed_on",
                f"is {(today - signoff.signed_on).days} days ago (at most {CLINICIAN_SIGNOFF_MAX_AGE_DAYS}); "
                "the text needs a new clinical review",
            )
        )
    if signoff.fingerprint != current:
        problems.append(
            ReleaseProblem(
                path, entry, "clinician_signoff.fingerprint",
                f"the text changed after it was signed (signed {signoff.fingerprint}, now {current}); "
                "the clinician must review the new text and sign again",
            )
        )
    return problems


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


# --- command line --------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """``python -m mesoguide.knowledge.release [--fingerprints] [DIR]``."""
    args = [a for a in argv if a != "--fingerprints"]
    directory = Path(args[0]) if args else knowledge_dir()
    if "--fingerprints" in argv:
        return _print_fingerprints(directory)
    problems = check_release(directory)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"release check failed: {len(problems)} problem(s) above; patients must not use this knowledge base yet",
              file=sys.stderr)
        return 1
    print(f"release check passed: {directory}")
    return 0


def _print_fingerprints(directory: Path) -> int:
    try:
        kb = load_knowledge(directory)
    except KnowledgeError as exc:
        print(f"knowledge check failed: {exc}", file=sys.stderr)
        return 1
    for topic in kb.topics.values():
        print(f"{fingerprint(topic)}  topics/{topic.id}.yml")
    print(f"{fingerprint(kb.messages)}  messages.yml")
    for pack in kb.languages.values():
        print(f"{fingerprint(pack)}  messages.{pack.code}.yml (with vocabularies/red_flags.{pack.code}.yml)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
