"""The staff dashboard as a real process on loopback: HTTP-level security checks and a real
browser (Playwright driving Debian's Chromium) that logs in and changes a status.

Screenshots: build/test-output/dashboard/.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from mesoguide.escalations import models as m
from mesoguide.escalations.store import EscalationStore
from mesoguide.paths import REPO_ROOT
from mesoguide.stack import free_port

SHOTS = REPO_ROOT / "build" / "test-output" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
USER, PASSWORD = "nurse", "a long staff password"
EXCERPT = 'patient: <script>alert("x")</script> I am pregnant, is it ok?'


@dataclass
class Dashboard:
    port: int
    store: EscalationStore
    reference: str
    url: str


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    directory = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{directory / 'escalations.db'}"
    store = EscalationStore(url=url)
    store.set_user(USER, PASSWORD)
    reference = store.record(
        m.NewEscalation(
            conversation_id="patient-1",
            channel="rest",
            reason="contraindication",
            urgent=False,
            terms=["contraindication:pregnancy"],
            excerpt=EXCERPT,
        )
    )["reference"]
    port = free_port()
    env = {**os.environ, "MESOGUIDE_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    log = open(directory / "dashboard.log", "wb")  # noqa: SIM115 - the dashboard process writes to it until it stops
    proc = subprocess.Popen(
        [sys.executable, "-m", "mesoguide.dashboard", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(port, "GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, (directory / "dashboard.log").read_text()
            assert time.monotonic() < deadline, "dashboard did not start"
            time.sleep(0.3)
        yield Dashboard(port=port, store=store, reference=reference, url=f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
        store.dispose()


def request(
    port: int, method: str, path: str, *, form: dict | None = None, cookies: dict | None = None
) -> tuple[int, dict, str, list[str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode()
    result = response.status, {k.lower(): v for k, v in response.getheaders()}, text, response.headers.get_all("Set-Cookie") or []
    conn.close()
    return result


def login(dash: Dashboard) -> tuple[str, str]:
    """Logs in over HTTP; returns (session cookie, CSRF token of the session)."""
    _, _, page, set_cookies = request(dash.port, "GET", "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    pre = re.search(r"mg_login_csrf=([^;]+)", set_cookies[0]).group(1)
    status, headers, _, set_cookies = request(
        dash.port,
        "POST",
        "/login",
        form={"csrf_token": token, "username": USER, "password": PASSWORD},
        cookies={"mg_login_csrf": pre},
    )
    assert status == 302 and headers["location"] == "/"
    session_cookie = next(c for c in set_cookies if c.startswith("mg_session="))
    session = re.search(r"mg_session=([^;]+)", session_cookie).group(1)
    _, _, page, _ = request(dash.port, "GET", "/", cookies={"mg_session": session})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return session, csrf


def test_no_page_without_login(dashboard: Dashboard) -> None:
    for path in ("/", f"/escalations/{dashboard.reference}", "/?status=open"):
        status, headers, _, _ = request(dashboard.port, "GET", path)
        assert (status, headers.get("location")) == (302, "/login"), path
    status, _, _, _ = request(dashboard.port, "POST", f"/escalations/{dashboard.reference}/status", form={"status": "resolved"})
    assert status == 401
    assert dashboard.store.get(dashboard.reference)["status"] == "open"


def test_login_needs_the_right_password_and_a_csrf_token(dashboard: Dashboard) -> None:
    _, _, page, set_cookies = request(dashboard.port, "GET", "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    pre = re.search(r"mg_login_csrf=([^;]+)", set_cookies[0]).group(1)
    status, _, page, _ = request(
        dashboard.port,
        "POST",
        "/login",
        form={"csrf_token": token, "username": USER, "password": "wrong password!"},
        cookies={"mg_login_csrf": pre},
    )
    assert status == 401 and "Wrong user name or password" in page
    status, _, _, _ = request(
        dashboard.port,
        "POST",
        "/login",
        form={"csrf_token": "forged", "username": USER, "password": PASSWORD},
        cookies={"mg_login_csrf": pre},
    )
    assert status == 403


def test_session_cookie_flags_headers_and_csrf_on_every_post(dashboard: Dashboard) -> None:
    _, _, page, set_cookies = request(dashboard.port, "GET", "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    pre = re.search(r"mg_login_csrf=([^;]+)", set_cookies[0]).group(1)
    _, _, _, set_cookies = request(
        dashboard.port,
        "POST",
        "/login",
        form={"csrf_token": token, "username": USER, "password": PASSWORD},
        cookies={"mg_login_csrf": pre},
    )
    cookie = next(c for c in set_cookies if c.startswith("mg_session=")).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=28800" in cookie and "path=/" in cookie
    session, csrf = login(dashboard)
    status, headers, _, _ = request(dashboard.port, "GET", "/", cookies={"mg_session": session})
    assert (
        status == 200
        and "script-src" not in headers["content-security-policy"]
        and "default-src 'none'" in headers["content-security-policy"]
    )
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
    path = f"/escalations/{dashboard.reference}/notes"
    assert request(dashboard.port, "POST", path, form={"text": "no token"}, cookies={"mg_session": session})[0] == 403
    assert (
        request(
            dashboard.port, "POST", path, form={"text": "bad token", "csrf_token": "x" + csrf}, cookies={"mg_session": session}
        )[0]
        == 403
    )
    assert (
        request(
            dashboard.port, "POST", path, form={"text": "<i>with token</i>", "csrf_token": csrf}, cookies={"mg_session": session}
        )[0]
        == 302
    )
    texts = [n["text"] for n in dashboard.store.get(dashboard.reference)["notes"]]
    assert "<i>with token</i>" in texts and "no token" not in texts and "bad token" not in texts
    _, _, page, _ = request(dashboard.port, "GET", f"/escalations/{dashboard.reference}", cookies={"mg_session": session})
    assert "&lt;i&gt;with token&lt;/i&gt;" in page and "<i>with token</i>" not in page


def test_an_expired_session_is_sent_back_to_login(dashboard: Dashboard) -> None:
    session, _ = login(dashboard)
    with dashboard.store.engine.begin() as conn:
        conn.execute(m.staff_sessions.update().values(expires_at=m.utcnow() - dt.timedelta(seconds=1)))
    status, headers, _, _ = request(dashboard.port, "GET", "/", cookies={"mg_session": session})
    assert (status, headers.get("location")) == (302, "/login")


@pytest.mark.browser
def test_browser_logs_in_and_changes_a_status(dashboard: Dashboard) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"{dashboard.url}/escalations/{dashboard.reference}")
            assert page.url.endswith("/login"), "the detail page needs a login"
            page.screenshot(path=str(SHOTS / "01-login.png"))
            page.fill("input[name=username]", USER)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{dashboard.url}/")
            assert page.locator(f"text={dashboard.reference}").count() == 1
            page.screenshot(path=str(SHOTS / "02-list.png"))
            page.click(f"text={dashboard.reference}")
            page.wait_for_url(f"**/escalations/{dashboard.reference}")
            assert '<script>alert("x")</script>' in page.inner_text(".excerpt"), "shown as text, not run"
            page.select_option("select[name=status]", "contacted")
            page.click("text=Change status")
            page.wait_for_load_state()
            assert page.inner_text("#status") == "contacted"
            page.fill("textarea[name=text]", "Called the patient, booked a consultation.")
            page.click("text=Add note")
            page.wait_for_load_state()
            assert "Called the patient, booked a consultation." in page.content()
            page.screenshot(path=str(SHOTS / "03-detail-contacted.png"), full_page=True)
            page.goto(f"{dashboard.url}/?status=contacted")
            assert page.locator(f"text={dashboard.reference}").count() == 1
            page.click("text=Log out")
            page.wait_for_url("**/login")
            page.goto(f"{dashboard.url}/")
            assert page.url.endswith("/login"), "logged out means logged out"
        finally:
            browser.close()
    assert dialogs == [], "no script from patient text ran"
    record = dashboard.store.get(dashboard.reference)
    assert record["status"] == "contacted"
    assert any(n["author"] == USER and n["text"] == "status: open -> contacted" for n in record["notes"])
    assert all((SHOTS / name).stat().st_size > 1000 for name in ("01-login.png", "02-list.png", "03-detail-contacted.png"))


def _login_attempt(dash: Dashboard, username: str, password: str, address: str) -> int:
    _, _, page, set_cookies = request(dash.port, "GET", "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    pre = re.search(r"mg_login_csrf=([^;]+)", set_cookies[0]).group(1)
    conn = http.client.HTTPConnection("127.0.0.1", dash.port, timeout=30)
    body = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": password})
    conn.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"mg_login_csrf={pre}", "X-Real-IP": address})
    status = conn.getresponse().status
    conn.close()
    return status


def test_failed_logins_lock_the_account_for_a_while(dashboard: Dashboard) -> None:
    dashboard.store.set_user("locked-nurse", PASSWORD)
    statuses = [_login_attempt(dashboard, "locked-nurse", "wrong password!", "203.0.113.7") for _ in range(5)]
    assert statuses == [401] * 5
    assert _login_attempt(dashboard, "locked-nurse", PASSWORD, "198.51.100.9") == 429, "locked, even from elsewhere"
    actions = [(e["actor"], e["action"]) for e in dashboard.store.audit_entries()]
    assert ("locked-nurse", "login_failed") in actions and ("locked-nurse", "login_locked_out") in actions


def test_a_disabled_user_cannot_log_in_and_a_new_password_ends_sessions(dashboard: Dashboard) -> None:
    dashboard.store.set_user("leaver", PASSWORD)
    assert _login_attempt(dashboard, "leaver", PASSWORD, "192.0.2.10") == 302
    dashboard.store.disable_user("leaver")
    assert _login_attempt(dashboard, "leaver", PASSWORD, "192.0.2.10") == 401
    session, _ = login(dashboard)
    assert request(dashboard.port, "GET", "/", cookies={"mg_session": session})[0] == 200
    dashboard.store.set_user(USER, PASSWORD)  # a password change
    assert request(dashboard.port, "GET", "/", cookies={"mg_session": session})[0] == 302, "the old session is gone"


def test_admins_read_the_audit_log_staff_do_not(dashboard: Dashboard) -> None:
    session, _ = login(dashboard)
    request(dashboard.port, "GET", f"/escalations/{dashboard.reference}", cookies={"mg_session": session})
    assert request(dashboard.port, "GET", "/audit", cookies={"mg_session": session})[0] == 403
    dashboard.store.set_user(USER, PASSWORD, role="admin")
    session, _ = login(dashboard)
    status, _, page, _ = request(dashboard.port, "GET", "/audit", cookies={"mg_session": session})
    assert status == 200 and "record_viewed" in page and dashboard.reference in page and "login" in page
    assert "pregnant" not in page, "the audit log names records, never what patients wrote"
    dashboard.store.set_user(USER, PASSWORD, role="staff")


def test_cookies_are_secure_when_served_over_https(dashboard: Dashboard) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", dashboard.port, timeout=10)
    conn.request("GET", "/login", headers={"X-Forwarded-Proto": "https"})
    response = conn.getresponse()
    response.read()
    assert "secure" in (response.headers.get("Set-Cookie") or "").lower()
    conn.close()
