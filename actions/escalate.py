"""``action_escalate``: hand the message to a clinician, never answer it.

What the patient sees comes from ``knowledge/messages.yml`` (clinician-reviewed content):
no yes/no verdict, why a clinician must decide, how to reach the clinic, a callback offer;
a red flag is urgent, gives the emergency number and offers nothing that could delay the call.

Every escalation is stored before the reply goes out, with a reference code the
patient sees. Storing can fail (database down, disk full): the patient then still gets the
escalation text with the clinic's phone number, the failure is logged at CRITICAL, and the
record is appended to a spool file (:mod:`mesoguide.escalations.spool`), so nothing the
patient typed is lost silently.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation_context import read_context
from actions.dependencies import Injected
from actions.languages import ENGLISH_ONLY, ReplyLanguages, reply_languages
from actions.replies import latest_intent, outcome
from mesoguide import constants as c
from mesoguide.escalations import store_or_spool
from mesoguide.escalations.models import NewEscalation
from mesoguide.escalations.store import EscalationStore
from mesoguide.escalations.transcript import excerpt_from_events
from mesoguide.guardrail.action_check import escalation_of_latest
from mesoguide.guardrail.matcher import GuardrailMatch
from mesoguide.guardrail.precedence import Escalation
from mesoguide.knowledge import KnowledgeBase
from mesoguide.language.identify import ENGLISH
from mesoguide.language.replies import red_flag_texts
from mesoguide.reply_meta import ReplyMeta, custom_payload

logger = logging.getLogger(__name__)


def escalate(
    dispatcher: CollectingDispatcher,
    kb: KnowledgeBase,
    escalation: Escalation,
    matches: Sequence[GuardrailMatch] = (),
    *,
    tracker: Tracker,
    store: EscalationStore | None = None,
    offer_callback: bool = True,
    stop_form: bool = True,
    reply: ReplyLanguages = ENGLISH_ONLY,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Store the escalation, send the escalation message, and return the turn's events.

    Args:
        dispatcher: Where the reply goes.
        kb: The knowledge base (messages and clinic facts).
        escalation: Why the message is escalated.
        matches: Guardrail terms found in the message (stored with the record).
        tracker: The conversation (id, channel, transcript excerpt).
        store: The escalation store (default: the process-wide one).
        offer_callback: Offer the callback form (never for red flags; not when the patient
            is already asking for a callback).
        stop_form: Close the callback form if it is active (an escalation typed into it);
            False when the form itself records the request it is starting for.
        reply: The languages of the reply: a red flag written in another language gets that
            language's urgent text first (``knowledge/messages.<lang>.yml``).
        now: The time (default: now); a request for a person while the clinic is closed says
            when someone can reply.

    Returns:
        The events of the turn (``turn_outcome``, the reference code; an interrupted
        callback form is closed).
    """
    urgent = escalation is Escalation.RED_FLAG
    new = new_escalation(tracker, escalation, matches, reply)
    reference = store_or_spool(new, store)

    translated = red_flag_texts(kb, reply.packs, reference) if urgent else []
    text = kb.render(kb.messages.escalation[escalation.value])
    if escalation is Escalation.HUMAN:
        text += closed_now(kb, now or dt.datetime.now(dt.timezone.utc))
    if reference:
        text += "\n\n" + kb.render(kb.messages.reference_line.replace("{reference}", reference))
    else:
        text += "\n\n" + kb.render(kb.messages.reference_unavailable)
    text = "\n\n".join([*translated, *([text] if reply.english or not translated else [])])
    buttons: list[dict[str, str]] = []
    offered = offer_callback and not urgent
    if offered:
        # Red flags get nothing after the urgent message: no offer that could delay a call.
        text = f"{text}\n\n{kb.render(kb.messages.callback_offer)}"
        buttons = [{"title": kb.messages.callback_button, "payload": f"/{c.INTENT_REQUEST_CALLBACK}"}]
    meta = ReplyMeta(
        outcome=escalation.outcome, urgent=urgent, reference=reference, language=reply.first if translated else ENGLISH
    )
    dispatcher.utter_message(text=text, buttons=buttons, custom=custom_payload(meta))
    # The matched terms stay in the record: with a reference code they would tie a health reason
    # to a patient in a file many people read.
    logger.warning("escalation %s %s (%d vocabulary terms)", escalation.outcome, reference or "NOT STORED", len(new["terms"]))
    events: list[dict[str, Any]] = [
        outcome(escalation.outcome),
        SlotSet(c.SLOT_ESCALATION_REFERENCE, reference),
        # A bare "yes" to the offer starts the callback form (data/rules.yml); anything else
        # the offer had nothing to do with.
        SlotSet(c.SLOT_AWAITING, c.AWAITING_CALLBACK_OFFER if offered else None),
    ]
    if stop_form and tracker.active_loop.get("name") == c.FORM_CALLBACK:
        # A question typed into the callback form was escalated: the form stops here (a red
        # flag must never wait behind a form) and forgets what was typed into it; the
        # patient can ask for a callback again.
        events += [ActiveLoop(None), SlotSet(c.SLOT_REQUESTED, None)]
        events += [SlotSet(slot, None) for slot in c.CALLBACK_SLOTS]
    return events


