"""Shared fixtures: the real knowledge base, matcher and domain, loaded once per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from rasa_sdk import Tracker

from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase, load_knowledge
from mesoguide.paths import REPO_ROOT

if TYPE_CHECKING:
    from mesoguide.escalations.store import EscalationStore

CORPORA_DIR = REPO_ROOT / "tests" / "corpora"  # development set (used to build the vocabularies)
HELDOUT_DIR = REPO_ROOT / "tests" / "heldout"  # the held-out set (README: how it was used)
BLIND_DIR = REPO_ROOT / "tests" / "blind"  # a second blind set, written after the first tuning round
CONFIRM_DIR = REPO_ROOT / "tests" / "confirm"  # a third blind set, measured once after the SVM blend
REAL_DIR = REPO_ROOT / "tests" / "real"  # real patient wording from public pages, written blind (docs/evaluation.md)
MULTITURN_DIR = REPO_ROOT / "tests" / "multiturn"  # conversations of 2-6 turns, written blind
PATIENTS_DIR = REPO_ROOT / "tests" / "patients"  # real patient wording, 456 red flags, written blind (docs/evaluation.md)
FORUMS_DIR = REPO_ROOT / "tests" / "forums"  # general questions in forum and clinic-FAQ wording, written blind
INBOX_DIR = REPO_ROOT / "tests" / "inbox"  # general questions as sent to a clinic's chat or inbox, written blind
DESK_DIR = REPO_ROOT / "tests" / "desk"  # the same kind, a fifth blind set, measured after the inbox set's fixes
MAILBAG_DIR = REPO_ROOT / "tests" / "mailbag"  # the same kind again, measured after the desk set's fixes
ENQUIRIES_DIR = REPO_ROOT / "tests" / "enquiries"  # the same kind, a seventh blind set, measured before the aspect cues
POSTBOX_DIR = REPO_ROOT / "tests" / "postbox"  # the same kind, an eighth blind set, measured after the aspect cues
CHATLOG_DIR = REPO_ROOT / "tests" / "chatlog"  # the same kind, a ninth blind set, measured after the callback names
GUESTBOOK_DIR = REPO_ROOT / "tests" / "guestbook"  # the same kind, a tenth blind set, measured after the chatlog set's fixes
WEBSITE_DIR = REPO_ROOT / "tests" / "website"  # the same kind, an eleventh blind set, measured after the chatlog round
#: A case file of messages written in another language (a set's FAQ-type questions that came out in
#: Spanish or French): they expect the language pack's safe reply, not English handling.
OTHER_LANGUAGE_FILE = "other_language.yml"
#: Every case set, by name. The safety gate (tests/e2e/test_safety_gate.py) runs all of them.
CASE_SETS = {
    "development": CORPORA_DIR,
    "heldout": HELDOUT_DIR,
    "blind": BLIND_DIR,
    "confirm": CONFIRM_DIR,
    "real": REAL_DIR,
    "multiturn": MULTITURN_DIR,
    "patients": PATIENTS_DIR,
    "forums": FORUMS_DIR,
    "inbox": INBOX_DIR,
    "desk": DESK_DIR,
    "mailbag": MAILBAG_DIR,
    "enquiries": ENQUIRIES_DIR,
    "postbox": POSTBOX_DIR,
    "chatlog": CHATLOG_DIR,
    "guestbook": GUESTBOOK_DIR,
    "website": WEBSITE_DIR,
}


def case_files(*, english: bool) -> list[Path]:
    """The case files of every set: the English ones, or those written in another language."""
    files = sorted(path for directory in CASE_SETS.values() for path in directory.glob("*.yml"))
    return [path for path in files if (path.name != OTHER_LANGUAGE_FILE) == english]


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge(REPO_ROOT / "knowledge")


@pytest.fixture(scope="session")
def matcher(kb: KnowledgeBase) -> GuardrailMatcher:
    return GuardrailMatcher.from_knowledge(kb)


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain.yml, as the action server receives it."""
    return yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))


def make_tracker(
    text: str,
    intent: str,
    *,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    confidence: float = 0.95,
) -> Tracker:
    """A tracker in memory whose latest message is ``text`` classified as ``intent``."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
    }
    return Tracker(
        sender_id="test",
        slots=slots or {},
        latest_message=latest,
        events=[{"event": "user", "text": text, "parse_data": latest}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def copy_knowledge(tmp_path: Path) -> Path:
    """A writable copy of knowledge/ to break on purpose."""
    import shutil

    target = tmp_path / "knowledge"
    shutil.copytree(REPO_ROOT / "knowledge", target)
    return target


def edit_yaml(path: Path, change: Callable[[Any], Any]) -> None:
    """Change a YAML file in place: load it, let ``change`` edit the data, write it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def nlu_examples() -> dict[str, list[str]]:
    """Training examples per intent, from every file under data/."""
    examples: dict[str, list[str]] = {}
    for path in sorted((REPO_ROOT / "data").rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []):
            if "intent" in block:
                lines = [ln[2:].strip() for ln in block["examples"].splitlines() if ln.startswith("- ")]
                examples.setdefault(block["intent"], []).extend(lines)
    return examples


# --- escalation store: the same tests on SQLite and on a throwaway PostgreSQL -------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL cluster started for this test run (make test installs PostgreSQL).

    In its own temp directory, not pytest's: that one is private to root and the server runs
    as the ``postgres`` user.
    """
    import shutil
    import tempfile

    from tests.support.pgtest import PostgresCluster

    directory = Path(tempfile.mkdtemp(prefix="mesoguide-pg-"))
    cluster = PostgresCluster(directory)
    try:
        cluster.start()
        yield cluster.url
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty escalation database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'escalations.db'}"
        return
    import sqlalchemy as sa

    from tests.support.pgtest import create_database

    base = request.getfixturevalue("postgres_url")
    url = create_database(base)
    yield url
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[EscalationStore]:
    from mesoguide.escalations.store import EscalationStore

    made = EscalationStore(url=store_url, notify_channels=("webhook",))
    yield made
    made.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[EscalationStore]:
    """A temp SQLite store, for tests that need one store but not both databases."""
    from mesoguide.escalations.store import EscalationStore

    made = EscalationStore(url=f"sqlite:///{tmp_path / 'escalations.db'}", notify_channels=("webhook",))
    yield made
    made.dispose()


@pytest.fixture(autouse=True, scope="session")
def _no_escalations_in_the_repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Actions built without an injected store must not write build/escalations.db."""
    import os

    directory = tmp_path_factory.mktemp("default-store")
    saved = {k: os.environ.get(k) for k in ("MESOGUIDE_DATABASE_URL", "MESOGUIDE_ESCALATION_SPOOL")}
    os.environ["MESOGUIDE_DATABASE_URL"] = f"sqlite:///{directory / 'escalations.db'}"
    os.environ["MESOGUIDE_ESCALATION_SPOOL"] = str(directory / "unsaved.jsonl")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers that follow from what a test uses, so `make test-fast` can leave the slow kinds
    out without every file remembering to mark itself: ``e2e`` (under tests/e2e: real servers),
    ``postgres`` (a throwaway PostgreSQL cluster)."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.e2e)
        callspec = getattr(item, "callspec", None)
        if "postgres_url" in getattr(item, "fixturenames", ()) or (callspec and "postgresql" in callspec.params.values()):
            item.add_marker(pytest.mark.postgres)
