"""Twilio (SMS and WhatsApp), through Rasa's connector, with the signature check Rasa 3.6 lacks.

* Every webhook request must carry a valid ``X-Twilio-Signature`` (HMAC-SHA1 of the public
  webhook URL and the form fields with the account's auth token, checked with the ``twilio``
  package's ``RequestValidator``); anything else gets 403 and never reaches the assistant.
  Behind a proxy the URL Twilio signed is not the one the server sees: set
  ``TWILIO_WEBHOOK_URL`` to the URL configured in the Twilio console.
* Output: buttons become numbered options (SMS and WhatsApp have none), texts are split to
  Twilio's 1,600-character limit, the reply goes from the number the patient wrote to
  (``whatsapp:+...`` for WhatsApp), and the widget-only custom payload is dropped.
* The Twilio client is blocking; messages are sent in a worker thread so the server keeps
  serving other conversations. ``api_url`` points it elsewhere (``TWILIO_API_URL``; the tests
  use a fake provider on loopback).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from mesoguide.channels.staff import ConversationAddressed, signed_text
from mesoguide.channels.text_only import DropsReplyMeta, numbered_options, resolve_choice, split_text
from mesoguide.conversation_ids import conversation_id
from mesoguide.logsafe import hashed

logger = logging.getLogger(__name__)
# The twilio client logs every request's headers at INFO; keep the server log readable.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

SIGNATURE_HEADER = "X-Twilio-Signature"
TWILIO_API = "https://api.twilio.com"
MAX_BODY_BYTES = 64 * 1024  # an SMS is at most 1,600 characters; WhatsApp 4,096
TWILIO_TEXT_LIMIT = 1600


class _MultiParams(dict):
    """Form fields with repeated keys, in the shape ``RequestValidator`` reads (``getall``)."""

    def getall(self, key: str) -> list[str]:
        return list(self[key])


class _RedirectingHttpClient(TwilioHttpClient):
    """Sends what the Twilio client addresses to api.twilio.com to another base URL."""

    def __init__(self, api_url: str) -> None:
        super().__init__(timeout=30)
        self.api_url = api_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(TWILIO_API):
            url = self.api_url + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


class TextTwilioOutput(ConversationAddressed, DropsReplyMeta, TwilioOutput):
    """Twilio output for SMS/WhatsApp: numbered options, length limits, no custom JSON.

    Args:
        account_sid: The Twilio account.
        auth_token: Its auth token.
        twilio_number: Default sender.
        reply_from: The number the patient wrote to, used as sender when known.
        api_url: Base URL of the REST API (default: Twilio's).
    """

    def __init__(
        self,
        account_sid: str | None,
        auth_token: str | None,
        twilio_number: str | None,
        *,
        reply_from: str | None = None,
        api_url: str | None = None,
    ) -> None:
        http_client = _RedirectingHttpClient(api_url) if api_url else None
        Client.__init__(self, account_sid, auth_token, http_client=http_client)
        self.twilio_number = reply_from or twilio_number
        self.send_retry = 0
        self.max_retry = 1

    async def _send_message(self, message_data: dict[str, Any]) -> Any:
        try:
            return await asyncio.to_thread(self.messages.create, **message_data)
        except TwilioException as exc:
            logger.error("twilio: sending to %s failed (%s)", hashed(message_data.get("to")), type(exc).__name__)
            return None

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Sends each paragraph as a message, split to Twilio's limit (a staff member's signed)."""
        sender = _sender_for(recipient_id, self.twilio_number)
        for paragraph in signed_text(text, kwargs).strip().split("\n\n"):
            for piece in split_text(paragraph, TWILIO_TEXT_LIMIT):
                await self._send_message({"to": recipient_id, "from_": sender, "body": piece})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """The text, then the buttons as numbered options in the same last message."""
        *paragraphs, last = text.strip().split("\n\n") or [""]
        for paragraph in paragraphs:
            await self.send_text_message(recipient_id, paragraph)
        await self.send_text_message(recipient_id, numbered_options(last, buttons).replace("\n\n", "\n"))


class SignedTwilioInput(TwilioInput):
    """Twilio input that validates ``X-Twilio-Signature`` (credentials: this class's path)."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials or not credentials.get("account_sid") or not credentials.get("auth_token"):
            raise ValueError(
                "twilio channel needs account_sid and auth_token (set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)"
            )
        return cls(
            account_sid=credentials["account_sid"],
            auth_token=credentials["auth_token"],
            twilio_number=credentials.get("twilio_number"),
            webhook_url=credentials.get("webhook_url"),
            api_url=credentials.get("api_url"),
        )

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        twilio_number: str | None = None,
        webhook_url: str | None = None,
        api_url: str | None = None,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=False)
        self.webhook_url = webhook_url
        self.api_url = api_url
        self._validator = RequestValidator(auth_token)

    def get_output_channel(self, reply_from: str | None = None) -> TextTwilioOutput:
        """A client that replies from ``reply_from`` (or the configured number)."""
        return TextTwilioOutput(
            self.account_sid, self.auth_token, self.twilio_number, reply_from=reply_from, api_url=self.api_url
        )

    def is_authentic(self, request: Request) -> bool:
        """Whether ``X-Twilio-Signature`` matches the URL and the form fields."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return False
        url = self.webhook_url or request.url
        # Twilio signs every field, empty ones too; Sanic's request.form drops empty values.
        fields = parse_qs((request.body or b"").decode("utf-8", errors="replace"), keep_blank_values=True)
        return bool(self._validator.validate(url, _MultiParams(fields), signature))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Health and the authenticated webhook."""
        twilio = Blueprint("twilio_webhook", __name__)

        @twilio.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @twilio.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if len(request.body or b"") > MAX_BODY_BYTES:
                return response.json({"error": "payload too large"}, status=413)
            if not self.is_authentic(request):
                logger.warning("twilio: rejected a webhook call without a valid X-Twilio-Signature")
                return response.json({"error": "forbidden"}, status=403)
            sender = request.form.get("From")
            if not sender:
                return response.json({"error": "no From field"}, status=400)
            await self._handle(request.app, request, sender, on_new_message)
            return response.text("", status=204)

        return twilio

    async def _handle(
        self, app: Sanic, request: Request, sender: str, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        # Picture-only MMS/WhatsApp messages and empty texts reach the assistant as an empty
        # message, which gets the fallback (what it can help with, how to reach people).
        text = (request.form.get("Body") or "").replace("¡", "@")  # some carriers corrupt @
        out = self.get_output_channel(reply_from=request.form.get("To"))
        try:
            text = await resolve_choice(app, conversation_id(self.name(), sender), text)
            await on_new_message(UserMessage(text, out, sender, input_channel=self.name()))
        except Exception:  # logged; Twilio gets 204 and does not retry
            logger.exception("twilio: could not handle a message from %s", hashed(sender))


def _sender_for(recipient_id: str, number: str | None) -> str | None:
    """The number to send from: a WhatsApp recipient needs the ``whatsapp:`` form of it.

    A reply to a patient's message goes from the number they wrote to, already in the right
    form; a staff member's message during a takeover goes from the configured number.
    """
    if number and recipient_id.startswith("whatsapp:") and not number.startswith("whatsapp:"):
        return f"whatsapp:{number}"
    return number
