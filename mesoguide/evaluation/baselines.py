"""What a clinic could pick instead, measured on the same cases.

* ``tfidf_faq``: a plain FAQ widget. TF-IDF nearest training example; its intent decides the
  outcome; below a similarity floor it falls back. No guardrail.
* ``rasa_default``: Rasa's own default pipeline (the one ``rasa init`` trains when the config
  is empty), trained on the same NLU data without the guardrail; the intent decides.
* ``keyword_guardrail``: the vocabulary terms as a plain lowercase keyword list (no lemmas,
  no multi-word tolerance, no ``near`` rules) in front of the TF-IDF FAQ.

Every baseline maps an intent to an outcome the way the assistant's rules do
(``ask_<topic>`` -> ``answer:<topic>``, escalation intents -> ``escalate:<reason>``), so only
understanding is compared, not wording. Baselines are stateless: a follow-up that names only
an area ("and for the face?") gets whatever its own text predicts.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer

from mesoguide import constants as c
from mesoguide.evaluation.cases import Case
from mesoguide.evaluation.runner import CaseResult
from mesoguide.guardrail.precedence import escalation_for_intent
from mesoguide.knowledge import KnowledgeBase
from mesoguide.knowledge.topics import answer_outcome, topic_for_intent
from mesoguide.paths import REPO_ROOT, nlu_files

Predict = Callable[[str], str]
TFIDF_FLOOR = 0.3  # cosine similarity under which the FAQ widget says "sorry, I don't know"


def outcome_of_intent(intent: str | None, topics: Iterable[str]) -> str:
    """The outcome the assistant's rules give an intent (no guardrail, no re-check)."""
    escalation = escalation_for_intent(intent)
    if escalation is not None:
        return escalation.outcome
    topic = topic_for_intent(intent, topics)
    if topic is not None:
        return answer_outcome(topic)
    if intent in c.SMALLTALK_INTENTS:
        return c.SMALLTALK_PREFIX + intent
    return c.OUTCOME_FALLBACK


def training_examples(files: list[Path] | None = None) -> tuple[list[str], list[str]]:
    """(texts, intents) of every training example."""
    texts, intents = [], []
    for path in files if files is not None else nlu_files():
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            for line in block.get("examples", "").splitlines():
                if line.startswith("- "):
                    texts.append(line[2:].strip())
                    intents.append(block["intent"])
    return texts, intents


def tfidf_faq(kb: KnowledgeBase) -> Predict:
    """A TF-IDF nearest-example FAQ retriever over the training examples."""
    texts, intents = training_examples()
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    matrix = vectorizer.fit_transform(texts)

    def predict(text: str) -> str:
        scores = (matrix @ vectorizer.transform([text]).T).toarray().ravel()
        best = int(np.argmax(scores))
        if scores[best] < TFIDF_FLOOR:
            return c.OUTCOME_FALLBACK
        return outcome_of_intent(intents[best], kb.topics)

    return predict


def keyword_guardrail(kb: KnowledgeBase) -> Predict:
    """A keyword list (the vocabulary terms, verbatim) in front of the TF-IDF FAQ."""
    faq = tfidf_faq(kb)
    order = {"red_flag": 0, "contraindication": 1, "medical_advice": 2}
    keywords = sorted(
        ((term.lower(), entry.category) for entry in kb.vocabulary for term in entry.terms),
        key=lambda kc: order[kc[1]],
    )
    patterns = [(re.compile(r"\b" + re.escape(k) + r"\b"), cat) for k, cat in keywords]

    def predict(text: str) -> str:
        lowered = text.lower()
        for pattern, category in patterns:
            if pattern.search(lowered):
                return c.ESCALATE_PREFIX + category
        return faq(text)

    return predict


def rasa_default(kb: KnowledgeBase, *, work_dir: Path) -> Predict:
    """Rasa's default pipeline trained on the same NLU data (cached by data + config hash)."""
    import rasa
    from rasa.core.agent import Agent  # heavy import: only when this baseline runs

    config = Path(rasa.__file__).parent / "engine" / "recipes" / "config_files" / "default_config.yml"
    digest = hashlib.sha256(config.read_bytes())
    for path in nlu_files():
        digest.update(path.read_bytes())
    name = f"rasa_default_{digest.hexdigest()[:12]}"
    model = work_dir / f"{name}.tar.gz"
    if not model.exists():
        work_dir.mkdir(parents=True, exist_ok=True)
        print(f"training the rasa_default baseline ({config.name}); cached as {model}", file=sys.stderr)
        subprocess.run(
            [str(Path(sys.executable).with_name("rasa")), "train", "nlu", "--config", str(config),
             "--nlu", str(REPO_ROOT / "data"), "--out", str(work_dir), "--fixed-model-name", name],
            cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL,
        )
    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()

    def predict(text: str) -> str:
        parsed = loop.run_until_complete(agent.parse_message(text))
        return outcome_of_intent((parsed.get("intent") or {}).get("name"), kb.topics)

    return predict


def run_baseline(predict: Predict, cases: Sequence[Case]) -> list[CaseResult]:
    """Run cases through a stateless baseline, timing each message."""
    results = []
    for case in cases:
        outcomes, seconds = [], []
        for turn in case.turns:
            started = time.perf_counter()
            outcomes.append(predict(turn.text))
            seconds.append(time.perf_counter() - started)
        results.append(CaseResult(case, tuple(outcomes), tuple(seconds)))
    return results
