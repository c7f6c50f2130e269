"""The knowledge base: typed records (:mod:`.models`) and the checked loader (:mod:`.loader`)."""

from __future__ import annotations

import functools

from mesoguide.knowledge.loader import load_knowledge
from mesoguide.knowledge.models import (
    Area,
    ClinicianSignoff,
    ClinicInfo,
    FactsChecked,
    ForeignRedFlag,
    KnowledgeBase,
    LanguagePack,
    Messages,
    NearRule,
    OutOfHours,
    RegulatoryNote,
    Source,
    Topic,
    VocabularyEntry,
)
from mesoguide.paths import knowledge_dir

__all__ = [
    "Area",
    "ClinicInfo",
    "ClinicianSignoff",
    "FactsChecked",
    "KnowledgeBase",
    "LanguagePack",
    "ForeignRedFlag",
    "Messages",
    "NearRule",
    "OutOfHours",
    "RegulatoryNote",
    "Source",
    "Topic",
    "VocabularyEntry",
    "default_knowledge",
    "load_knowledge",
]


@functools.lru_cache(maxsize=1)
def default_knowledge() -> KnowledgeBase:
    """The process-wide knowledge base, loaded once from :func:`mesoguide.paths.knowledge_dir`."""
    return load_knowledge(knowledge_dir())
