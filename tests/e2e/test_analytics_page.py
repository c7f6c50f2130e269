"""The "What patients ask" page and CSV after a scripted day of conversations on the real stack
(REST, Telegram and SMS through the real webhooks): the numbers move by exactly what the day
produced, as the trackers record it. A phone-sized screenshot: ``build/test-output/analytics/``.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator

import pytest

from mesoguide.client import LiveAssistant
from mesoguide.escalations.store import EscalationStore
from mesoguide.paths import REPO_ROOT
from mesoguide.stack import Stack
from tests.e2e.channel_clients import chat_id, phone_number, sms, telegram, twilio, update
from tests.support.axe import serious_violations
from tests.support.browser import chromium
from tests.support.staff_client import StaffClient

pytestmark = pytest.mark.e2e

SHOTS = REPO_ROOT / "build" / "test-output" / "analytics"
USER, PASSWORD = "clinic-lead", "a long analytics password"
# Two days: a run that crosses midnight (UTC) still sees the whole script.
PERIOD = "days=2"


@pytest.fixture(scope="module")
def lead(live_stack: Stack, store: EscalationStore) -> StaffClient:
    store.set_user(USER, PASSWORD)
    return StaffClient(live_stack.config.dashboard_port).login(USER, PASSWORD)


def numbers(staff: StaffClient) -> dict[tuple[str, str], float]:
    """The CSV's values summed over the period's days, by (section, key)."""
    reply = staff.get(f"/analytics.csv?{PERIOD}")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/csv")
    assert "attachment" in reply.headers["content-disposition"]
    totals: Counter[tuple[str, str]] = Counter()
    for row in csv.DictReader(io.StringIO(reply.text)):
        if row["section"] in ("conversations", "escalations", "answers", "fallbacks", "turns") and row["value"]:
            totals[(row["section"], row["key"])] += float(row["value"])
    return dict(totals)


def outcomes_after(live: LiveAssistant, sender: str, channel: str) -> list[str]:
    events = live.tracker(sender, channel)["events"]
    return [e["value"] for e in events if e["event"] == "slot" and e["name"] == "turn_outcome" and e["value"]]


def test_a_scripted_day_moves_the_numbers_by_what_it_produced(
    live: LiveAssistant, lead: StaffClient, store: EscalationStore
) -> None:
    before = numbers(lead)
    escalations_before = len(store.list())

    script = {
        ("rest", "analytics-1"): ["does mesotherapy hurt?", "how many sessions will I need?"],
        ("rest", "analytics-2"): ["do you sell gift vouchers for my sister's birthday?"],
    }
    for (_, sender), texts in script.items():
        for text in texts:
            live.say(sender, text)
    chat = chat_id()
    for text in ("how long is the downtime?", "I'm pregnant, can I still have it?"):
        assert telegram(live, update(chat, text=text)) == 200
    phone = phone_number()
    assert twilio(live, sms(phone, "do you do parking at the clinic? my number is 07700 900123")) == 204

    produced: Counter[str] = Counter()
    for (channel, sender), _texts in script.items():
        produced.update(outcomes_after(live, sender, channel))
    produced.update(outcomes_after(live, str(chat), "telegram"))
    produced.update(outcomes_after(live, phone, "twilio"))
    after = numbers(lead)

    def moved(section: str, key: str = "") -> float:
        return after.get((section, key), 0) - before.get((section, key), 0)

    assert [moved("conversations", channel) for channel in ("rest", "telegram", "twilio")] == [2, 1, 1]
    for outcome, count in produced.items():
        if outcome.startswith("answer:"):
            assert moved("answers", outcome.removeprefix("answer:")) == count, outcome
    assert moved("fallbacks") == produced["fallback"]
    assert moved("turns") == sum(produced.values())
    new_records = len(store.list()) - escalations_before
    assert sum(moved("escalations", key) for section, key in after if section == "escalations") == new_records
    assert produced["answer:pain"] == 1 and produced["escalate:contraindication"] == 1

    page = lead.get(f"/analytics?{PERIOD}")
    assert page.status == 200 and "<svg" in page.text and "<script" not in page.text
    assert "07700 900123" not in page.text and "07700 900123" not in lead.get(f"/analytics.csv?{PERIOD}").text
    if produced["fallback"]:
        assert "gift vouchers" in page.text or "parking" in page.text, "the questions that fell back are listed"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium(SHOTS) as launched:
        yield launched


def test_the_page_reads_on_a_phone(browser, live_stack: Stack, lead: StaffClient) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        page.goto(f"{live_stack.config.dashboard_url}/login")
        page.get_by_label("User name").fill(USER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="What patients ask").click()
        page.wait_for_selector("svg.chart")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, "no sideways scrolling on a phone"
        for svg in page.locator("svg.chart").all():
            assert svg.bounding_box()["width"] <= 390
        page.screenshot(path=str(SHOTS / "analytics-phone.png"), full_page=True)
        assert serious_violations(page) == []
    finally:
        context.close()
    assert not errors, f"console errors (a CSP violation shows here): {errors}"
