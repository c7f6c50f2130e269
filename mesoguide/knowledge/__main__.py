"""``python -m mesoguide.knowledge [DIR]``: check the knowledge base and print a summary."""

from __future__ import annotations

import sys
from pathlib import Path

from mesoguide.errors import KnowledgeError
from mesoguide.knowledge.loader import load_knowledge
from mesoguide.paths import knowledge_dir


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else knowledge_dir()
    try:
        kb = load_knowledge(directory)
    except KnowledgeError as exc:
        print(f"knowledge check failed: {exc}", file=sys.stderr)
        return 1
    terms = sum(len(e.terms) for e in kb.vocabulary)
    print(
        f"knowledge ok: {len(kb.topics)} topics, {len(kb.areas)} areas, "
        f"{len(kb.vocabulary)} vocabulary entries ({terms} terms)"
        + (" [clinic.yml holds EXAMPLE values]" if kb.clinic.is_example else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
