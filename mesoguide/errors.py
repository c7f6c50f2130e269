"""Every error MesoGuide raises on purpose, in one place.

Messages say what to fix: the file, the entry and the field, so a clinician editing
``knowledge/`` can correct a mistake without reading Python.
"""

from __future__ import annotations

from pathlib import Path


class MesoGuideError(Exception):
    """Base class of MesoGuide's own errors."""


class _LocatedError(MesoGuideError):
    """An error in a file, located as precisely as known: "file, entry 'x', field 'y': problem"."""

    def __init__(self, path: Path | str, problem: str, location: list[str]) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(", ".join([str(self.path), *location]) + f": {problem}")


class KnowledgeError(_LocatedError):
    """A knowledge file is missing, malformed or breaks a content rule.

    Args:
        path: The file at fault.
        problem: What is wrong and how to fix it.
        entry: The entry inside the file (a topic id, a vocabulary entry id, ...).
        field: The field of that entry.
    """

    def __init__(
        self, path: Path | str, problem: str, *, entry: str | None = None, field: str | None = None
    ) -> None:
        self.entry = entry
        self.field = field
        location = [f"entry '{entry}'"] if entry is not None else []
        location += [f"field '{field}'"] if field is not None else []
        super().__init__(path, problem, location)


class GuardrailPipelineError(MesoGuideError):
    """The spaCy guardrail pipeline is missing, stale or was built by another spaCy."""


class ComponentConfigError(MesoGuideError):
    """A MesoGuide NLU component is misconfigured in ``config.yml`` or its stored model is unusable."""


class CaseFileError(_LocatedError):
    """An evaluation case file is malformed.

    Args:
        path: The case file.
        problem: What is wrong and how to fix it.
        case: Which case (its number, 1-based, and the start of its text when known).
        field: The field of that case.
    """

    def __init__(self, path: Path | str, problem: str, *, case: str | None = None, field: str | None = None) -> None:
        self.case = case
        self.field = field
        location = [f"case {case}"] if case is not None else []
        location += [f"field '{field}'"] if field is not None else []
        super().__init__(path, problem, location)


class ReleaseNotReadyError(MesoGuideError):
    """The knowledge base is not fit for patients yet (``make check-release`` lists why).

    Args:
        problems: One line per problem, each naming the file, the entry and the field to fix.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"not ready for release ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n"
            + "\n".join(f"  {p}" for p in problems)
        )


class ProductionConfigError(MesoGuideError):
    """``production.yml`` or a ``MESOGUIDE_PROD_*`` variable is malformed (the key is named)."""


class ActionTokenError(MesoGuideError):
    """The action server was started without its shared secret (``MESOGUIDE_ACTION_TOKEN``)."""


class LanguagePackError(MesoGuideError):
    """A language pack in ``knowledge/`` names a language the tokenizer or the detector lacks."""
