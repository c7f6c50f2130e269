"""The Rasa adaptations of mesoguide/perf/rasa_speedups.py keep Rasa's behaviour: same
results, same errors (docs/performance.md says what each one saves)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
import scipy.sparse
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk import Tracker

from mesoguide import constants as c
from mesoguide.escalations.transcript import MAX_MESSAGES, excerpt_from_events
from mesoguide.paths import REPO_ROOT
from mesoguide.perf import rasa_speedups

ORIGINAL_VALIDATE = RemoteAction._validate_action_result
ORIGINAL_RESOLVE = Event.resolve_by_type
ORIGINAL_STATES = Domain.states_for_tracker_history
ORIGINAL_CALL_FORMAT = RemoteAction._action_call_format
ORIGINAL_APPLIED = DialogueStateTracker.applied_events
ORIGINAL_MEMOIZATION = MemoizationPolicy.predict_action_probabilities
ORIGINAL_COPY = DialogueStateTracker.copy
ORIGINAL_COMBINE = Message._combine_features


@pytest.fixture(scope="module", autouse=True)
def _patched() -> Any:
    rasa_speedups.apply()
    yield
    RemoteAction._validate_action_result = ORIGINAL_VALIDATE  # type: ignore[method-assign]
    Event.resolve_by_type = ORIGINAL_RESOLVE  # type: ignore[method-assign]
    Domain.states_for_tracker_history = ORIGINAL_STATES  # type: ignore[method-assign]
    RemoteAction._action_call_format = ORIGINAL_CALL_FORMAT  # type: ignore[method-assign]
    DialogueStateTracker.applied_events = ORIGINAL_APPLIED  # type: ignore[method-assign]
    MemoizationPolicy.predict_action_probabilities = ORIGINAL_MEMOIZATION  # type: ignore[method-assign]
    DialogueStateTracker.copy = ORIGINAL_COPY  # type: ignore[method-assign]
    Message._combine_features = staticmethod(ORIGINAL_COMBINE)  # type: ignore[method-assign]
    rasa_speedups._APPLIED.clear()


def test_apply_is_idempotent() -> None:
    assert rasa_speedups.apply() == []


# --- 1. the action-response validator -----------------------------------------------------------

GOOD_RESPONSE = {
    "events": [{"event": "slot", "name": c.SLOT_TURN_OUTCOME, "value": "answer:pain", "timestamp": None}],
    "responses": [{"text": "Most people feel only mild discomfort."}],
}


def test_a_valid_action_response_passes() -> None:
    assert RemoteAction("action_answer_topic", None)._validate_action_result(GOOD_RESPONSE) is True


@pytest.mark.parametrize(
    "malformed",
    [
        {"events": "not a list"},
        {"events": [{"event": "slot", "name": 3}]},  # a slot event's name must be a string
        {"events": [{"no_event_key": True}]},
        {"responses": "text"},
        {"responses": ["not an object"]},
        ["not", "an", "object"],
    ],
)
def test_a_malformed_action_response_is_still_rejected(malformed: Any) -> None:
    with pytest.raises(jsonschema.ValidationError) as patched_error:
        RemoteAction("action_answer_topic", None)._validate_action_result(malformed)
    assert "Failed to validate Action server response" in patched_error.value.message
    # The same verdict, and the same first error, as Rasa's own per-call jsonschema.validate.
    with pytest.raises(jsonschema.ValidationError) as rasa_error:
        ORIGINAL_VALIDATE(RemoteAction("action_answer_topic", None), malformed)
    assert patched_error.value.message == rasa_error.value.message


def test_the_validator_checks_its_schema_once() -> None:
    assert rasa_speedups.action_response_validator() is rasa_speedups.action_response_validator()


# --- 2. event classes from a table ------------------------------------------------------------


@pytest.mark.parametrize("name", ["user", "bot", "slot", "action", "active_loop", "session_started", "rewind", "restart"])
def test_event_classes_resolve_as_rasa_resolves_them(name: str) -> None:
    assert Event.resolve_by_type(name) is ORIGINAL_RESOLVE(name)


def test_unknown_event_names_still_fail_or_fall_back() -> None:
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None


# --- 3. dialogue states continued from the last call -----------------------------------------


def _conversation(rng: random.Random, turns: int) -> list[Event]:
    """Events shaped like MesoGuide's: answers, escalations, the callback form, rewinds."""
    intents = ["greet", "ask_pain", "ask_sessions", "ask_contraindication", "request_callback", "inform_area", "nlu_fallback"]
    events: list[Event] = []
    for turn in range(turns):
        intent = rng.choice(intents)
        events += [
            ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered(
                f"message {turn}",
                {"name": intent, "confidence": 0.9},
                [{"entity": "treatment_area", "value": "face"}] if intent == "inform_area" else [],
            ),
        ]
        if rng.random() < 0.1:
            events.append(UserUtteranceReverted())  # a rewind: earlier states must be recomputed
            continue
        if intent == "request_callback":
            events += [
                ActionExecuted(c.FORM_CALLBACK),
                ActiveLoop(c.FORM_CALLBACK),
                SlotSet(c.SLOT_REQUESTED, c.SLOT_CALLBACK_CONSENT),
            ]
        elif rng.random() < 0.3:
            events += [ActionExecuted(c.FORM_CALLBACK, hide_rule_turn=True), ActiveLoop(None), SlotSet(c.SLOT_REQUESTED, None)]
        action = c.ACTION_ESCALATE if intent == "ask_contraindication" else c.ACTION_ANSWER_TOPIC
        events += [
            ActionExecuted(action, hide_rule_turn=rng.random() < 0.5),
            BotUttered(f"reply {turn}"),
            SlotSet(c.SLOT_TURN_OUTCOME, "escalate:contraindication" if action == c.ACTION_ESCALATE else "answer:pain"),
        ]
    return events


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_states_equal_rasas_at_every_step_of_a_growing_conversation(seed: int) -> None:
    domain = Domain.load(REPO_ROOT / "domain.yml")
    rule_only = {"slots": [c.SLOT_REQUESTED], "active_loops": [c.FORM_CALLBACK]}
    events = _conversation(random.Random(seed), 40)
    tracker = DialogueStateTracker.from_events("memo", [], domain.slots)
    arguments = [
        {},
        {"omit_unset_slots": True},
        {"ignore_rule_only_turns": True, "rule_only_data": rule_only},
        {"ignore_rule_only_turns": True, "rule_only_data": rule_only, "omit_unset_slots": True},
    ]
    for index, event in enumerate(events):
        tracker.update(event)
        if index % 3 and index != len(events) - 1:
            continue  # every third step, as predictions come every few events
        for kwargs in arguments:
            patched = Domain.states_for_tracker_history(domain, tracker, **kwargs)
            fresh = ORIGINAL_STATES(
                domain, DialogueStateTracker.from_events("fresh", list(tracker.events), domain.slots), **kwargs
            )
            assert patched == fresh, (index, kwargs)
            # Callers edit the states they get: that must not leak into the next call.
            for state in patched:
                state.clear()


