"""The credentials file of ``rasa run``, written from environment variables.

Channels are configured only from the environment, so no secret is ever in the repository;
a channel whose variables are unset is simply off. REST (tests, own integrations) and the
website widget are always on. The file goes to ``build/`` (or a test's own directory).

======================  ===========================================================
variable                meaning
======================  ===========================================================
TELEGRAM_ACCESS_TOKEN   bot token from @BotFather; turns the Telegram channel on
TELEGRAM_SECRET_TOKEN   secret Telegram must send in ``X-Telegram-Bot-Api-Secret-Token``
                        (1-256 of ``A-Z a-z 0-9 _ -``); required with the token
TELEGRAM_WEBHOOK_URL    public https URL of ``/webhooks/telegram/webhook``; registered
                        with Telegram (with the secret) when the server starts
TELEGRAM_API_URL        Bot API base URL (default ``https://api.telegram.org``)
TWILIO_ACCOUNT_SID      turns the Twilio channel (SMS and WhatsApp) on
TWILIO_AUTH_TOKEN       signs ``X-Twilio-Signature``; required with the SID
TWILIO_NUMBER           sender number (``+15551234567``); replies go from the number the
                        patient wrote to (``whatsapp:+...`` for WhatsApp) when Twilio says
TWILIO_WEBHOOK_URL      public URL Twilio posts to, as configured in the Twilio console
                        (the signature covers it; default: the URL the request arrived on)
TWILIO_API_URL          REST API base URL (default ``https://api.twilio.com``)
======================  ===========================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mesoguide.errors import MesoGuideError

WEBCHAT = "mesoguide.channels.webchat.WebchatInput"
TELEGRAM = "mesoguide.channels.telegram.SignedTelegramInput"
TWILIO = "mesoguide.channels.twilio.SignedTwilioInput"
CHANNEL_NAMES = {WEBCHAT: "webchat", TELEGRAM: "telegram", TWILIO: "twilio"}
_TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ChannelConfigError(MesoGuideError):
    """A channel is half-configured; the message names the variable to set."""


def channel_credentials(env: Mapping[str, str]) -> dict[str, Any]:
    """The credentials mapping for ``rasa run`` from environment variables.

    Raises:
        ChannelConfigError: A channel's token is set but its webhook secret is not (an
            unauthenticated webhook would accept anyone's messages), or a value is malformed.
    """
    credentials: dict[str, Any] = {
        "rest": None,
        WEBCHAT: {
            "user_message_evt": "user_uttered",
            "bot_message_evt": "bot_uttered",
            "session_persistence": True,
        },
    }

    def get(name: str) -> str:
        return (env.get(name) or "").strip()

    if get("TELEGRAM_ACCESS_TOKEN"):
        secret = get("TELEGRAM_SECRET_TOKEN")
        if not _TELEGRAM_SECRET.match(secret):
            raise ChannelConfigError(
                "TELEGRAM_ACCESS_TOKEN is set but TELEGRAM_SECRET_TOKEN is missing or not 1-256 of "
                "A-Z a-z 0-9 _ -: set it (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        credentials[TELEGRAM] = {
            "access_token": get("TELEGRAM_ACCESS_TOKEN"),
            "secret_token": secret,
            "webhook_url": get("TELEGRAM_WEBHOOK_URL") or None,
            "api_url": get("TELEGRAM_API_URL") or None,
        }
    if get("TWILIO_ACCOUNT_SID"):
        if not get("TWILIO_AUTH_TOKEN"):
            raise ChannelConfigError(
                "TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not: set it (Twilio console, "
                "Account Info) so inbound X-Twilio-Signature can be checked"
            )
        credentials[TWILIO] = {
            "account_sid": get("TWILIO_ACCOUNT_SID"),
            "auth_token": get("TWILIO_AUTH_TOKEN"),
            "twilio_number": get("TWILIO_NUMBER") or None,
            "webhook_url": get("TWILIO_WEBHOOK_URL") or None,
            "api_url": get("TWILIO_API_URL") or None,
        }
    return credentials


def write_credentials(path: Path, env: Mapping[str, str]) -> list[str]:
    """Writes the credentials file (mode 0600: it may hold tokens); returns the channels on."""
    credentials = channel_credentials(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    header = "# Written by mesoguide.stack from environment variables; do not edit or commit.\n"
    path.write_text(header + yaml.safe_dump(credentials, sort_keys=False), encoding="utf-8")
    return [CHANNEL_NAMES.get(name, name) for name in credentials]
