"""Small adaptations of Rasa 3.6 that make it faster without dropping a check.

Applied by the project's entry point for the Rasa server (:mod:`mesoguide.perf.rasa_main`),
never by importing this module: :func:`apply` is explicit and idempotent. Each adaptation keeps
what Rasa checks and how it fails; ``tests/unit/test_rasa_speedups.py`` proves it for each one.
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


def apply() -> list[str]:
    """Apply every adaptation once; returns the names of those applied by this call."""
    from rasa.core.actions.action import RemoteAction

    done = []
    if "action_response_validator" not in _APPLIED:
        RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
        _APPLIED.add("action_response_validator")
        done.append("action_response_validator")
    if "event_classes" not in _APPLIED:
        from rasa.shared.core.events import Event

        Event.resolve_by_type = staticmethod(_resolve_by_type)  # type: ignore[method-assign,assignment]
        _APPLIED.add("event_classes")
        done.append("event_classes")
    return done