def test_the_replay_is_continued_not_restarted() -> None:
    domain = Domain.load(REPO_ROOT / "domain.yml")
    tracker = DialogueStateTracker.from_events("memo", [], domain.slots)
    memos: list[object] = []
    for turn in range(5):
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        tracker.update(UserUttered(f"message {turn}", {"name": "ask_pain", "confidence": 0.9}))
        Domain.states_for_tracker_history(domain, tracker)
        memos.append(next(iter(tracker.__dict__[rasa_speedups._MEMO_ATTRIBUTE].values())))
    assert all(memo is memos[0] for memo in memos)
    tracker.update(UserUtteranceReverted())
    Domain.states_for_tracker_history(domain, tracker)
    assert next(iter(tracker.__dict__[rasa_speedups._MEMO_ATTRIBUTE].values())) is not memos[0]


# --- 4. the recent events sent to the action server --------------------------------------------


def _long_conversation(rng: random.Random, turns: int) -> list[Event]:
    """A conversation with forms, rewinds, empty messages, other channels and new sessions."""
    events = _conversation(rng, turns)
    shaped: list[Event] = []
    for event in events:
        if isinstance(event, UserUttered):
            if rng.random() < 0.05:
                shaped += [SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]
            text = "" if rng.random() < 0.05 else event.text
            channel = rng.choice(["socketio", "telegram", "twilio"])
            event = UserUttered(text, event.intent, event.entities, input_channel=channel)
        shaped.append(event)
    return shaped


def _sdk_tracker(state: dict[str, Any]) -> Tracker:
    return Tracker.from_dict(state)


