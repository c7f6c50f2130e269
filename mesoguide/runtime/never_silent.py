"""Never silent: the Rasa server answers every patient message itself when its normal path cannot.

The normal path is Rasa's: the NLU pipeline (with the guardrail router), the dialogue policies and
the action server. Any of it can fail: the action server is down, slow or raising, the NLU raises,
the database is down, or the message is too long to parse. Rasa then logs the error and sends
nothing: for a red flag, silence. :func:`handle_message` wraps ``Agent.handle_message`` so that

* every message is handled within ``deadline_s``;
* a message longer than ``max_message_chars`` is not parsed: the deterministic guardrail reads
  the whole of it, in chunks and in a worker thread (other patients are not held up), and the
  reply is the escalation it calls for or the ``too_long`` text;
* a conversation sending faster than its rate allows gets the ``slow_down`` text (a red flag still
  gets the urgent text);
* when the normal path sent no reply at all, the guardrail decides: a red flag gets the urgent
  text (``escalate:red_flag``), a contraindication or a request for advice its escalation text,
  anything else the ``unavailable`` text with the clinic's phone;
* the language rail (:mod:`mesoguide.language`) reads the message too: a red flag written in
  another language gets the urgent text in that language, and a patient writing a language the
  clinic has a pack for gets that pack's safe reply instead of the English ``runtime`` text;
* a conversation a staff member has taken over (Rasa paused it, :mod:`mesoguide.takeover`)
  gets no reply from the assistant (outcome ``handoff``: the staff member answers), except for
  a red flag: the urgent text at once, and the urgent record that notifies the clinic;
* every such turn is written to the tracker with its ``turn_outcome`` (the audit contract) and
  every escalation is stored, or spooled when the store is down.

The texts are ``runtime`` and ``escalation`` in ``knowledge/messages.yml``, filled with the
clinic's facts at start-up: nothing here depends on the action server. Conversation ids are
namespaced by channel (:func:`conversation_id`) so no channel can address another's
conversations; the output channel still gets the id it knows.

No log line here holds a message, a name, a phone number or a raw conversation id
(:func:`mesoguide.logsafe.hashed`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage

from mesoguide import constants as c
from mesoguide.conversation_ids import conversation_id
from mesoguide.escalations.models import NewEscalation
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.guardrail.precedence import Escalation, decide_escalation
from mesoguide.knowledge import KnowledgeBase, default_knowledge
from mesoguide.language.identify import ENGLISH
from mesoguide.language.rail import LanguageRail, LanguageVerdict
from mesoguide.language.replies import red_flag_texts, render_in
from mesoguide.logsafe import hashed
from mesoguide.reply_meta import ReplyMeta, custom_payload
from mesoguide.runtime.rate_limit import RateLimiter

logger = logging.getLogger(__name__)

#: Overlap between the chunks the guardrail reads a long message in: a phrase cut by a chunk
#: border is whole in the next chunk.
CHUNK_OVERLAP_CHARS = 400
#: How long the never-silent path waits to learn whether a staff member has the conversation.
PAUSE_READ_S = 1.0


@dataclass(frozen=True)
class Settings:
    """Limits of the never-silent path (environment variables in brackets).

    Attributes:
        deadline_s: The normal path's time budget per message (``MESOGUIDE_REPLY_DEADLINE_S``).
        max_message_chars: Longer messages are not parsed (``MESOGUIDE_MAX_MESSAGE_CHARS``).
        guardrail_budget_s: Time the guardrail may spend reading a long message.
        chunk_chars: Size of the pieces a long message is read in.
        burst: Messages a conversation may send at once (``MESOGUIDE_RATE_BURST``).
        per_second: Messages a conversation may send per second after that
            (``MESOGUIDE_RATE_PER_SECOND``).
    """

    deadline_s: float = 10.0
    max_message_chars: int = 2_000
    guardrail_budget_s: float = 8.0
    chunk_chars: int = 4_000
    burst: int = 20
    per_second: float = 1.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Settings from the environment, defaults where unset."""
        env = dict(os.environ if env is None else env)
        default = cls()
        return cls(
            deadline_s=float(env.get("MESOGUIDE_REPLY_DEADLINE_S", default.deadline_s)),
            max_message_chars=int(env.get("MESOGUIDE_MAX_MESSAGE_CHARS", default.max_message_chars)),
            burst=int(env.get("MESOGUIDE_RATE_BURST", default.burst)),
            per_second=float(env.get("MESOGUIDE_RATE_PER_SECOND", default.per_second)),
        )


