"""The callback form: asks, validates, confirms and stores a callback request.

``callback_form`` (a Rasa form, domain.yml) asks, in order: consent, name, phone or e-mail,
preferred time, and a final check of the summary where any detail can be corrected. Each
question is a custom action (``action_ask_<slot>``) because every text comes from
``knowledge/messages.yml``. ``validate_callback_form`` checks each answer
(:mod:`mesoguide.escalations.callback_input`) and re-prompts with what is accepted; "cancel",
"stop" or "never mind" ends the form at any step. ``action_submit_callback`` runs when the form
ends and stores the details on the conversation's escalation (creating a "human" escalation
when there is none yet), or says that nothing was kept.

Escalations typed into the form (a red flag, a contraindication) never become an answer: the
validation sees them (:func:`mesoguide.guardrail.action_check.escalation_of_latest` with
``in_form=True``) and ends the form, and the
submit action escalates them at once, so a red flag's urgent text is the first thing sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.dependencies import Injected, resolve_store
from actions.escalate import escalate, new_escalation
from actions.languages import reply_languages
from actions.replies import latest_intent, outcome
from mesoguide import constants as c
from mesoguide.escalations import callback_input as ci
from mesoguide.escalations.models import CallbackRequest
from mesoguide.escalations.spool import spool
from mesoguide.guardrail.action_check import escalation_of_latest
from mesoguide.guardrail.precedence import Escalation
from mesoguide.knowledge import KnowledgeBase
from mesoguide.knowledge.topics import topic_for_intent

logger = logging.getLogger(__name__)

YES_NO_BUTTONS = [{"title": "Yes", "payload": "yes"}, {"title": "No", "payload": "no"}]
CANCELLED: dict[str, Any] = {c.SLOT_REQUESTED: None, **{slot: None for slot in c.CALLBACK_SLOTS}}


def fill(kb: KnowledgeBase, template: str, **values: str) -> str:
    """A message with clinic placeholders and the given ``{name}`` values filled.

    Patient-typed values are put in after the clinic placeholders, so a brace in them can
    never be read as a placeholder.
    """
    for key in values:
        template = template.replace("{" + key + "}", "{{" + key + "}}")
    text = kb.render(template)
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


class _Ask(Injected):
    """Asks one slot of the callback form; subclasses name the slot."""

    slot: str = ""
    buttons: list[dict[str, str]] = []

    def name(self) -> str:
        return c.ACTION_ASK_PREFIX + self.slot

    def text(self, tracker: Tracker) -> str:
        key = "ask_" + self.slot.removeprefix("callback_")
        return self._kb.render(self._kb.messages.callback[key])

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=self.text(tracker), buttons=list(self.buttons))
        return [outcome(c.CALLBACK_PREFIX + "ask_" + self.slot.removeprefix("callback_"))]


class ActionAskCallbackConsent(_Ask, Action):
    """First question. A callback request without an escalation before it is a request for a
    person: it is recorded as a ``human`` escalation first, so it reaches the queue. So is a
    request for a person that takes the callback offer ("ok call me"): the turn is
    ``escalate:human`` and the record counts it, and the form starts at once."""

    slot = c.SLOT_CALLBACK_CONSENT
    buttons = YES_NO_BUTTONS

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        if not tracker.get_slot(c.SLOT_ESCALATION_REFERENCE) or latest_intent(tracker) == Escalation.HUMAN.intent:
            events = escalate(
                dispatcher,
                self._kb,
                Escalation.HUMAN,
                tracker=tracker,
                store=self._store,
                offer_callback=False,
                stop_form=False,
            )
        dispatcher.utter_message(text=self.text(tracker), buttons=list(self.buttons))
        # The turn's outcome stays the escalation when there was one (audit contract).
        return events or [outcome(c.CALLBACK_PREFIX + "ask_consent")]


class ActionAskCallbackName(_Ask, Action):
    slot = c.SLOT_CALLBACK_NAME


class ActionAskCallbackContact(_Ask, Action):
    slot = c.SLOT_CALLBACK_CONTACT


class ActionAskCallbackTime(_Ask, Action):
    slot = c.SLOT_CALLBACK_TIME


class ActionAskCallbackConfirm(_Ask, Action):
    """Shows the details back so the patient can correct any of them."""

    slot = c.SLOT_CALLBACK_CONFIRM
    buttons = [{"title": "Yes, send it", "payload": "yes"}, {"title": "Cancel", "payload": "cancel"}]

    def text(self, tracker: Tracker) -> str:
        return fill(
            self._kb,
            self._kb.messages.callback["ask_confirm"],
            name=str(tracker.get_slot(c.SLOT_CALLBACK_NAME) or ""),
            contact=str(tracker.get_slot(c.SLOT_CALLBACK_CONTACT) or ""),
            time=str(tracker.get_slot(c.SLOT_CALLBACK_TIME) or ""),
        )


def _contact(value: Any) -> str | None:
    """The phone number or e-mail address the patient gave, cleaned, or None."""
    contact = ci.clean_contact(value)
    return None if contact is None else (contact[0] or contact[1])


class ValidateCallbackForm(Injected, FormValidationAction):
    """Checks each answer; cancel at any step; corrections at the confirmation step.

    Constructed with ``Injected``'s keyword arguments (knowledge, matcher, store).
    """

    def name(self) -> str:
        return c.ACTION_VALIDATE_CALLBACK

    def _stop_or_none(self, value: Any, tracker: Tracker) -> dict[str, Any] | None:
        """End the form on "cancel", or when the text calls for an escalation (the submit
        action then escalates it)."""
        if ci.is_cancel(value):
            return dict(CANCELLED)
        escalation, _ = escalation_of_latest(tracker, self._matcher, in_form=True, foreign=self._foreign)
        if escalation is not None:
            return dict(CANCELLED)  # the submit action escalates it
        return None

    def _reprompt(self, dispatcher: CollectingDispatcher, key: str, slot: str) -> dict[str, Any]:
        dispatcher.utter_message(text=self._kb.render(self._kb.messages.callback[key]))
        return {slot: None}

    def _checked(
        self,
        value: Any,
        tracker: Tracker,
        dispatcher: CollectingDispatcher,
        *,
        slot: str,
        clean: Callable[[Any], str | None],
        invalid: str,
    ) -> dict[str, Any]:
        """The one shape of a field check: stop, or the cleaned value, or a re-prompt."""
        stop = self._stop_or_none(value, tracker)
        if stop is not None:
            return stop
        if self._answered_a_question(value, tracker, dispatcher):
            return {slot: None}  # the form asks for this detail again
        cleaned = clean(value)
        if cleaned is None:
            return self._reprompt(dispatcher, invalid, slot)
        return {slot: cleaned}

    def _answered_a_question(self, value: Any, tracker: Tracker, dispatcher: CollectingDispatcher) -> bool:
        """A question about a topic typed into the form ("how long is the downtime btw") gets its
        answer, and is not taken for a name or a time."""
        if not ci.is_question(value):
            return False
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        topic_id = topic_for_intent(intent, self._kb.topics)
        if topic_id is None:
            return False
        dispatcher.utter_message(text=self._kb.render(self._kb.topics[topic_id].answer))
        return True

    def validate_callback_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        stop = self._stop_or_none(value, tracker)
        if stop is not None:
            return stop
        answer = ci.yes_no(value)
        if answer is None:
            return self._reprompt(dispatcher, "invalid_consent", c.SLOT_CALLBACK_CONSENT)
        return {c.SLOT_CALLBACK_CONSENT: "yes"} if answer else dict(CANCELLED)

    def validate_callback_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._checked(value, tracker, dispatcher, slot=c.SLOT_CALLBACK_NAME, clean=ci.clean_name, invalid="invalid_name")

    def validate_callback_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._checked(value, tracker, dispatcher, slot=c.SLOT_CALLBACK_CONTACT, clean=_contact, invalid="invalid_contact")

    def validate_callback_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._checked(value, tracker, dispatcher, slot=c.SLOT_CALLBACK_TIME, clean=ci.clean_time, invalid="invalid_time")

    def validate_callback_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        stop = self._stop_or_none(value, tracker)
        if stop is not None:
            return stop
        if ci.yes_no(value):
            return {c.SLOT_CALLBACK_CONFIRM: "yes"}
        change = ci.detail_to_change(value)
        if change is not None:
            # Emptying the slot makes the form ask it again, then show the summary again.
            return {f"callback_{change}": None, c.SLOT_CALLBACK_CONFIRM: None}
        return self._reprompt(dispatcher, "invalid_confirm", c.SLOT_CALLBACK_CONFIRM)


class ActionSubmitCallback(Injected, Action):
    """Runs when the callback form ends: store the confirmed details, or say nothing was kept.

    Constructed with ``Injected``'s keyword arguments (knowledge, matcher, store).
    """

    def name(self) -> str:
        return c.ACTION_SUBMIT_CALLBACK

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        clear = [SlotSet(slot, None) for slot in c.CALLBACK_SLOTS]
        escalation, matches = escalation_of_latest(tracker, self._matcher, in_form=True, foreign=self._foreign)
        if escalation is not None:
            # The form ended because the answer called for an escalation: a red flag typed
            # into the form gets the urgent message now, before anything else.
            reply = reply_languages(tracker, self._foreign, self._matcher)
            return escalate(dispatcher, self._kb, escalation, matches, tracker=tracker, store=self._store, reply=reply) + clear
        # The form is over: the callback offer that may have started it is answered.
        clear.append(SlotSet(c.SLOT_AWAITING, None))
        slots = {s: tracker.get_slot(s) for s in c.CALLBACK_SLOTS}
        if not all(slots.values()):
            dispatcher.utter_message(text=self._kb.render(self._kb.messages.callback["cancelled"]))
            return [outcome(c.CALLBACK_PREFIX + "cancelled"), *clear]
        contact = ci.clean_contact(slots[c.SLOT_CALLBACK_CONTACT]) or (None, None)
        request = CallbackRequest(
            name=str(slots[c.SLOT_CALLBACK_NAME]),
            phone=contact[0],
            email=contact[1],
            preferred_time=str(slots[c.SLOT_CALLBACK_TIME]),
        )
        reference = self._save(tracker, request)
        if reference is None:
            dispatcher.utter_message(text=self._kb.render(self._kb.messages.reference_unavailable))
            return [outcome(c.CALLBACK_PREFIX + "not_stored"), *clear]
        dispatcher.utter_message(text=fill(self._kb, self._kb.messages.callback["confirmed"], reference=reference))
        return [outcome(c.CALLBACK_PREFIX + "requested"), SlotSet(c.SLOT_ESCALATION_REFERENCE, reference), *clear]

    def _save(self, tracker: Tracker, request: CallbackRequest) -> str | None:
        try:
            store = resolve_store(self._store)
            reference = store.attach_callback(tracker.sender_id, request)
            if reference is None:
                # The earlier escalation was resolved meanwhile (or never stored): a new one.
                store.record(new_escalation(tracker, Escalation.HUMAN))
                reference = store.attach_callback(tracker.sender_id, request)
            return reference
        except Exception:  # any failure: the patient must hear that it did not work
            logger.critical(
                "CALLBACK REQUEST NOT STORED (conversation %s): the patient was told to call the clinic",
                tracker.sender_id,
                exc_info=True,
            )
            spool({"kind": "callback", "conversation_id": tracker.sender_id, **request})
            return None


#: Every question of the form, in the order the form asks.
ASK_ACTIONS = (
    ActionAskCallbackConsent,
    ActionAskCallbackName,
    ActionAskCallbackContact,
    ActionAskCallbackTime,
    ActionAskCallbackConfirm,
)