@pytest.mark.parametrize("seed", range(1, 9))
def test_the_actions_read_the_same_from_the_recent_events_as_from_all(seed: int) -> None:
    domain = Domain.load(REPO_ROOT / "domain.yml")
    events = _long_conversation(random.Random(seed), 60)
    tracker = DialogueStateTracker.from_events("recent", [], domain.slots)
    action = RemoteAction(c.ACTION_ESCALATE, None)
    shortened = 0
    for index, event in enumerate(events):
        tracker.update(event)
        if index % 4:
            continue
        ours = action._action_call_format(tracker, domain)["tracker"]
        rasas = ORIGINAL_CALL_FORMAT(action, tracker, domain)["tracker"]
        shortened += len(ours["events"]) < len(rasas["events"])
        assert {k: v for k, v in ours.items() if k != "events"} == {k: v for k, v in rasas.items() if k != "events"}
        assert rasas["events"][-len(ours["events"]) :] == ours["events"]  # a tail, never a rewrite
        for form_names in ([c.FORM_CALLBACK], []):
            assert excerpt_from_events(ours["events"], form_names=form_names) == excerpt_from_events(
                rasas["events"], form_names=form_names
            ), index
        full, recent = _sdk_tracker(rasas), _sdk_tracker(ours)
        assert recent.get_latest_input_channel() == full.get_latest_input_channel()
        assert recent.slots_to_validate() == full.slots_to_validate()
        assert recent.latest_message == full.latest_message
    assert shortened > 0  # the long conversation was cut


def test_a_short_conversation_is_sent_whole() -> None:
    events = [e for turn in range(MAX_MESSAGES) for e in (ActionExecuted(ACTION_LISTEN_NAME), UserUttered(f"m{turn}"))]
    assert rasa_speedups.recent_events(events) == events


def test_the_cut_keeps_the_last_messages_typed_outside_a_form() -> None:
    events: list[Event] = [UserUttered(f"free {n}") for n in range(MAX_MESSAGES + 3)]
    events += [ActiveLoop(c.FORM_CALLBACK)] + [UserUttered(f"form {n}") for n in range(5)] + [ActiveLoop(None)]
    recent = rasa_speedups.recent_events(events)
    assert recent[0].text == "free 3"  # the MAX_MESSAGES-th last message outside the form
    assert len(recent) == MAX_MESSAGES + 7


# --- 5. applied events continued ----------------------------------------------------------------


def _with_late_loops_and_reverts(rng: random.Random, turns: int) -> list[Event]:
    """Conversations where a loop's name first appears late, with reverts, restarts, sessions."""
    events = _long_conversation(rng, turns)
    shaped: list[Event] = []
    for index, event in enumerate(events):
        shaped.append(event)
        roll = rng.random()
        if roll < 0.03:
            shaped.append(ActionReverted())
        elif roll < 0.04:
            shaped.append(Restarted())
        elif roll < 0.06 and index > len(events) // 2:
            # A form whose name the conversation has not seen yet, executed on two turns before
            # its name first appears: once it does, Rasa folds the earlier turns differently.
            shaped += [
                ActionExecuted("late_form"),
                ActionExecuted(ACTION_LISTEN_NAME),
                UserUttered("late"),
                ActionExecuted("late_form"),
                ActiveLoop("late_form"),
                ActiveLoop(None),
            ]
    return shaped


@pytest.mark.parametrize("seed", range(1, 7))
def test_applied_events_equal_rasas_at_every_step(seed: int) -> None:
    domain = Domain.load(REPO_ROOT / "domain.yml")
    tracker = DialogueStateTracker.from_events("applied", [], domain.slots)
    for index, event in enumerate(_with_late_loops_and_reverts(random.Random(seed), 50)):
        tracker.update(event)
        if index % 2:
            continue
        ours = tracker.applied_events()
        assert ours == ORIGINAL_APPLIED(tracker), index
        assert all(a is b for a, b in zip(ours, ORIGINAL_APPLIED(tracker), strict=True))
        ours.clear()  # callers own the list they get


def test_a_loop_name_seen_late_refolds_the_earlier_events() -> None:
    domain = Domain.load(REPO_ROOT / "domain.yml")
    tracker = DialogueStateTracker.from_events("late", [], domain.slots)
    for event in [
        ActionExecuted("late_form"),
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("late"),
        ActionExecuted("late_form"),
    ]:
        tracker.update(event)
        tracker.applied_events()
    tracker.update(ActiveLoop("late_form"))
    before = len(ORIGINAL_APPLIED(DialogueStateTracker.from_events("x", list(tracker.events)[:-1], domain.slots)))
    assert tracker.applied_events() == ORIGINAL_APPLIED(tracker)
    assert len(tracker.applied_events()) != before + 1, "the late name changed how the turns fold"


