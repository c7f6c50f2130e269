"""A staff member's HTTP client of the real dashboard: log-in with the CSRF dance, a cookie,
the session's CSRF token on every form post."""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str
    set_cookies: list[str]

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class StaffClient:
    """Logs in to the dashboard at ``host:port`` and keeps the session."""

    port: int
    host: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    def request(self, method: str, path: str, *, form: dict[str, str] | None = None) -> Response:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=headers)
            reply = conn.getresponse()
            return Response(
                reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read().decode(),
                reply.headers.get_all("Set-Cookie") or [],
            )
        finally:
            conn.close()

    def login(self, username: str, password: str) -> StaffClient:
        page = self.request("GET", "/login")
        token = _CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        self.cookies["mg_login_csrf"] = re.search(r"mg_login_csrf=([^;]+)", page.set_cookies[0]).group(1)  # type: ignore[union-attr]
        reply = self.request("POST", "/login", form={"csrf_token": token, "username": username, "password": password})
        assert reply.status == 302, f"log-in failed: {reply.status}"
        session = next(c for c in reply.set_cookies if c.startswith("mg_session="))
        self.cookies = {"mg_session": re.search(r"mg_session=([^;]+)", session).group(1)}  # type: ignore[union-attr]
        self.csrf = _CSRF.search(self.request("GET", "/").text).group(1)  # type: ignore[union-attr]
        return self

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Response:
        return self.request("POST", path, form={"csrf_token": self.csrf, **form})
