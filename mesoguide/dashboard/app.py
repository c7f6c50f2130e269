"""The staff dashboard app (Sanic 21.12, already a Rasa dependency).

Security, in one place:
- every page but /login (and /health, JSON for the process supervisor) needs a login;
- passwords are checked against salted scrypt hashes (:mod:`mesoguide.escalations.passwords`)
  in a worker thread (a log-in flood does not stall the pages); failed log-ins are throttled
  per address and per account with a temporary lockout (:mod:`.throttle`);
- a disabled user cannot log in; a password change or disabling ends the user's sessions;
- roles: ``staff`` works the queue; ``admin`` also reads the audit log (``/audit``) of
  log-ins (failed ones too), records viewed, status changes, notes and user changes;
- the session cookie is random, HttpOnly, SameSite=Strict, expires
  (``MESOGUIDE_DASHBOARD_SESSION_MINUTES``) and is only stored hashed; ``Secure`` with
  ``MESOGUIDE_DASHBOARD_SECURE_COOKIES=1`` and whenever the request came over https (directly
  or, from loopback, as nginx's ``X-Forwarded-Proto``);
- every POST carries a CSRF token: the session's token once logged in, a double-submit cookie
  for the login form;
- every value shown is HTML-escaped (:mod:`.pages`), and the Content-Security-Policy forbids
  framing and scripts; the live chat page alone may run the dashboard's own ``/static/live.js``
  (:mod:`.live`).
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, html, json, redirect

from mesoguide.dashboard import pages
from mesoguide.dashboard.analytics import add_analytics_routes
from mesoguide.dashboard.live import LiveDesk, add_routes
from mesoguide.dashboard.throttle import LoginThrottle
from mesoguide.escalations.codes import normalize_reference
from mesoguide.escalations.config import EscalationConfig
from mesoguide.escalations.models import REASONS, STATUSES
from mesoguide.escalations.store import EscalationNotFound, EscalationStore
from mesoguide.runtime.http_guard import client_address

SESSION_COOKIE = "mg_session"
LOGIN_CSRF_COOKIE = "mg_login_csrf"
PUBLIC_PATHS = {"/login", "/health"}
FAILED_LOGIN_DELAY_S = 1.0
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
#: The live chat page runs its own first-party script (and nothing else): the one page whose
#: policy allows a script, from this origin only.
SCRIPT_PAGE_CSP = HEADERS["Content-Security-Policy"] + "; script-src 'self'; connect-src 'self'"


def create_app(
    store: EscalationStore, config: EscalationConfig, *, name: str = "mesoguide_dashboard", desk: LiveDesk | None = None
) -> Sanic:
    """The dashboard app over ``store``.

    Args:
        store: Where escalations, staff users and sessions are.
        config: Session lifetime and cookie settings.
        name: Sanic app name (unique per process).
        desk: The live chats (takeover) and the tracker store the analytics read; without it the
            dashboard is the escalation queue only.
    """
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 64 * 1024  # forms only: nothing big is ever posted here

    # An account allows few failures; an address more (a clinic's staff share one address).
    accounts, addresses = LoginThrottle(max_failures=5), LoginThrottle(max_failures=20)

    def set_cookie(response: HTTPResponse, key: str, value: str, max_age: int, request: Request) -> None:
        response.cookies[key] = value
        cookie = response.cookies[key]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"
        cookie["max-age"] = max_age
        if config.secure_cookies or _over_https(request):
            cookie["secure"] = True

    @app.middleware("request")
    async def authenticate(request: Request) -> HTTPResponse | None:
        session = store.session(request.cookies.get(SESSION_COOKIE))
        request.ctx.user, request.ctx.csrf = session if session else (None, None)
        if request.path in PUBLIC_PATHS or request.ctx.user:
            if request.method == "POST" and request.ctx.user and not _csrf_ok(request.form.get("csrf_token"), request.ctx.csrf):
                return html(pages.message_page("Form expired", "Reload the page and try again."), status=403)
            return None
        if request.method == "GET":
            return redirect("/login")
        return html(pages.message_page("Not logged in", "Log in first."), status=401)

    @app.middleware("response")
    async def security_headers(request: Request, response: HTTPResponse) -> None:
        for key, value in HEADERS.items():
            response.headers[key] = value
        if getattr(request.ctx, "runs_script", False):
            response.headers["Content-Security-Policy"] = SCRIPT_PAGE_CSP

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json({"status": "ok"})

    @app.get("/login")
    async def login_form(request: Request) -> HTTPResponse:
        if request.ctx.user:
            return redirect("/")
        token = secrets.token_urlsafe(32)
        response = html(pages.login_page(token))
        set_cookie(response, LOGIN_CSRF_COOKIE, token, 3600, request)
        return response

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        if not _csrf_ok(request.form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
            return html(pages.message_page("Form expired", "Reload the log-in page and try again."), status=403)
        username = (request.form.get("username") or "").strip()[:64]
        password = (request.form.get("password") or "")[:200]
        account, address = username.lower(), client_address(request)
        wait = max(accounts.locked_for(account), addresses.locked_for(address))
        if wait > 0:
            store.audit(username or "-", "login_locked_out", client_address(request))
            minutes = max(1, round(wait / 60))
            error = f"Too many failed log-ins. Try again in {minutes} minute(s)."
            page = pages.login_page(secrets.token_urlsafe(32), error=error)
            return html(page, status=429, headers={"Retry-After": str(int(wait) + 1)})
        # Counted before the check: parallel guesses get no extra tries.
        accounts.failed(account)
        addresses.failed(address)
        ok = bool(username) and await asyncio.to_thread(store.check_login, username, password)
        if not ok:
            store.audit(username or "-", "login_failed", client_address(request))
            await asyncio.sleep(FAILED_LOGIN_DELAY_S)  # slows password guessing
            token = secrets.token_urlsafe(32)
            response = html(pages.login_page(token, error="Wrong user name or password."), status=401)
            set_cookie(response, LOGIN_CSRF_COOKIE, token, 3600, request)
            return response
        accounts.succeeded(account)
        store.audit(username, "login", client_address(request))
        token, _ = store.open_session(username, minutes=config.session_minutes)
        response = redirect("/")
        set_cookie(response, SESSION_COOKIE, token, config.session_minutes * 60, request)
        del response.cookies[LOGIN_CSRF_COOKIE]
        return response

    @app.post("/logout")
    async def logout(request: Request) -> HTTPResponse:
        store.close_session(request.cookies.get(SESSION_COOKIE))
        response = redirect("/login")
        del response.cookies[SESSION_COOKIE]
        return response

    @app.get("/")
    async def index(request: Request) -> HTTPResponse:
        status = _choice(request.args.get("status"), STATUSES)
        reason = _choice(request.args.get("reason"), REASONS)
        urgent = request.args.get("urgent") == "1"
        records = store.list(status=status, reason=reason, urgent=True if urgent else None)
        filters = {"status": status, "reason": reason, "urgent": "1" if urgent else None}
        return html(pages.list_page(records, filters, user=request.ctx.user, csrf=request.ctx.csrf))

    @app.get("/escalations/<reference>")
    async def detail(request: Request, reference: str) -> HTTPResponse:
        return _detail(request, reference)

    @app.post("/escalations/<reference>/status")
    async def change_status(request: Request, reference: str) -> HTTPResponse:
        status = request.form.get("status")
        if status not in STATUSES:
            return _detail(request, reference, error=f"Choose one of: {', '.join(STATUSES)}.", status=400)
        try:
            store.set_status(reference, status, author=request.ctx.user)
        except EscalationNotFound:
            return _not_found(request)
        store.audit(request.ctx.user, f"status_{status}", _code(reference))
        return redirect(f"/escalations/{_code(reference)}")

    @app.post("/escalations/<reference>/notes")
    async def add_note(request: Request, reference: str) -> HTTPResponse:
        try:
            store.add_note(reference, request.form.get("text") or "", author=request.ctx.user)
        except EscalationNotFound:
            return _not_found(request)
        except ValueError as exc:
            return _detail(request, reference, error=str(exc), status=400)
        store.audit(request.ctx.user, "note_added", _code(reference))
        return redirect(f"/escalations/{_code(reference)}")

    def _detail(request: Request, reference: str, *, error: str | None = None, status: int = 200) -> HTTPResponse:
        try:
            record = store.get(reference)
        except EscalationNotFound:
            return _not_found(request)
        if request.method == "GET":
            store.audit(request.ctx.user, "record_viewed", record["reference"])
        return html(pages.detail_page(record, user=request.ctx.user, csrf=request.ctx.csrf, error=error), status=status)

    @app.get("/audit")
    async def audit(request: Request) -> HTTPResponse:
        if store.user_role(request.ctx.user) != "admin":
            page = pages.message_page("Admins only", "The audit log is for admins.", user=request.ctx.user, csrf=request.ctx.csrf)
            return html(page, status=403)
        store.audit(request.ctx.user, "audit_viewed")
        return html(pages.audit_page(store.audit_entries(), user=request.ctx.user, csrf=request.ctx.csrf))

    if desk is not None:
        add_routes(app, store, desk)
        add_analytics_routes(app, store, desk.tracker_engine)

    def _not_found(request: Request) -> HTTPResponse:
        page = pages.message_page(
            "Not found", "No escalation has this reference code.", user=request.ctx.user, csrf=request.ctx.csrf
        )
        return html(page, status=404)

    return app


def _over_https(request: Request) -> bool:
    if request.scheme == "https":
        return True
    return request.ip in ("127.0.0.1", "::1") and request.headers.get("x-forwarded-proto") == "https"


def _csrf_ok(sent: Any, expected: str | None) -> bool:
    return bool(sent) and bool(expected) and hmac.compare_digest(str(sent), str(expected))


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def _code(reference: str) -> str:
    return normalize_reference(reference) or "unknown"