class ReplyWatch(OutputChannel):
    """An output channel that counts what is sent through it and sends it to the real one under
    the recipient id the real channel knows (not the namespaced conversation id)."""

    def __init__(self, inner: OutputChannel, recipient_id: str) -> None:
        self.inner = inner
        self.recipient_id = recipient_id
        self.sent = 0

    @classmethod
    def name(cls) -> str:
        return "reply_watch"

    def __getattr__(self, item: str) -> Any:
        return getattr(self.inner, item)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(self.recipient_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.sent += 1
        await self.inner.send_text_message(self.recipient_id, text, **kwargs)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        await self.inner.send_custom_json(self.recipient_id, json_message, **kwargs)


def chunks(text: str, size: int, overlap: int = CHUNK_OVERLAP_CHARS) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, each starting ``overlap`` characters
    before the previous one ended (cut at a space where there is one)."""
    if len(text) <= size:
        return [text]
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            space = text.rfind(" ", start + size // 2, end)
            end = space if space > 0 else end
        pieces.append(text[start:end])
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
    return pieces


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def unique_sentences(text: str) -> str:
    """``text`` with each sentence kept once (first occurrence, in order), one per line.

    The guardrail reads about 10,000 characters a second, so a message of a million characters
    cannot be read whole in a few seconds; but such messages are one story pasted many times or
    filler, and a repeated sentence cannot change the verdict. Distinct text beyond the reading
    budget is answered with the ``too_long`` text, which names the emergency number.
    """
    seen: set[str] = set()
    kept = []
    for sentence in _SENTENCE_END.split(text):
        key = " ".join(sentence.lower().split())
        if key and key not in seen:
            seen.add(key)
            kept.append(sentence.strip())
    return "\n".join(kept)


def escalation_in(
    text: str, matcher: GuardrailMatcher, *, chunk_chars: int, budget_s: float
) -> tuple[Escalation | None, list[str], bool]:
    """The deterministic guardrail's verdict on a text of any length.

    Returns:
        The highest escalation the vocabularies find, the matched terms (``entity:value``),
        and whether the whole text was read within ``budget_s`` (reading stops early at a red
        flag: nothing ranks above it).
    """
    started = time.monotonic()
    entities: set[str] = set()
    terms: set[str] = set()
    for piece in chunks(unique_sentences(text), chunk_chars):
        if time.monotonic() - started > budget_s:
            return decide_escalation(None, entities), sorted(terms), False
        for match in matcher.guardrail_matches(piece):
            entities.add(match.entity)
            terms.add(f"{match.entity}:{match.value}")
        if c.ENTITY_RED_FLAG in entities:
            break
    return decide_escalation(None, entities), sorted(terms), True


def language_in(
    text: str,
    rail: LanguageRail,
    *,
    english_terms: bool,
    english_red_flag: bool,
    hint: str | None,
    chunk_chars: int,
    budget_s: float,
) -> LanguageVerdict:
    """The language rail's verdict on a text of any length: its language from the first piece,
    red flags in other languages from every piece read within ``budget_s``, up to the first."""
    started = time.monotonic()
    pieces = chunks(unique_sentences(text), chunk_chars) or [""]
    read = functools.partial(rail.read, english_terms=english_terms, english_red_flag=english_red_flag, hint=hint)
    first = read(pieces[0])
    for piece in pieces[1:]:
        if first.red_flags or time.monotonic() - started > budget_s:
            break
        later = read(piece)
        if later.red_flags:
            return dataclasses.replace(
                first, red_flags=later.red_flags, reply_languages=first.reply_languages or later.reply_languages
            )
    return first


class NeverSilent:
    """The wrapper around ``Agent.handle_message`` (see the module docstring).

    Args:
        kb: The knowledge base the texts and the clinic's facts come from.
        settings: Limits.
        matcher: The guardrail matcher; by default the one of the loaded model, else one built
            from ``knowledge/`` on first use.
        record: Stores an escalation and returns its reference code, None when it could not
            (it must spool what it cannot store); by default the escalation store of the
            environment.
        rail: The language rail; by default the one of the loaded model, else one built from
            ``knowledge/`` on first use.
    """

    def __init__(
        self,
        *,
        kb: KnowledgeBase,
        settings: Settings,
        matcher: Callable[[], GuardrailMatcher] | None = None,
        record: Callable[[NewEscalation], str | None] | None = None,
        rail: Callable[[], LanguageRail] | None = None,
    ) -> None:
        self._kb = kb
        self._rail = rail or _model_rail
        self._settings = settings
        self._matcher = matcher or _model_matcher
        self._record = record or record_escalation
        self._limiter = RateLimiter(burst=settings.burst, per_second=settings.per_second)

    async def handle(self, agent: Any, message: UserMessage, normal: Callable[[UserMessage], Awaitable[Any]]) -> Any:
        """Handle ``message`` on the normal path, or answer it here when that path cannot."""
        raw_sender = str(message.sender_id)
        message.sender_id = conversation_id(message.input_channel, raw_sender)
        watch = ReplyWatch(message.output_channel, raw_sender)
        message.output_channel = watch
        text = message.text if isinstance(message.text, str) else ""
        if not self._limiter.allow(message.sender_id):
            return await self._answer_here(agent, message, watch, text, fallback="slow_down")
        if len(text) > self._settings.max_message_chars:
            return await self._answer_here(agent, message, watch, text, fallback="too_long")
        result = None
        try:
            result = await asyncio.wait_for(normal(message), self._settings.deadline_s)
        except asyncio.TimeoutError:
            _failed(message, f"no reply within {self._settings.deadline_s:.0f} s on the normal path")
        except Exception as exc:  # noqa: BLE001 - whatever failed, the patient gets a reply below
            _failed(message, "the normal path failed", exc)
        if watch.sent == 0:
            if await self._taken_over(agent, message):
                return await self._answer_here(agent, message, watch, text, fallback="unavailable", taken_over=True)
            _failed(message, "no reply was sent; answering on the never-silent path", level=logging.WARNING)
            return await self._answer_here(agent, message, watch, text, fallback="unavailable")
        return result

    async def _taken_over(self, agent: Any, message: UserMessage) -> bool:
        """Whether a staff member has the conversation (Rasa paused it, so it sent nothing).

        Read only when nothing was sent: the normal path costs nothing extra. A store that does
        not answer within :data:`PAUSE_READ_S` counts as "not taken over": the patient gets the
        never-silent reply without waiting longer.
        """
        try:
            tracker = await asyncio.wait_for(agent.tracker_store.retrieve(message.sender_id), PAUSE_READ_S)
        except Exception as exc:  # noqa: BLE001 - unknown: the safe reply goes out
            _failed(message, "could not read whether the conversation is taken over", exc)
            return False
        return tracker is not None and tracker.is_paused()

    async def _answer_here(
        self, agent: Any, message: UserMessage, watch: ReplyWatch, text: str, *, fallback: str, taken_over: bool = False
    ) -> None:
        """Reply here with what the guardrail calls for, else the ``fallback`` runtime text.

        ``taken_over``: a member of staff has the conversation. Only a red flag gets a reply then
        (the urgent text at once, and the urgent record that notifies the clinic); anything else
        is for the staff member, who sees it in the transcript (``handoff``).
        """
        loop = asyncio.get_running_loop()
        check = functools.partial(
            escalation_in, chunk_chars=self._settings.chunk_chars, budget_s=self._settings.guardrail_budget_s
        )
        try:
            matcher = await loop.run_in_executor(None, self._matcher)
            escalation, terms, _whole = await loop.run_in_executor(None, check, text, matcher)
        except Exception as exc:  # noqa: BLE001 - no guardrail: the safe reply still goes out
            _failed(message, "guardrail unavailable on the never-silent path", exc)
            escalation, terms = None, []
        english_red_flag = any(t.startswith(f"{c.ENTITY_RED_FLAG}:") for t in terms)
        verdict = await self._language(loop, message, text, english_terms=bool(terms), english_red_flag=english_red_flag)
        if verdict.is_red_flag:
            escalation = Escalation.RED_FLAG
            terms = sorted({*terms, *(f"{c.ENTITY_RED_FLAG}:{m.value}" for m in verdict.red_flags)})
        terms = sorted({*terms, *(f"language:{code}" for code in verdict.reply_languages)}) if escalation else terms
        if taken_over:
            if escalation is not Escalation.RED_FLAG:
                await self._audit(agent, message, text, None, c.OUTCOME_HANDOFF)
                return
            logger.warning("conversation %s: red flag while a staff member has it", hashed(message.sender_id))
        if escalation is None or escalation is Escalation.HUMAN:
            pack = self._kb.languages.get(verdict.code) if verdict.needs_language_reply else None
            if pack is not None:
                reply = render_in(self._kb, pack.code, pack.english_only)
            else:
                reply = self._kb.render(self._kb.messages.runtime[fallback])
            outcome, meta = c.OUTCOME_UNAVAILABLE, None
        else:
            reference = await self._store(loop, message, escalation, terms, text)
            reply = self._kb.render(self._kb.messages.escalation[escalation.value])
            if reference:
                reply += "\n\n" + self._kb.render(self._kb.messages.reference_line.replace("{reference}", reference))
            else:
                reply += "\n\n" + self._kb.render(self._kb.messages.reference_unavailable)
            language = ENGLISH
            if escalation is Escalation.RED_FLAG:
                translated = red_flag_texts(self._kb, verdict.reply_languages, reference)
                reply = "\n\n".join([*translated, *([reply] if verdict.english_too or not translated else [])])
                language = verdict.reply_languages[0] if translated and verdict.reply_languages else ENGLISH
            outcome = escalation.outcome
            # The widget marks the reply as an escalation (urgent: it stands out), as it does
            # for the action server's; text-only channels drop this payload.
            meta = ReplyMeta(outcome=outcome, urgent=escalation is Escalation.RED_FLAG, reference=reference, language=language)
        try:
            await watch.send_text_message(watch.recipient_id, reply)
            if meta is not None:
                await watch.send_custom_json(watch.recipient_id, custom_payload(meta))
        except Exception as exc:  # noqa: BLE001 - the turn is still written to the audit trail
            _failed(message, "the channel could not deliver the reply", exc)
        await self._audit(agent, message, text, reply, outcome)

    async def _language(
        self, loop: asyncio.AbstractEventLoop, message: UserMessage, text: str, *, english_terms: bool, english_red_flag: bool
    ) -> LanguageVerdict:
        """The language rail's verdict, or English when the rail itself fails."""
        metadata = message.metadata if isinstance(message.metadata, dict) else {}
        hint = metadata.get(c.METADATA_KEY_LANGUAGE)
        read = functools.partial(
            language_in, english_terms=english_terms, english_red_flag=english_red_flag,
            hint=hint if isinstance(hint, str) else None,
            chunk_chars=self._settings.chunk_chars, budget_s=self._settings.guardrail_budget_s,
        )
        try:
            rail = await loop.run_in_executor(None, self._rail)
            return await loop.run_in_executor(None, read, text, rail)
        except Exception as exc:  # noqa: BLE001 - the English guardrail's verdict still stands
            _failed(message, "language rail unavailable on the never-silent path", exc)
            return LanguageVerdict(code=ENGLISH, reason="unavailable")

    async def _store(
        self, loop: asyncio.AbstractEventLoop, message: UserMessage, escalation: Escalation, terms: list[str], text: str
    ) -> str | None:
        from mesoguide.escalations.transcript import excerpt_from_events

        new = NewEscalation(
            conversation_id=message.sender_id,
            channel=message.input_channel or "unknown",
            reason=escalation.value,
            urgent=escalation is Escalation.RED_FLAG,
            terms=terms,
            excerpt=excerpt_from_events([{"event": "user", "text": text}]),
        )
        try:
            return await asyncio.wait_for(loop.run_in_executor(None, self._record, new), 5.0)
        except Exception as exc:  # noqa: BLE001 - the reply says to call the clinic instead
            _failed(message, f"escalation ({escalation.value}) not stored", exc, level=logging.CRITICAL)
            return None

    async def _audit(self, agent: Any, message: UserMessage, text: str, reply: str | None, outcome: str) -> None:
        """Write the turn and its outcome to the tracker (the audit contract); ``reply`` None is
        a turn the assistant did not answer (a member of staff has the conversation)."""
        from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

        try:
            tracker = await asyncio.wait_for(agent.tracker_store.get_or_create_tracker(message.sender_id), 5.0)
            latest = tracker.latest_message
            if latest is None or latest.message_id != message.message_id or not message.message_id:
                cap = self._settings.max_message_chars
                kept = text if len(text) <= cap else text[:cap] + " [...]"
                tracker.update(UserUttered(kept, input_channel=message.input_channel, message_id=message.message_id))
            if reply is not None:
                tracker.update(BotUttered(reply))
            tracker.update(SlotSet(c.SLOT_TURN_OUTCOME, outcome))
            tracker.update(ActionExecuted("action_listen"))
            await asyncio.wait_for(agent.tracker_store.save(tracker), 5.0)
        except Exception as exc:  # noqa: BLE001 - the patient has the reply; the gap is logged
            _failed(message, f"turn with outcome {outcome} not written to the tracker", exc)


def _failed(message: UserMessage, what: str, exc: BaseException | None = None, *, level: int = logging.ERROR) -> None:
    """Log a failure of one conversation: its hashed id and the exception's type, never its
    message (a database error can quote the patient's words)."""
    cause = f" ({type(exc).__name__})" if exc is not None else ""
    logger.log(level, "conversation %s: %s%s", hashed(message.sender_id), what, cause)


@functools.lru_cache(maxsize=1)
def _built_matcher() -> GuardrailMatcher:
    return GuardrailMatcher.from_knowledge(default_knowledge())


def _model_matcher() -> GuardrailMatcher:
    from mesoguide.guardrail.rasa_router import loaded_matcher

    return loaded_matcher() or _built_matcher()


@functools.lru_cache(maxsize=1)
def _built_rail() -> LanguageRail:
    return LanguageRail.from_packs(default_knowledge().languages)


def _model_rail() -> LanguageRail:
    from mesoguide.language.rasa_gate import loaded_rail

    return loaded_rail() or _built_rail()


def record_escalation(new: NewEscalation) -> str | None:
    """Store an escalation in the process's escalation store; spooled when that fails."""
    from mesoguide.escalations import store_or_spool

    return store_or_spool(new)


_APPLIED: list[NeverSilent] = []


def apply(settings: Settings | None = None) -> NeverSilent:
    """Wrap ``Agent.handle_message`` (idempotent): the Rasa server entry point calls this."""
    from rasa.core.agent import Agent

    if _APPLIED:
        return _APPLIED[0]
    guard = NeverSilent(kb=default_knowledge(), settings=settings or Settings.from_env())
    normal = Agent.handle_message

    async def handle_message(self: Agent, message: UserMessage) -> Any:
        return await guard.handle(self, message, functools.partial(normal, self))

    Agent.handle_message = handle_message
    _APPLIED.append(guard)
    return guard
