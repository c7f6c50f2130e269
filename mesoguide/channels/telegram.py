"""Telegram, through Rasa's connector, with the inbound authentication Rasa 3.6 lacks.

* Every webhook request must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to the secret
  registered with ``setWebhook`` (Telegram sends it on every update); anything else gets 403
  and never reaches the assistant. Rasa's own check (``getMe`` on every update, comparing the
  bot's user name) authenticates nothing: anyone who knows the URL could post.
* The webhook (with the secret) is registered when the server starts, and a failure is logged
  instead of stopping the server (Rasa calls the API while building its routes and dies).
* Output: text split to Telegram's 4,096-character limit, buttons as a vertical inline keyboard
  (tapping one sends its payload), the widget-only custom payload dropped.
* ``api_url`` points the Bot API client elsewhere (``TELEGRAM_API_URL``; the tests use a fake
  provider on loopback).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.bot.api import TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Update
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from mesoguide.channels.staff import ConversationAddressed, signed_text
from mesoguide.channels.text_only import DropsReplyMeta, resolve_choice, split_text
from mesoguide.constants import METADATA_KEY_LANGUAGE
from mesoguide.conversation_ids import conversation_id

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 64 * 1024  # a Telegram update with a 4,096-character text is far smaller
TELEGRAM_TEXT_LIMIT = 4096


class TextTelegramOutput(ConversationAddressed, DropsReplyMeta, TelegramOutput):
    """Rasa's Telegram output, pointed at ``api_url``, with length limits and no custom JSON."""

    def __init__(self, access_token: str | None, api_url: str | None = None) -> None:
        server = TelegramAPIServer.from_base(api_url) if api_url else None
        # TelegramOutput.__init__ cannot pass the server; call the aiogram Bot's directly.
        if server is not None:
            super(TelegramOutput, self).__init__(access_token, server=server)
        else:
            super().__init__(access_token)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Sends each paragraph as a message, split to Telegram's limit (a staff member's signed)."""
        for paragraph in signed_text(text, kwargs).strip().split("\n\n"):
            for piece in split_text(paragraph, TELEGRAM_TEXT_LIMIT):
                await self.send_message(recipient_id, piece)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """The text with one button per row (titles stay readable on a phone)."""
        markup = InlineKeyboardMarkup()
        for button in buttons:
            payload = str(button.get("payload") or button.get("title"))
            # callback_data is limited to 64 bytes; our payloads are intent names.
            markup.row(InlineKeyboardButton(str(button.get("title")), callback_data=payload[:64]))
        *first, last = split_text(text, TELEGRAM_TEXT_LIMIT) or [""]
        for piece in first:
            await self.send_message(recipient_id, piece)
        await self.send_message(recipient_id, last or "…", reply_markup=markup)


class SignedTelegramInput(TelegramInput):
    """Telegram input that checks the secret-token header (credentials: this class's path)."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials or not credentials.get("access_token") or not credentials.get("secret_token"):
            raise ValueError(
                "telegram channel needs access_token and secret_token "
                "(set TELEGRAM_ACCESS_TOKEN and TELEGRAM_SECRET_TOKEN)"
            )
        return cls(
            access_token=credentials["access_token"],
            secret_token=credentials["secret_token"],
            webhook_url=credentials.get("webhook_url"),
            api_url=credentials.get("api_url"),
        )

    def __init__(
        self, *, access_token: str, secret_token: str, webhook_url: str | None = None, api_url: str | None = None
    ) -> None:
        super().__init__(access_token, verify=None, webhook_url=webhook_url, debug_mode=False)
        self.secret_token = secret_token
        self.api_url = api_url

    def get_output_channel(self) -> TextTelegramOutput:
        """A client for the Bot API (no network call here, unlike Rasa's)."""
        return TextTelegramOutput(self.access_token, self.api_url)

    def is_authentic(self, request: Request) -> bool:
        """Whether the request carries the webhook's secret token."""
        return hmac.compare_digest(
            (request.headers.get(SECRET_HEADER) or "").encode(), self.secret_token.encode()
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Health, and the authenticated webhook; the webhook is registered at start-up."""
        telegram = Blueprint("telegram_webhook", __name__)

        @telegram.listener("after_server_start")
        async def register_webhook(_app: Sanic, _loop: Any) -> None:
            await self._register_webhook()

        @telegram.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.is_authentic(request):
                logger.warning("telegram: rejected a webhook call without the right secret token")
                return response.json({"error": "forbidden"}, status=403)
            if len(request.body or b"") > MAX_BODY_BYTES:
                return response.json({"error": "payload too large"}, status=413)
            try:
                update = Update(**(request.json or {}))
            except Exception:  # noqa: BLE001 - any malformed body is the sender's error
                return response.json({"error": "not a Telegram update"}, status=400)
            await self._handle_update(request.app, update, on_new_message)
            # 200 even if the assistant failed: Telegram would otherwise resend the update.
            return response.text("success")

        return telegram

    async def _register_webhook(self) -> None:
        if not self.webhook_url:
            logger.info("telegram: TELEGRAM_WEBHOOK_URL not set; register the webhook yourself")
            return
        bot = self.get_output_channel()
        try:
            # aiogram 2.15 predates the secret_token parameter: call the Bot API method directly.
            await bot.request("setWebhook", {"url": self.webhook_url, "secret_token": self.secret_token})
            logger.info("telegram: webhook registered at %s", self.webhook_url)
        except Exception as exc:  # noqa: BLE001 - the server keeps running; the log says why
            logger.error("telegram: could not register the webhook %s: %s", self.webhook_url, exc)
        finally:
            await bot.close()

    async def _handle_update(
        self, app: Sanic, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        out = self.get_output_channel()
        try:
            if update.callback_query is not None:
                message, text = update.callback_query.message, update.callback_query.data or ""
                user = update.callback_query.from_user
                await _acknowledge(out, update.callback_query.id)
            else:
                message = update.message or update.edited_message
                user = message.from_user if message is not None else None
                # Photos, stickers, voice notes and empty texts reach the assistant as an empty
                # message, which gets the fallback (what it can help with, how to reach people).
                text = (message.text or message.caption or "") if message is not None else ""
            if message is None or message.chat is None:
                return
            sender_id = str(message.chat.id)
            text = await resolve_choice(app, conversation_id(self.name(), sender_id), text)
            # The user's app language: a hint for telling close languages apart (mesoguide/language).
            language = getattr(user, "language_code", None)
            metadata = {METADATA_KEY_LANGUAGE: language} if isinstance(language, str) else {}
            await on_new_message(UserMessage(text, out, sender_id, input_channel=self.name(), metadata=metadata))
        except Exception:  # logged; Telegram must not retry forever
            logger.exception("telegram: could not handle update %s", update.update_id)
        finally:
            await out.close()


async def _acknowledge(bot: TextTelegramOutput, callback_query_id: str) -> None:
    """Stops the button's spinner in the Telegram app (best effort)."""
    try:
        await bot.answer_callback_query(callback_query_id)
    except Exception as exc:  # noqa: BLE001 - a stale button spinner is not worth failing the reply
        logger.debug("telegram: answerCallbackQuery failed: %s", exc)
