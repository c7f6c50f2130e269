"""Small adaptations of Rasa 3.6 that make it faster without dropping a check.

Applied by the project's entry point for the Rasa server (:mod:`mesoguide.runtime.rasa_server`),
never by importing this module: :func:`apply` is explicit and idempotent. Each adaptation keeps
what Rasa checks and how it fails; ``tests/perf/test_rasa_speedups.py`` proves it for each one.
Where a message's time went before and after each one: ``docs/performance.md``.

1. **The action-response validator is built once.** ``RemoteAction._validate_action_result``
   calls ``jsonschema.validate(result, schema)`` for every response of the action server.
   With jsonschema 4.17 that call re-checks the *schema* against its meta-schema first (the
   events schema is large), about 32 ms per call against under 1 ms for the response itself:
   half of the Rasa server's time under load. Here the schema is checked once, the validator
   kept, and every response is still validated against the same schema; a malformed response
   still raises ``jsonschema.ValidationError`` with Rasa's own message appended.
2. **Event classes are looked up in a table.** ``Event.resolve_by_type`` walks every subclass
   of ``Event`` (``all_subclasses``, recursive, with an ``inspect.isabstract`` per class) for
   every event it deserialises: each tracker loaded from the database and each action-server
   response. Here the same walk fills a table once, first match kept as Rasa's loop keeps it;
   a name not in the table (a class imported later) walks again, so an unknown name still
   raises Rasa's ``ValueError``.
3. **Dialogue states are computed once per event.** Before each prediction every policy asks
   for the states of the whole conversation (``Domain.states_for_tracker_history``): Rasa
   replays every event into a fresh tracker and builds a state at each action, so the cost
   grows with the conversation (two predictions x two policies per message). Here the replay
   is kept on the tracker between calls, per argument combination, and continued from where it
   stopped, by the same loop body as Rasa's. It is only continued when the events applied so
   far are the very same event objects (``tracker.applied_events()`` starts with them: a
   revert or restart that changes the applied history starts over). The last state (the
   tracker as it is now) is always computed fresh, and callers get copies of the states (Rasa's
   featurizer edits them in place).
4. **The action server receives the recent part of the conversation.** Rasa sends the whole
   tracker, every event as JSON, with each custom-action call: about 220 KB at turn 100,
   serialised, sent, parsed and rebuilt into a tracker at every turn, so a long conversation
   slows down turn by turn. The actions read the slots, the latest message, the active loop and
   the channel (fields of the tracker state, computed by Rasa from the whole tracker as
   before) and, from the event list, only the latest user message and the escalation excerpt:
   the session's last ``MAX_MESSAGES`` non-empty patient messages typed outside a loop
   (:mod:`mesoguide.escalations.transcript`). So the event list sent starts at the
   ``MAX_MESSAGES``-th last such message (``recent_events``): by construction the excerpt and
   the latest input channel come out the same as from the whole list
   (``tests/perf/test_rasa_speedups.py`` checks it on generated conversations, and the
   end-to-end tests on real ones). An action that needs older events must read them from the
   tracker store, or this count must grow with it.
5. **Applied events are continued, not recomputed.** ``DialogueStateTracker.applied_events``
   folds every event of the conversation (reverts, restarts, loop executions) at each call,
   with an ``isinstance`` per event and type: several calls per message, each growing with the
   conversation. Here the fold's result is kept on the tracker and continued over the events
   appended since, by the same loop body as Rasa's. The fold also depends on the names of
   every loop anywhere in the conversation: when a new event brings a loop name not seen
   before, or the events are not the same objects as last time (a new list, a rewritten
   history), it starts over. Callers get a new list, as from Rasa.
6. **The memoization policy's debug copy only when debug is logged.** Before each prediction
   ``MemoizationPolicy.predict_action_probabilities`` (which the rule policy inherits) logs
   ``copy.deepcopy(states)`` at debug level: the copy of every dialogue state is made even when
   the debug line is filtered out, and the rule policy's states are the whole conversation's.
   Here the same line, with the same copy, is logged when that logger is enabled for debug,
   and the method is otherwise Rasa's own.
7. **A tracker is copied, not replayed.** Before every action the processor runs it on
   ``tracker.copy()``, which replays every event of the conversation into a new tracker (twice
   per message, growing with the conversation). A tracker's state must be re-creatable from its
   events (Rasa's own rule, ``DialogueStateTracker.__init__``), so the copy takes the same
   events and the state they made: each slot copied with its value, the latest message, bot
   utterance and action, the follow-up action, the active loop, the pause. Only plain
   ``DialogueStateTracker`` objects are copied this way (a subclass keeps Rasa's replay).
8. **Sparse features are joined in one step.** For every message DIET asks for the text's
   sparse features of each featurizer joined side by side (``Message._combine_features``):
   Rasa deep-copies the first matrix and then calls ``scipy.sparse.hstack`` once per further
   featurizer, each call converting, checking and copying every block again (three sparse
   featurizers here: about a tenth of the Rasa server's time). When every matrix is in COO
   format (what Rasa's sparse featurizers produce), here they are joined by one concatenation
   of their entries, in the order and with the index and value types ``hstack`` gives; the
   result is a new matrix, as Rasa's copy was. Rows that do not match raise Rasa's
   ``ValueError``; anything else (dense features, other sparse formats, one featurizer) goes
   through Rasa's own code.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

_APPLIED: set[str] = set()


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Any:
    """A validator for Rasa's action-server response schema, its schema checked once."""
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """Rasa's ``RemoteAction._validate_action_result`` with the validator built once.

    Raises:
        jsonschema.ValidationError: The response does not match the schema (the same error
            ``jsonschema.validate`` raises: the best match among the errors), with Rasa's hint.
    """
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(action_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


_EVENT_CLASSES: dict[str, Any] = {}


def _resolve_by_type(type_name: str, default: Any = None) -> Any:
    """Rasa's ``Event.resolve_by_type`` from a table built by the same subclass walk."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    found = _EVENT_CLASSES.get(type_name)
    if found is None:
        for cls in all_subclasses(Event):  # the order Rasa's loop sees them in: first one wins
            _EVENT_CLASSES.setdefault(cls.type_name, cls)
        found = _EVENT_CLASSES.get(type_name)
    if found is not None:
        return found
    if type_name == "topic":
        return None  # Rasa's backwards compatibility with old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


class _StatesMemo:
    """Where :func:`_states_for_tracker_history` stopped on one tracker for one argument set."""

    def __init__(self, tracker: Any) -> None:
        self.replay = tracker.init_copy()
        self.events: list[Any] = []
        self.states: list[Any] = []
        self.last_ml_action_sub_state: Any = None
        self.turn_was_hidden = False


_MEMO_ATTRIBUTE = "_mesoguide_states_memo"


def _copy_state(state: dict[str, Any]) -> dict[str, Any]:
    return {key: dict(sub) if isinstance(sub, dict) else sub for key, sub in state.items()}


def _states_for_tracker_history(
    self: Any,
    tracker: Any,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[Any]:
    """Rasa's ``Domain.states_for_tracker_history``, continued from the last call's replay."""
    import json

    from rasa.shared.core.events import ActionExecuted

    key = (id(self), omit_unset_slots, ignore_rule_only_turns, json.dumps(rule_only_data, sort_keys=True, default=str))
    memos = tracker.__dict__.setdefault(_MEMO_ATTRIBUTE, {})
    applied = tracker.applied_events()
    memo = memos.get(key)
    if memo is None or len(memo.events) > len(applied) or any(a is not b for a, b in zip(memo.events, applied, strict=False)):
        memo = memos[key] = _StatesMemo(tracker)
    for event in applied[len(memo.events) :]:
        if isinstance(event, ActionExecuted):
            _state_step(self, memo, memo.replay, event.hide_rule_turn, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        memo.replay.update(event)
        memo.events.append(event)
    # The state of the tracker as it is now: computed on a throw-away copy of the loop variables.
    final = _StatesMemo.__new__(_StatesMemo)
    final.states, final.last_ml_action_sub_state, final.turn_was_hidden = (
        list(memo.states),
        memo.last_ml_action_sub_state,
        memo.turn_was_hidden,
    )
    _state_step(self, final, memo.replay, False, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    return [_copy_state(state) for state in final.states]


def _state_step(
    domain: Any,
    memo: _StatesMemo,
    tr: Any,
    hide_rule_turn: bool,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict[str, Any] | None,
) -> None:
    """One iteration of the loop of Rasa 3.6's ``states_for_tracker_history``, unchanged."""
    from rasa.shared.core.constants import PREVIOUS_ACTION

    if ignore_rule_only_turns:
        if not memo.turn_was_hidden:
            memo.last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
        if not tr.followup_action and tr.latest_action_name != tr.active_loop_name:
            memo.turn_was_hidden = hide_rule_turn
        if memo.turn_was_hidden:
            return
    state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if memo.states:
            domain._substitute_rule_only_user_input(state, memo.states[-1])
        if memo.last_ml_action_sub_state:
            state[PREVIOUS_ACTION] = memo.last_ml_action_sub_state
    memo.states.append(domain._clean_state(state))


def recent_events(events: list[Any]) -> list[Any]:
    """The tail of ``events`` the action server needs (adaptation 4).

    Mirrors how :func:`mesoguide.escalations.transcript.excerpt_from_events` reads the list:
    an ``active_loop`` event sets the loop (``None`` ends it), ``session_started`` ends it. The
    tail starts at the ``MAX_MESSAGES``-th last non-empty user message typed with no loop
    active, so the excerpt built from the tail starts from the same state (no loop) and holds
    at least ``MAX_MESSAGES`` messages: its last ``MAX_MESSAGES`` are the whole list's.
    """
    from rasa.shared.core.events import ActiveLoop, SessionStarted, UserUttered

    from mesoguide.escalations.transcript import MAX_MESSAGES

    free: list[int] = []  # positions of non-empty user messages typed outside any loop
    active: str | None = None
    for position, event in enumerate(events):
        if isinstance(event, ActiveLoop):
            active = event.name
        elif isinstance(event, SessionStarted):
            active = None
        elif isinstance(event, UserUttered) and active is None and (event.text or "").strip():
            free.append(position)
    if len(free) <= MAX_MESSAGES:
        return list(events)
    return list(events[free[-MAX_MESSAGES] :])


def _action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
    """Rasa's ``RemoteAction._action_call_format`` with the recent events only (adaptation 4)."""
    import rasa
    from rasa.shared.core.trackers import EventVerbosity

    tracker_state = tracker.current_state(EventVerbosity.NONE)
    tracker_state["events"] = [event.as_dict() for event in recent_events(list(tracker.events))]
    result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": tracker_state, "version": rasa.__version__}
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


_APPLIED_MEMO = "_mesoguide_applied_memo"


class _AppliedMemo:
    """Where the applied-events fold stopped on one tracker."""

    def __init__(self, events: Any) -> None:
        self.events = events  # the tracker's own deque: a new one means start over
        self.count = 0
        self.first: Any = None
        self.last: Any = None
        self.loop_names: set[str] = set()
        self.applied: list[Any] = []


def _applied_events(self: Any) -> list[Any]:
    """Rasa's ``DialogueStateTracker.applied_events``, continued from the last call's fold."""
    events = self.events
    count = len(events)
    memo: _AppliedMemo | None = self.__dict__.get(_APPLIED_MEMO)
    if memo is None or not _memo_continues(memo, events, count):
        memo = _AppliedMemo(events)
    new = [events[i] for i in range(memo.count, count)] if memo.count else list(events)
    if memo.count and not _loop_names(new) <= memo.loop_names:
        memo, new = _AppliedMemo(events), list(events)  # a loop seen for the first time: start over
    memo.loop_names |= _loop_names(new)
    for event in new:
        _applied_step(self, event, memo.loop_names, memo.applied)
    if count:
        memo.count, memo.first, memo.last = count, events[0], events[-1]
    self.__dict__[_APPLIED_MEMO] = memo
    return list(memo.applied)


def _loop_names(events: list[Any]) -> set[str]:
    """The loops these events activate (what Rasa's fold calls ``loop_names``)."""
    from rasa.shared.core.events import ActiveLoop

    return {e.name for e in events if isinstance(e, ActiveLoop) and e.name}


def _memo_continues(memo: _AppliedMemo, events: Any, count: int) -> bool:
    """True when ``events`` is the deque the memo folded, with events only appended since."""
    if memo.events is not events or count < memo.count:
        return False
    return memo.count == 0 or (events[0] is memo.first and events[memo.count - 1] is memo.last)


def _applied_step(tracker: Any, event: Any, loop_names: set[str], applied_events: list[Any]) -> None:
    """One iteration of the loop of Rasa 3.6's ``applied_events``, unchanged."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )

    if isinstance(event, (Restarted, SessionStarted)):
        applied_events.clear()
    elif isinstance(event, ActionReverted):
        tracker._undo_till_previous(ActionExecuted, applied_events)
    elif isinstance(event, UserUtteranceReverted):
        tracker._undo_till_previous(UserUttered, applied_events)
        tracker._undo_till_previous(ActionExecuted, applied_events)
    elif (
        isinstance(event, ActionExecuted)
        and event.action_name in loop_names
        and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied_events)
    ):
        tracker._undo_till_previous_loop_execution(event.action_name, applied_events)
    else:
        applied_events.append(event)


def _memoization_predict(
    self: Any, tracker: Any, domain: Any, rule_only_data: dict[str, Any] | None = None, **kwargs: Any
) -> Any:
    """Rasa 3.6's ``MemoizationPolicy.predict_action_probabilities``; the debug copy only when logged."""
    import copy
    import logging

    from rasa.core.policies import memoization

    result = self._default_predictions(domain)
    states = self._prediction_states(tracker, domain, rule_only_data=rule_only_data)
    if logging.getLogger(memoization.__name__).isEnabledFor(logging.DEBUG):
        memoization.structlogger.debug("memoization.predict.actions", tracker_states=copy.deepcopy(states))
    predicted_action_name = self.recall(states, tracker, domain, rule_only_data=rule_only_data)
    if predicted_action_name is not None:
        memoization.logger.debug(f"There is a memorised next action '{predicted_action_name}'")
        result = self._prediction_result(predicted_action_name, tracker, domain)
    else:
        memoization.logger.debug("There is no memorised next action")
    return self._prediction(result)


def _tracker_copy(self: Any) -> Any:
    """Rasa's ``DialogueStateTracker.copy`` without replaying the events (adaptation 7)."""
    import copy

    from rasa.shared.core.trackers import DialogueStateTracker

    if type(self) is not DialogueStateTracker:
        return self.travel_back_in_time(float("inf"))  # Rasa's copy: a replay
    new = self.init_copy()  # what Rasa's copy starts from: same sender, slots, history limit
    new.events.extend(self.events)
    new.slots = {name: copy.copy(slot) for name, slot in self.slots.items()}  # init_copy reset them
    new._paused = self._paused
    new.followup_action = self.followup_action
    new.latest_action = copy.copy(self.latest_action)
    new.latest_message = self.latest_message
    new.latest_bot_utterance = self.latest_bot_utterance
    new.active_loop = copy.copy(self.active_loop)
    return new


def _combine_features(features: list[Any], featurizers: list[str]) -> Any:
    """Rasa's ``Message._combine_features``, COO matrices joined at once (adaptation 8).

    Raises:
        ValueError: The matrices' row counts (the sequence lengths) differ, as Rasa raises it.
    """
    import numpy as np
    from rasa.shared.nlu.training_data.features import Features
    from scipy.sparse import coo_matrix
    from scipy.sparse._sputils import get_index_dtype, upcast

    if len(features) < 2 or not all(type(f.features) is coo_matrix for f in features):  # not its subclasses (coo_array)
        return _RASA_COMBINE_FEATURES[0](features, featurizers)
    matrices = [f.features for f in features]
    rows = matrices[0].shape[0]
    for matrix in matrices[1:]:
        if matrix.shape[0] != rows:
            raise ValueError(
                f"Cannot combine sparse features as sequence dimensions do not match: {rows} != {matrix.shape[0]}."
            )
    widths = [m.shape[1] for m in matrices]
    shape = (rows, sum(widths))
    index_type = get_index_dtype(maxval=max(shape))
    offsets = np.cumsum([0, *widths[:-1]])
    data = np.concatenate([m.data for m in matrices]).astype(upcast(*(m.dtype for m in matrices)), copy=False)
    row = np.concatenate([m.row for m in matrices]).astype(index_type, copy=False)
    col = np.concatenate([m.col.astype(index_type) + offset for m, offset in zip(matrices, offsets, strict=True)]).astype(index_type, copy=False)
    first = features[0]
    return Features(coo_matrix((data, (row, col)), shape=shape), first.type, first.attribute, featurizers)


#: Rasa's own ``Message._combine_features``, kept before it is replaced (the fallback).
_RASA_COMBINE_FEATURES: list[Any] = []


def _patches() -> list[tuple[str, Any, str, Any]]:
    """Each adaptation as (name, Rasa class, attribute, replacement), in the order above."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.policies.memoization import MemoizationPolicy
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.training_data.message import Message

    if not _RASA_COMBINE_FEATURES:
        _RASA_COMBINE_FEATURES.append(Message._combine_features)
    return [
        ("action_response_validator", RemoteAction, "_validate_action_result", _validate_action_result),
        ("event_classes", Event, "resolve_by_type", staticmethod(_resolve_by_type)),
        ("dialogue_states", Domain, "states_for_tracker_history", _states_for_tracker_history),
        ("recent_events", RemoteAction, "_action_call_format", _action_call_format),
        ("applied_events", DialogueStateTracker, "applied_events", _applied_events),
        ("memoization_debug_copy", MemoizationPolicy, "predict_action_probabilities", _memoization_predict),
        ("tracker_copy", DialogueStateTracker, "copy", _tracker_copy),
        ("sparse_features_joined", Message, "_combine_features", staticmethod(_combine_features)),
    ]


def apply() -> list[str]:
    """Apply every adaptation once; returns the names of those applied by this call."""
    done = []
    for name, owner, attribute, replacement in _patches():
        if name in _APPLIED:
            continue
        setattr(owner, attribute, replacement)
        _APPLIED.add(name)
        done.append(name)
    return done
