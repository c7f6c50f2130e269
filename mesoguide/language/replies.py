"""The texts of the language packs, put together for one reply (actions and the Rasa server's
never-silent path both send them)."""

from __future__ import annotations

from collections.abc import Sequence

from mesoguide.knowledge import KnowledgeBase


def red_flag_texts(kb: KnowledgeBase, languages: Sequence[str], reference: str | None) -> list[str]:
    """The urgent text with the reference line, in each of ``languages`` that has a pack."""
    texts = []
    for code in languages:
        pack = kb.languages.get(code)
        if pack is None:
            continue
        line = pack.reference_line.replace("{reference}", reference) if reference else pack.reference_unavailable
        texts.append(f"{kb.render(pack.red_flag)}\n\n{kb.render(line)}")
    return texts