def test_applied_events_start_over_when_the_history_is_not_the_same() -> None:
    domain = Domain.load(REPO_ROOT / "domain.yml")
    tracker = DialogueStateTracker.from_events("applied", [UserUttered("a"), UserUttered("b")], domain.slots)
    assert len(tracker.applied_events()) == 2
    tracker.events[0] = UserUttered("rewritten")  # the same length, another first event
    assert tracker.applied_events()[0].text == "rewritten"
    tracker.events = type(tracker.events)([UserUttered("c")])  # a new list
    assert [e.text for e in tracker.applied_events()] == ["c"]


# --- 6. the memoization policy's debug copy --------------------------------------------------


def test_memoization_predicts_as_rasa_and_copies_states_only_for_a_debug_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import copy
    import logging

    from rasa.core.policies import memoization
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    domain = Domain.load(REPO_ROOT / "domain.yml")
    policy = MemoizationPolicy(
        MemoizationPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("memoization"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    tracker = DialogueStateTracker.from_events("memo", _conversation(random.Random(5), 12), domain.slots)
    copies: list[int] = []
    real_deepcopy = copy.deepcopy
    monkeypatch.setattr(copy, "deepcopy", lambda value, *a: copies.append(1) or real_deepcopy(value, *a))
    logger = logging.getLogger(memoization.__name__)
    monkeypatch.setattr(logger, "level", logging.INFO)
    ours = policy.predict_action_probabilities(tracker, domain)
    assert copies == []
    assert ours.probabilities == ORIGINAL_MEMOIZATION(policy, tracker, domain).probabilities
    monkeypatch.setattr(logger, "level", logging.DEBUG)
    policy.predict_action_probabilities(tracker, domain)
    assert copies, "the debug line still gets its copy when debug is logged"


# --- 7. a tracker copied, not replayed ----------------------------------------------------------


def _event_or_value(tracker: DialogueStateTracker, event: Any) -> Any:
    if any(e is event for e in tracker.events):
        return id(event)
    return ("not an event", {k: v for k, v in event.as_dict().items() if k != "timestamp"})


def _state_of(tracker: DialogueStateTracker) -> dict[str, Any]:
    from rasa.shared.core.trackers import EventVerbosity

    return {
        "state": tracker.current_state(EventVerbosity.ALL),
        "slots": {name: (slot.value, slot.has_been_set) for name, slot in tracker.slots.items()},
        "events": [id(e) for e in tracker.events],
        # The event itself, or (before any) an empty one Rasa makes for each tracker.
        "latest_message": _event_or_value(tracker, tracker.latest_message),
        "latest_bot_utterance": _event_or_value(tracker, tracker.latest_bot_utterance),
        "active_loop": tracker.active_loop,
        "followup_action": tracker.followup_action,
        "paused": tracker.is_paused(),
        "applied": [id(e) for e in tracker.applied_events()],
        "fields": sorted(k for k in vars(tracker) if not k.startswith("_mesoguide")),
    }


@pytest.mark.parametrize("seed", range(1, 6))
def test_a_copied_tracker_equals_rasas_replayed_copy(seed: int) -> None:
    from rasa.shared.core.events import ConversationPaused, ConversationResumed, FollowupAction

    domain = Domain.load(REPO_ROOT / "domain.yml")
    tracker = DialogueStateTracker.from_events("copy", [], domain.slots)
    tracker.model_id = "model"
    rng = random.Random(seed)
    for index, event in enumerate(_with_late_loops_and_reverts(rng, 40)):
        tracker.update(event)
        if rng.random() < 0.05:
            tracker.update(rng.choice([ConversationPaused(), ConversationResumed(), FollowupAction("action_escalate")]))
        if index % 3:
            continue
        ours, rasas = tracker.copy(), ORIGINAL_COPY(tracker)
        assert _state_of(ours) == _state_of(rasas), index
        # The copy is its own: an event on it leaves the original as it was.
        before = _state_of(tracker)
        ours.update(SlotSet(c.SLOT_TURN_OUTCOME, "answer:changed"))
        ours.update(ActiveLoop(c.FORM_CALLBACK))
        assert _state_of(tracker) == before


# --- 8. sparse features joined in one step --------------------------------------------------------


def _coo(rng: np.random.Generator, rows: int, cols: int, entries: int, dtype: Any) -> scipy.sparse.coo_matrix:
    return scipy.sparse.coo_matrix(
        ((rng.random(entries) * 9 + 1).astype(dtype), (rng.integers(0, rows, entries), rng.integers(0, cols, entries))),
        shape=(rows, cols),
    )


def _same_features(ours: Features, rasas: Features) -> None:
    assert type(ours.features) is type(rasas.features)
    assert ours.features.shape == rasas.features.shape
    assert ours.features.dtype == rasas.features.dtype
    for part in ("row", "col", "data"):  # the same entries in the same order: DIET reads them as they are
        assert getattr(ours.features, part).dtype == getattr(rasas.features, part).dtype, part
        assert np.array_equal(getattr(ours.features, part), getattr(rasas.features, part)), part
    assert (ours.type, ours.attribute, ours.origin) == (rasas.type, rasas.attribute, rasas.origin)


@pytest.mark.parametrize("seed", range(6))
def test_joined_sparse_features_equal_rasas(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 30))
    widths = [int(w) for w in rng.integers(1, 40000, int(rng.integers(2, 5)))]
    dtypes = [rng.choice([np.float32, np.float64, np.int64]) for _ in widths]
    features = [
        Features(_coo(rng, rows, width, int(rng.integers(0, 5 * rows)), dtype), "sequence", "text", f"featurizer{i}")
        for i, (width, dtype) in enumerate(zip(widths, dtypes, strict=True))
    ]
    names = [f.origin for f in features]
    rasas = ORIGINAL_COMBINE(features, names)
    monkeypatch.setattr(scipy.sparse, "hstack", lambda *a, **k: pytest.fail("Rasa's pairwise hstack was used"))
    ours = Message._combine_features(features, names)
    _same_features(ours, rasas)
    ours.features.data[:] = 0  # a new matrix: the inputs are untouched
    assert all(f.features.nnz == 0 or f.features.data.any() for f in features)


def test_joined_sparse_features_of_rasas_featurizers_equal_rasas(tmp_path: Path) -> None:
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.nlu.featurizers.sparse_featurizer.lexical_syntactic_featurizer import LexicalSyntacticFeaturizer
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.training_data import TrainingData

    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "test")
    texts = ["does it hurt", "how many sessions will I need for my hair", "My face is swollen and hot, is that normal?"]
    data = TrainingData([Message(data={"text": t, "intent": "faq"}) for t in texts])
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    tokenizer.process_training_data(data)
    featurizers: list[Any] = [
        LexicalSyntacticFeaturizer.create(LexicalSyntacticFeaturizer.get_default_config(), storage, Resource("lex"), context),
        CountVectorsFeaturizer.create(CountVectorsFeaturizer.get_default_config(), storage, Resource("words"), context),
        CountVectorsFeaturizer.create(
            {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
            storage,
            Resource("chars"),
            context,
        ),
    ]
    for featurizer in featurizers:
        featurizer.train(data)
        featurizer.process_training_data(data)
    for message in data.training_examples:
        for kind, count in (("sequence", 3), ("sentence", 2)):  # the lexical featurizer has no sentence features
            found = [f for f in message.features if f.type == kind and f.attribute == "text"]
            assert len(found) == count and all(isinstance(f.features, scipy.sparse.coo_matrix) for f in found)
            names = ["lex", "words", "chars"][-count:]
            _same_features(Message._combine_features(found, names), ORIGINAL_COMBINE(found, names))


def test_sparse_features_that_do_not_line_up_fail_as_in_rasa() -> None:
    rng = np.random.default_rng(0)
    features = [Features(_coo(rng, rows, 10, 3, np.float32), "sequence", "text", "f") for rows in (4, 4, 5)]
    with pytest.raises(ValueError, match="sequence dimensions do not match: 4 != 5"):
        Message._combine_features(features, ["a", "b", "c"])
    with pytest.raises(ValueError, match="sequence dimensions do not match: 4 != 5"):
        ORIGINAL_COMBINE(features, ["a", "b", "c"])


def test_other_features_go_through_rasas_own_code() -> None:
    rng = np.random.default_rng(1)
    dense = [Features(rng.random((3, 4)), "sequence", "text", n) for n in ("a", "b")]
    ours, rasas = Message._combine_features(dense, ["a", "b"]), ORIGINAL_COMBINE(dense, ["a", "b"])
    assert np.array_equal(ours.features, rasas.features)
    csr = [Features(_coo(rng, 3, 6, 4, np.float32).tocsr(), "sentence", "text", n) for n in ("a", "b")]
    ours, rasas = Message._combine_features(csr, ["a", "b"]), ORIGINAL_COMBINE(csr, ["a", "b"])
    assert (ours.features != rasas.features).nnz == 0 and ours.features.format == rasas.features.format
    one = [Features(_coo(rng, 3, 6, 4, np.float32), "sentence", "text", "a")]
    joined = Message._combine_features(one, ["a"])
    assert joined.features is not one[0].features and (joined.features != one[0].features).nnz == 0
    assert Message._combine_features([], []) is None
