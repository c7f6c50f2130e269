"""Topics in one place: ``knowledge/topics/`` is the list, the dialogue wiring follows from it.

Adding a topic is one knowledge file (``knowledge/topics/<id>.yml``) and its NLU examples
(``data/nlu/``, intent ``ask_<id>``). The two pieces of wiring Rasa needs, the intent in
``domain.yml`` and the intent in the answer rule of ``data/rules.yml``, are generated between
marker lines by ``python -m mesoguide.knowledge.topics --write`` (``make train`` runs it), and
``--check`` (run by the tests) names whatever is out of step.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from mesoguide.constants import ANSWER_PREFIX, TOPIC_INTENT_PREFIX
from mesoguide.paths import REPO_ROOT, knowledge_dir

BEGIN = "# >>> topic intents, generated from knowledge/topics (python -m mesoguide.knowledge.topics --write)"
END = "# <<< topic intents"


def topic_intent(topic_id: str) -> str:
    """The FAQ intent of a topic: ``sessions`` -> ``ask_sessions``."""
    return TOPIC_INTENT_PREFIX + topic_id


def topic_for_intent(intent: str | None, topic_ids: Iterable[str]) -> str | None:
    """The topic id of an FAQ intent (``ask_sessions`` -> ``sessions``), else ``None``.

    Only ids of the knowledge base count, so ``ask_contraindication`` or ``ask_is_bot`` are
    never mistaken for topics.
    """
    if not intent or not intent.startswith(TOPIC_INTENT_PREFIX):
        return None
    topic_id = intent[len(TOPIC_INTENT_PREFIX) :]
    return topic_id if topic_id in set(topic_ids) else None


def answer_outcome(topic_id: str) -> str:
    """The ``turn_outcome`` of an answer, e.g. ``answer:sessions``."""
    return ANSWER_PREFIX + topic_id


def topic_ids(knowledge: Path) -> list[str]:
    """The topic ids of a knowledge directory, sorted (the ``id`` of each topic file)."""
    ids = []
    for path in sorted((knowledge / "topics").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        ids.append(str(data.get("id") or path.stem))
    return sorted(ids)


@dataclass(frozen=True)
class WiredFile:
    """A file with a generated block of topic intents.

    Attributes:
        path: The file.
        line: How one intent is written in it, ``{intent}`` standing for the name.
    """

    path: Path
    line: str

    def render(self, ids: list[str]) -> str:
        """The file's text with the block holding exactly these topics."""
        text = self.path.read_text(encoding="utf-8")
        block = re.compile(rf"^(?P<indent>[ \t]*){re.escape(BEGIN)}\n.*?^[ \t]*{re.escape(END)}\n", re.M | re.S)
        found = block.search(text)
        if found is None:
            raise ValueError(f"{self.path}: the marker lines '{BEGIN}' ... '{END}' are missing; put them back")
        indent = found.group("indent")
        lines = [
            f"{indent}{BEGIN}\n",
            *(f"{indent}{self.line.format(intent=topic_intent(t))}\n" for t in ids),
            f"{indent}{END}\n",
        ]
        return text[: found.start()] + "".join(lines) + text[found.end() :]


def wired_files(root: Path = REPO_ROOT) -> list[WiredFile]:
    """The files whose topic blocks are generated."""
    return [WiredFile(root / "domain.yml", "- {intent}"), WiredFile(root / "data" / "rules.yml", "- intent: {intent}")]


def out_of_step(root: Path = REPO_ROOT, knowledge: Path | None = None) -> list[str]:
    """What is out of step with ``knowledge/topics``, one line each (empty when all is wired)."""
    ids = topic_ids(knowledge or knowledge_dir())
    problems = [
        f"{f.path.relative_to(root)}: topic intents differ from knowledge/topics; "
        "run `python -m mesoguide.knowledge.topics --write`"
        for f in wired_files(root)
        if f.render(ids) != f.path.read_text(encoding="utf-8")
    ]
    examples = _nlu_intents(root / "data")
    problems += [f"data/nlu/: no examples for {topic_intent(t)} (topic '{t}')" for t in ids if topic_intent(t) not in examples]
    return problems


def _nlu_intents(data: Path) -> set[str]:
    intents: set[str] = set()
    for path in data.rglob("*.yml"):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" in item:
                intents.add(item["intent"])
    return intents


def main(argv: list[str]) -> int:
    """``python -m mesoguide.knowledge.topics --write | --check``."""
    if argv == ["--write"]:
        ids = topic_ids(knowledge_dir())
        for wired in wired_files():
            wired.path.write_text(wired.render(ids), encoding="utf-8")
        print(
            f"topic intents written for {len(ids)} topics: "
            + ", ".join(str(f.path.relative_to(REPO_ROOT)) for f in wired_files())
        )
        return 0
    if argv == ["--check"]:
        problems = out_of_step()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    print("usage: python -m mesoguide.knowledge.topics --write | --check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
