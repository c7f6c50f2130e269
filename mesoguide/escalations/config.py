"""Escalation settings, read from environment variables (documented in README.md).

One frozen record so the action server, the notifier, the dashboard and the CLI read the same
names; nothing else in the package looks at ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from mesoguide.errors import MesoGuideError
from mesoguide.paths import REPO_ROOT

DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'build' / 'escalations.db'}"


class EscalationConfigError(MesoGuideError):
    """An escalation setting in the environment is malformed."""


@dataclass(frozen=True)
class EscalationConfig:
    """Where escalations are stored and how the clinic is told about them.

    Attributes:
        database_url: SQLAlchemy URL (``MESOGUIDE_DATABASE_URL``); SQLite file under build/
            by default, ``postgresql+psycopg2://user:pw@host/db`` in production.
        retention_days: Records older than this are removed by ``purge``
            (``MESOGUIDE_RETENTION_DAYS``, default 365).
        webhook_url: Slack/Teams-compatible incoming webhook (``MESOGUIDE_NOTIFY_WEBHOOK_URL``).
        smtp_host: SMTP server for e-mail notifications (``MESOGUIDE_SMTP_HOST``).
        smtp_port: Its port (``MESOGUIDE_SMTP_PORT``, default 25).
        smtp_user: Login, if the server needs one (``MESOGUIDE_SMTP_USER``).
        smtp_password: Its password (``MESOGUIDE_SMTP_PASSWORD``).
        smtp_starttls: Upgrade the connection with STARTTLS (``MESOGUIDE_SMTP_STARTTLS=1``); the
            server's certificate and name are verified.
        smtp_ca_file: Certificates to trust for that, for a clinic's own CA
            (``MESOGUIDE_SMTP_CA_FILE``; default: the system's).
        email_from: Sender address (``MESOGUIDE_NOTIFY_EMAIL_FROM``).
        email_to: Recipients, comma-separated (``MESOGUIDE_NOTIFY_EMAIL_TO``).
        dashboard_url: Base URL of the staff dashboard, for links in notifications
            (``MESOGUIDE_DASHBOARD_URL``).
        retry_base_s: First retry delay of a failed notification (``MESOGUIDE_NOTIFY_RETRY_BASE_S``,
            default 30); doubles per attempt up to ``retry_max_s``.
        retry_max_s: Longest retry delay (``MESOGUIDE_NOTIFY_RETRY_MAX_S``, default 3600).
        session_minutes: Dashboard login lifetime (``MESOGUIDE_DASHBOARD_SESSION_MINUTES``, 480).
        secure_cookies: Mark the session cookie ``Secure`` (``MESOGUIDE_DASHBOARD_SECURE_COOKIES=1``;
            set it when the dashboard is served over HTTPS).
    """

    database_url: str = DEFAULT_DATABASE_URL
    retention_days: int = 365
    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ca_file: str | None = None
    email_from: str = "mesoguide@localhost"
    email_to: tuple[str, ...] = ()
    dashboard_url: str = "http://127.0.0.1:5070"
    retry_base_s: float = 30.0
    retry_max_s: float = 3600.0
    session_minutes: int = 480
    secure_cookies: bool = False

    @property
    def notify_channels(self) -> tuple[str, ...]:
        """The configured notification channels (``webhook``, ``email``), maybe none."""
        channels = []
        if self.webhook_url:
            channels.append("webhook")
        if self.smtp_host and self.email_to:
            channels.append("email")
        return tuple(channels)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EscalationConfig:
        """Reads the settings; unset ones keep their defaults.

        Raises:
            EscalationConfigError: A number or flag is malformed (the variable is named).
        """
        env = os.environ if env is None else env

        def text(name: str) -> str | None:
            value = (env.get(name) or "").strip()
            return value or None

        def number(name: str, default: float, kind: type = int) -> float:
            value = text(name)
            if value is None:
                return default
            try:
                parsed = kind(value)
            except ValueError:
                raise EscalationConfigError(f"{name} must be a number, not {value!r}") from None
            if parsed < 0:
                raise EscalationConfigError(f"{name} must not be negative, not {value!r}")
            return parsed

        def flag(name: str) -> bool:
            value = (text(name) or "0").lower()
            if value not in {"0", "1", "true", "false", "yes", "no"}:
                raise EscalationConfigError(f"{name} must be 1 or 0, not {value!r}")
            return value in {"1", "true", "yes"}

        defaults = cls()
        return cls(
            database_url=text("MESOGUIDE_DATABASE_URL") or defaults.database_url,
            retention_days=int(number("MESOGUIDE_RETENTION_DAYS", defaults.retention_days)),
            webhook_url=text("MESOGUIDE_NOTIFY_WEBHOOK_URL"),
            smtp_host=text("MESOGUIDE_SMTP_HOST"),
            smtp_port=int(number("MESOGUIDE_SMTP_PORT", defaults.smtp_port)),
            smtp_user=text("MESOGUIDE_SMTP_USER"),
            smtp_password=text("MESOGUIDE_SMTP_PASSWORD"),
            smtp_starttls=flag("MESOGUIDE_SMTP_STARTTLS"),
            smtp_ca_file=text("MESOGUIDE_SMTP_CA_FILE"),
            email_from=text("MESOGUIDE_NOTIFY_EMAIL_FROM") or defaults.email_from,
            email_to=tuple(a.strip() for a in (text("MESOGUIDE_NOTIFY_EMAIL_TO") or "").split(",") if a.strip()),
            dashboard_url=(text("MESOGUIDE_DASHBOARD_URL") or defaults.dashboard_url).rstrip("/"),
            retry_base_s=float(number("MESOGUIDE_NOTIFY_RETRY_BASE_S", defaults.retry_base_s, float)),
            retry_max_s=float(number("MESOGUIDE_NOTIFY_RETRY_MAX_S", defaults.retry_max_s, float)),
            session_minutes=int(number("MESOGUIDE_DASHBOARD_SESSION_MINUTES", defaults.session_minutes)),
            secure_cookies=flag("MESOGUIDE_DASHBOARD_SECURE_COOKIES"),
        )