def closed_now(kb: KnowledgeBase, now: dt.datetime) -> str:
    """``staff.closed_now`` (when someone can reply) as a paragraph to add, or "" while the
    clinic is open or has not given its hours as data."""
    hours = kb.clinic.hours
    if hours is None or hours.is_open(now):
        return ""
    return "\n\n" + kb.render(kb.messages.staff["closed_now"], next_opening=hours.describe_next(now))


def new_escalation(
    tracker: Tracker,
    escalation: Escalation,
    matches: Sequence[GuardrailMatch] = (),
    reply: ReplyLanguages = ENGLISH_ONLY,
) -> NewEscalation:
    """The record of an escalation of this conversation, with its redacted excerpt.

    A patient who wrote another language has ``language:<code>`` among the record's terms: the
    clinic sees it before it calls back.
    """
    return NewEscalation(
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "unknown",
        reason=escalation.value,
        urgent=escalation is Escalation.RED_FLAG,
        terms=sorted({f"{m.entity}:{m.value}" for m in matches} | {f"language:{code}" for code in reply.packs}),
        excerpt=excerpt_from_events(
            tracker.events, form_names=[c.FORM_CALLBACK], known_values=_callback_values(tracker)
        ),
    )


def _callback_values(tracker: Tracker) -> list[str]:
    """Callback details typed so far: removed from the excerpt wherever they appear."""
    return [str(tracker.get_slot(s)) for s in c.CALLBACK_DETAIL_SLOTS if tracker.get_slot(s)]


class ActionEscalate(Injected, Action):
    """Escalates the latest message with the highest-precedence reason it calls for.

    Constructed with ``Injected``'s keyword arguments (knowledge, matcher, store).
    """

    def name(self) -> str:
        return c.ACTION_ESCALATE

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        escalation, matches = escalation_of_latest(tracker, self._matcher, foreign=self._foreign)
        if escalation is None and not read_context(tracker, self._matcher).has_content:
            # "yes", "ok", "?" never become an empty record in the clinic's queue.
            from actions.offer_help import ActionOfferHelp  # offer_help imports this module

            helper = ActionOfferHelp(knowledge=self._kb, matcher=self._matcher, store=self._store)
            return await helper.run(dispatcher, tracker, domain)
        if escalation is None:
            # Routed here by a rule or a fallback policy without a reason we can name: a person
            # is still the safe destination.
            logger.error("action_escalate ran for intent %r without an escalation reason", latest_intent(tracker))
            escalation = Escalation.HUMAN
        reply = reply_languages(tracker, self._foreign, self._matcher)
        return escalate(dispatcher, self._kb, escalation, matches, tracker=tracker, store=self._store, reply=reply)
