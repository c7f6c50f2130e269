"""The texts of the language packs, filled and put together for one reply (the actions and the
Rasa server's never-silent path both send them)."""

from __future__ import annotations

from collections.abc import Sequence

from mesoguide.knowledge import KnowledgeBase

#: Languages written right to left. The clinic's facts in their texts (names, hours, phone
#: numbers, written in clinic.yml's language) are wrapped in Unicode isolates, so "(+44 20 ...)"
#: keeps its own order and its brackets inside Arabic instead of being reordered around it.
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})
_ISOLATE, _POP = "\u2068", "\u2069"  # FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE


def render_in(kb: KnowledgeBase, language: str, text: str, *, reference: str | None = None) -> str:
    """A pack's text with the clinic's facts (and ``{reference}``) filled in for ``language``."""
    values = dict(kb.clinic.placeholders())
    if reference is not None:
        values["reference"] = reference
    if language in RIGHT_TO_LEFT:
        values = {k: f"{_ISOLATE}{v}{_POP}" if v else v for k, v in values.items()}
    return text.format_map(values).strip()


def red_flag_texts(kb: KnowledgeBase, languages: Sequence[str], reference: str | None) -> list[str]:
    """The urgent text with the reference line, in each of ``languages`` that has a pack."""
    texts = []
    for code in languages:
        pack = kb.languages.get(code)
        if pack is None:
            continue
        line = pack.reference_line if reference else pack.reference_unavailable
        texts.append(f"{render_in(kb, code, pack.red_flag)}\n\n{render_in(kb, code, line, reference=reference)}")
    return texts
