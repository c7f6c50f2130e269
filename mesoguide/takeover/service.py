"""Take over, write, hand back: each step one call to Rasa's API and one record."""

from __future__ import annotations

from typing import Any

from mesoguide.channels.staff import MAX_STAFF_NAME_CHARS, STAFF_NAME_KEY, TAKEOVER_JOINED, TAKEOVER_KEY, TAKEOVER_LEFT
from mesoguide.knowledge import KnowledgeBase
from mesoguide.takeover.errors import TakeoverError
from mesoguide.takeover.rasa_api import RasaConversations
from mesoguide.takeover.records import TakeoverLog, TakeoverRecord
from mesoguide.takeover.transcript import Line, transcript

#: Channels that can deliver a message the patient did not just ask for. REST answers only the
#: request it was sent with; Rasa's shell is local.
PUSH_CHANNELS = ("webchat", "telegram", "twilio")
#: The longest staff message (an SMS is split above 1,600 characters; a chat is not an e-mail).
MAX_STAFF_MESSAGE_CHARS = 1_000


class TakeoverService:
    """The takeover steps.

    Args:
        api: Rasa's conversations API.
        log: Who has which conversation.
        kb: The knowledge base (the joined / left texts and the clinic's facts).
    """

    def __init__(self, *, api: RasaConversations, log: TakeoverLog, kb: KnowledgeBase) -> None:
        self.api = api
        self.log = log
        self.kb = kb

    async def view(self, conversation_id: str) -> tuple[dict[str, Any], list[Line]]:
        """The conversation's state (``paused``, ``latest_input_channel``) and its transcript."""
        tracker = await self.api.tracker(conversation_id)
        return tracker, transcript(tracker.get("events") or [])

    async def take_over(self, conversation_id: str, *, user: str, name: str) -> TakeoverRecord:
        """Pause the assistant and tell the patient ``name`` from the clinic has joined.

        Raises:
            TakeoverError: The channel cannot receive staff messages, someone else has the
                conversation, the name is empty, or Rasa did not take the events.
        """
        name = " ".join(name.split())[:MAX_STAFF_NAME_CHARS]
        if not name:
            raise TakeoverError("Give the name the patient will see (your first name is enough).")
        held = self.log.active(conversation_id)
        if held is not None and held["staff_user"] == user:
            return held  # a second click: the patient was told once
        tracker = await self.api.tracker(conversation_id)
        channel = tracker.get("latest_input_channel")
        if not tracker.get("events") or channel not in PUSH_CHANNELS:
            raise TakeoverError(
                f"This conversation's channel ({channel or 'none'}) cannot receive messages from staff: "
                "call or e-mail the patient instead."
            )
        record = self.log.start(conversation_id, channel=channel, user=user, name=name)
        joined = self.kb.render(self.kb.messages.staff["joined"], staff_name=record["staff_name"])
        try:
            await self.api.append(
                conversation_id, [{"event": "pause"}, _staff_event(joined, record["staff_name"], TAKEOVER_JOINED)], send=True
            )
        except TakeoverError:
            self.log.end(conversation_id)
            raise
        return record

    async def send(self, conversation_id: str, *, user: str, text: str) -> None:
        """Send ``text`` to the patient as the staff member who has the conversation.

        Raises:
            TakeoverError: ``user`` does not have the conversation, the text is empty or too
                long, or Rasa did not take it.
        """
        record = self._held_by(conversation_id, user)
        text = text.strip()
        if not text:
            raise TakeoverError("Write a message first.")
        if len(text) > MAX_STAFF_MESSAGE_CHARS:
            raise TakeoverError(f"Keep a message under {MAX_STAFF_MESSAGE_CHARS} characters (this one has {len(text)}).")
        await self.api.append(conversation_id, [_staff_event(text, record["staff_name"])], send=True)
        self.log.wrote(conversation_id)

    async def hand_back(self, conversation_id: str, *, user: str) -> None:
        """Tell the patient the assistant answers again, and resume it.

        Anyone logged in may hand back (a colleague who went home left the chat paused); the
        patient is told the name of the person who had it.

        Raises:
            TakeoverError: Nobody has the conversation, or Rasa did not take the events.
        """
        record = self.log.active(conversation_id)
        if record is None:
            raise TakeoverError("Nobody from the clinic has this conversation.")
        left = self.kb.render(self.kb.messages.staff["left"], staff_name=record["staff_name"])
        await self.api.append(
            conversation_id, [_staff_event(left, record["staff_name"], TAKEOVER_LEFT), {"event": "resume"}], send=True
        )
        self.log.end(conversation_id)

    def _held_by(self, conversation_id: str, user: str) -> TakeoverRecord:
        record = self.log.active(conversation_id)
        if record is None:
            raise TakeoverError("Take the conversation over before you write in it.")
        if record["staff_user"] != user:
            raise TakeoverError(f"{record['staff_name']} ({record['staff_user']}) has this conversation.")
        return record


def _staff_event(text: str, name: str, takeover: str | None = None) -> dict[str, Any]:
    metadata = {STAFF_NAME_KEY: name, **({TAKEOVER_KEY: takeover} if takeover else {})}
    return {"event": "bot", "text": text, "metadata": metadata}
