"""The website chat widget in Debian's Chromium (Playwright), against the real stack.

Open the demo clinic page, ask an FAQ, click a quick reply, see an escalation marked, see a
``<script>`` message shown as characters, reload and see the history, use it by keyboard and
on a phone-sized screen; nothing stored before the patient agrees; the typing indicator; a cut
connection and the reconnection; the clinic's numbers and links clickable and nothing else;
axe-core finds no serious or critical violation. Screenshots: ``build/test-output/widget/``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from mesoguide.client import LiveAssistant
from mesoguide.knowledge import KnowledgeBase
from mesoguide.language.replies import render_in
from mesoguide.paths import REPO_ROOT
from tests.support.axe import serious_violations
from tests.support.browser import chromium

pytestmark = pytest.mark.e2e


SHOTS = REPO_ROOT / "build" / "test-output" / "widget"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium(SHOTS) as launched:
        yield launched


@pytest.fixture
def page(browser, live: LiveAssistant):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live.config.widget_page_url)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_chat(page, *, keep: bool = True) -> None:
    """Open the chat; ``keep`` agrees to the conversation being kept on this device."""
    page.get_by_role("button", name="Chat: questions about mesotherapy").click()
    page.wait_for_selector("#mg-panel[data-ready=true]")
    if keep:
        page.get_by_role("button", name="Keep it").click()


def ask(page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")


def bot_text(page, text: str):
    """The bot bubble whose text is exactly ``text`` (waits for it)."""
    locator = page.locator(".mg-bot").filter(has=page.locator(".mg-text", has_text=re.compile("^" + re.escape(text) + "$")))
    locator.last.wait_for()
    return locator.last


def test_faq_quick_reply_escalation_script_and_reload(page, live: LiveAssistant, kb: KnowledgeBase) -> None:
    open_chat(page)
    bot_text(page, kb.render(kb.messages.disclaimer))

    ask(page, "does mesotherapy hurt?")
    answer = bot_text(page, kb.render(kb.topics["pain"].answer))
    page.screenshot(path=str(SHOTS / "1-faq-answer.png"))

    # Quick reply: the answer's first related topic.
    related = kb.topics[kb.topics["pain"].related[0]]
    answer.get_by_role("button", name=related.title).click()
    bot_text(page, kb.render(related.answer))
    assert page.locator(".mg-user .mg-text").last.text_content() == related.title

    ask(page, "I'm on warfarin, can I have mesotherapy?")
    escalation = bot_text(page, kb.render(kb.messages.escalation["contraindication"]))
    page.wait_for_selector(".mg-escalation[data-outcome='escalate:contraindication']")
    assert "mg-escalation" in escalation.get_attribute("class")
    assert "mg-urgent" not in escalation.get_attribute("class")
    page.screenshot(path=str(SHOTS / "2-escalation.png"))

    ask(page, "my cheek is leaking pus and I have a fever")
    urgent = bot_text(page, kb.render(kb.messages.escalation["red_flag"]))
    page.wait_for_selector(".mg-urgent[data-outcome='escalate:red_flag']")
    assert "mg-urgent" in urgent.get_attribute("class")
    assert urgent.locator(".mg-badge").text_content() == "Urgent"
    badge = urgent.locator(".mg-badge").bounding_box()
    log_box = page.locator(".mg-log").bounding_box()
    assert log_box["y"] <= badge["y"] < log_box["y"] + log_box["height"], "the urgent reply is shown from its start"
    page.screenshot(path=str(SHOTS / "3-urgent.png"))

    attack = "<script>window.__pwned = 1</script><b>bold</b><img src=x onerror=\"window.__pwned=2\">"
    ask(page, attack)
    page.locator(".mg-user .mg-text", has_text="<script>").last.wait_for()
    assert page.locator(".mg-user .mg-text").last.text_content() == attack
    # Its reply has come when the log ends with a bot bubble and the turn's outcome is recorded.
    page.wait_for_function("document.querySelector('.mg-log').lastElementChild.classList.contains('mg-bot')")
    session = page.evaluate("JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).sessionId")
    deadline = time.monotonic() + 30
    def user_turns() -> int:
        return len([e for e in live.tracker(session, "webchat")["events"] if e["event"] == "user"])

    while user_turns() < 5 or live.turn_outcome(session, "webchat") is None:
        assert time.monotonic() < deadline, "no reply to the <script> message"
        time.sleep(0.2)
    page.wait_for_timeout(500)  # the last parts of the reply reach the page
    assert page.locator(".mg-log b, .mg-log img, .mg-log script").count() == 0
    assert page.evaluate("window.__pwned") is None
    page.screenshot(path=str(SHOTS / "4-script-as-text.png"))

    session_id = page.evaluate("JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).sessionId")
    bubbles = page.locator(".mg-msg").count()
    page.reload()
    page.wait_for_selector("#mg-panel[data-ready=true]")  # it was open: it reopens
    assert page.locator(".mg-msg").count() == bubbles, "history survives the reload"
    assert page.locator(".mg-user .mg-text").last.text_content() == attack
    assert page.locator(".mg-urgent").count() >= 1, "escalations stay marked"
    ask(page, "how long is the downtime?")
    bot_text(page, kb.render(kb.topics["downtime"].answer))
    page.screenshot(path=str(SHOTS / "5-after-reload.png"))
    # Same conversation on the server: one tracker with every message, no second disclaimer.
    assert page.evaluate("JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).sessionId") == session_id
    events = live.tracker(session_id, "webchat")["events"]
    assert len([e for e in events if e["event"] == "user"]) == 6
    disclaimers = [e for e in events if e["event"] == "bot" and e["text"] == kb.render(kb.messages.disclaimer)]
    assert len(disclaimers) == 1
    assert live.turn_outcome(session_id, "webchat") == "answer:downtime"


def test_keyboard_and_screen_reader_labels(page, kb: KnowledgeBase) -> None:
    launcher = page.get_by_role("button", name="Chat: questions about mesotherapy")
    assert launcher.get_attribute("aria-expanded") == "false"
    launcher.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#mg-panel[data-ready=true]")
    assert page.evaluate("document.activeElement.id") == "mg-input"
    assert page.get_by_role("dialog", name="Mesotherapy questions").is_visible()
    assert page.get_by_role("log").get_attribute("aria-live") == "polite"
    bot_text(page, kb.render(kb.messages.disclaimer))
    page.keyboard.type("how long is the downtime?")
    page.keyboard.press("Enter")
    answer = bot_text(page, kb.render(kb.topics["downtime"].answer))
    # Tab reaches the quick replies; Enter on one sends it.
    answer.get_by_role("button").first.focus()
    title = answer.get_by_role("button").first.text_content()
    page.keyboard.press("Enter")
    page.locator(".mg-user .mg-text", has_text=title).last.wait_for()
    page.keyboard.press("Escape")
    assert page.locator("#mg-panel").is_hidden()
    assert page.evaluate("document.activeElement.className") == "mg-launcher"


def test_phone_sized_screen(browser, live: LiveAssistant, kb: KnowledgeBase) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(live.config.widget_page_url)
    open_chat(page)
    ask(page, "how many sessions for hair?")
    bot_text(page, kb.render(kb.topics["sessions"].variants["scalp"]))
    box = page.locator("#mg-panel").bounding_box()
    assert box["width"] <= 375 and box["height"] <= 667, box
    send = page.get_by_role("button", name="Send").bounding_box()
    assert send["x"] + send["width"] <= 375, "the send button is on screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "no sideways scrolling"
    page.screenshot(path=str(SHOTS / "6-phone.png"))
    context.close()


def test_reference_code_and_bot_html_shown_as_text(browser, live: LiveAssistant) -> None:
    """What the widget does with a stored escalation's reference and with markup in a bot text.

    The server sends ``reference: null`` until escalations are stored, so the reply is put into
    the widget's saved history (the same rendering path as a live reply) and the page reloaded.
    """
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(live.config.widget_page_url)
    open_chat(page)
    page.locator(".mg-bot").first.wait_for()  # the disclaimer: nothing more will come unasked
    html = '<img src=x onerror="window.__pwned=1"><b>not bold</b>'
    page.evaluate(
        """([html]) => {
            const key = Object.keys(localStorage)[0];
            const state = JSON.parse(localStorage.getItem(key));
            state.history.push({kind: "user", text: "question"});
            state.history.push({kind: "bot", text: "A clinician will call you.", buttons: []});
            state.history.push({kind: "bot", text: html, buttons: []});
            state.history.push({kind: "meta",
                                meta: {outcome: "escalate:contraindication", urgent: false, reference: "MG-7Q4K2"}});
            localStorage.setItem(key, JSON.stringify(state));
        }""",
        [html],
    )
    page.reload()
    page.wait_for_selector("#mg-panel[data-ready=true]")
    reference = page.locator(".mg-escalation .mg-reference")
    assert reference.text_content() == "Reference: MG-7Q4K2"
    assert page.locator(".mg-escalation").count() == 2, "both bubbles of the reply are marked"
    assert page.locator(".mg-bot .mg-text").last.text_content() == html
    assert page.locator(".mg-log img, .mg-log b").count() == 0
    assert page.evaluate("window.__pwned") is None
    page.screenshot(path=str(SHOTS / "7-reference.png"))
    context.close()


def _stored(page) -> dict:
    return page.evaluate("JSON.parse(localStorage.getItem(Object.keys(localStorage)[0]) || '{}')")


def test_clear_forgets_the_conversation_on_this_device(page, kb: KnowledgeBase) -> None:
    open_chat(page)
    bot_text(page, kb.render(kb.messages.disclaimer))
    ask(page, "I'm on warfarin, can I have it? my number is 07700 900123")
    bot_text(page, kb.render(kb.messages.escalation["contraindication"]))
    first = _stored(page)["sessionId"]
    page.get_by_role("button", name="Clear this conversation from this device and start a new one").click()
    bot_text(page, kb.render(kb.messages.disclaimer))  # a new conversation starts
    assert page.locator(".mg-user").count() == 0
    assert "warfarin" not in page.evaluate("JSON.stringify(localStorage)")
    page.get_by_role("button", name="Keep it").click()  # a new conversation asks again
    stored_id = "JSON.parse(localStorage.getItem(Object.keys(localStorage)[0]) || '{}').sessionId"
    page.wait_for_function(f"({stored_id} || '{first}') !== '{first}'")


def test_history_expires_after_the_configured_time(page, kb: KnowledgeBase) -> None:
    open_chat(page)
    bot_text(page, kb.render(kb.messages.disclaimer))
    ask(page, "does mesotherapy hurt?")
    bot_text(page, kb.render(kb.topics["pain"].answer))
    old = _stored(page)["sessionId"]
    # As if the last message was 25 hours ago (the default keeps history for 24).
    page.evaluate("(() => { const k = Object.keys(localStorage)[0]; const s = JSON.parse(localStorage.getItem(k));"
                  " s.savedAt = Date.now() - 25 * 3600 * 1000; localStorage.setItem(k, JSON.stringify(s)); })()")
    page.reload()
    open_chat(page)
    bot_text(page, kb.render(kb.messages.disclaimer))
    assert page.locator(".mg-user").count() == 0, "the old conversation is not shown"
    assert _stored(page)["sessionId"] != old


def test_arabic_reads_right_to_left_with_the_reply_in_arabic(browser, live: LiveAssistant, kb: KnowledgeBase) -> None:
    """An Arabic question and the Arabic safe reply read right to left, in the same panel as
    English left to right; the reply carries lang="ar" for screen readers. The browser's own
    language (ar-EG here) travels as the channel's hint."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ar-EG")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(live.config.widget_page_url)
    open_chat(page)
    question = "كم عدد الجلسات التي أحتاجها لتساقط الشعر؟"
    ask(page, question)
    reply = bot_text(page, render_in(kb, "ar", kb.languages["ar"].english_only))
    user = page.locator(".mg-user .mg-text", has_text=question).last

    def direction(locator) -> str:
        return locator.evaluate("node => getComputedStyle(node).direction")

    assert direction(user) == "rtl"
    assert direction(reply.locator(".mg-text")) == "rtl"
    # The reply's text and its meta (which carries the language) are two socket events: wait for
    # the second instead of reading the attribute the moment the text shows.
    expect(reply).to_have_attribute("lang", "ar", timeout=TIMEOUT_MS)
    box, panel = reply.locator(".mg-text").bounding_box(), page.locator(".mg-log").bounding_box()
    assert box["x"] + box["width"] > panel["x"] + panel["width"] / 2, "right-aligned text ends on the right"
    page.screenshot(path=str(SHOTS / "8-arabic-rtl.png"))
    ask(page, "how many sessions will I need?")
    english = bot_text(page, kb.render(kb.topics["sessions"].answer))
    assert direction(english.locator(".mg-text")) == "ltr" and english.get_attribute("lang") is None
    context.close()


# --- consent before storage ---------------------------------------------------------------------


def test_nothing_is_stored_before_the_patient_agrees(page, kb: KnowledgeBase) -> None:
    open_chat(page, keep=False)
    notice = page.get_by_role("group", name="Storage on this device")
    assert notice.is_visible() and "24 hours" in notice.text_content()
    bot_text(page, kb.render(kb.messages.disclaimer))
    ask(page, "I'm on warfarin, can I have it?")
    bot_text(page, kb.render(kb.messages.escalation["contraindication"]))
    assert page.evaluate("localStorage.length") == 0, "stored before the patient agreed"
    page.get_by_role("button", name="No, thanks").click()
    assert notice.is_hidden()
    ask(page, "does mesotherapy hurt?")
    bot_text(page, kb.render(kb.topics["pain"].answer))
    assert page.evaluate("localStorage.length") == 0, "stored although the patient said no"
    page.reload()
    open_chat(page, keep=False)
    bot_text(page, kb.render(kb.messages.disclaimer))
    assert page.locator(".mg-user").count() == 0, "a conversation not kept is gone after a reload"
    page.get_by_role("button", name="Keep it").click()
    stored = _stored(page)
    assert stored["consent"] is True and stored["sessionId"]
    assert len(stored["history"]) >= 1  # what was said before agreeing is kept from now on


# --- typing indicator and a dropped connection ---------------------------------------------------


def test_a_typing_indicator_shows_until_the_reply_comes(page, kb: KnowledgeBase) -> None:
    open_chat(page)
    bot_text(page, kb.render(kb.messages.disclaimer))
    assert page.locator(".mg-typing").is_hidden()
    # Record every change of the indicator: a fast reply may hide it before Playwright looks.
    page.evaluate(
        """() => { window.__typing = [];
            const node = document.querySelector('.mg-typing');
            new MutationObserver(() => window.__typing.push(!node.hidden))
              .observe(node, {attributes: true, attributeFilter: ['hidden']}); }"""
    )
    ask(page, "how long is the downtime?")
    bot_text(page, kb.render(kb.topics["downtime"].answer))
    assert page.evaluate("window.__typing")[0] is True, "shown when the message was sent"
    assert page.locator(".mg-typing").is_hidden(), "hidden when the reply came"
    assert page.get_by_role("status", include_hidden=True).filter(has_text="The assistant is writing a reply").count() == 1


def test_a_dropped_connection_is_shown_and_the_conversation_resumes(browser, live: LiveAssistant, kb: KnowledgeBase) -> None:
    from tests.support.cuttable_proxy import CuttableProxy

    proxy = CuttableProxy(target_port=live.config.rasa_port)
    proxy.start()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(live.config.widget_page_url.replace(f":{live.config.rasa_port}/", f":{proxy.port}/"))
        open_chat(page)
        bot_text(page, kb.render(kb.messages.disclaimer))
        session = _stored(page)["sessionId"]

        proxy.cut()
        page.wait_for_selector("#mg-panel:not([data-ready])")
        status = page.locator(".mg-status")
        assert status.text_content() == "Connection lost. Reconnecting ..."
        ask(page, "does mesotherapy hurt?")
        assert page.get_by_label("Your message").input_value() == "does mesotherapy hurt?", "kept, not lost"
        assert status.text_content().startswith("Not sent: there is no connection")
        assert page.locator(".mg-user").count() == 0
        page.screenshot(path=str(SHOTS / "9-connection-lost.png"))

        proxy.start()
        page.wait_for_selector("#mg-panel[data-ready=true]", timeout=20_000)
        assert status.text_content() == "Connected again."
        page.get_by_label("Your message").press("Enter")  # the message still in the box
        bot_text(page, kb.render(kb.topics["pain"].answer))
        assert _stored(page)["sessionId"] == session, "the same conversation"
        events = live.tracker(session, "webchat")["events"]
        disclaimers = [e for e in events if e["event"] == "bot" and e["text"] == kb.render(kb.messages.disclaimer)]
        assert len(disclaimers) == 1, "a reconnection does not start a new conversation"
    finally:
        context.close()
        proxy.cut()


# --- links -----------------------------------------------------------------------------------


def test_the_clinics_numbers_and_links_are_clickable_and_nothing_else(browser, live: LiveAssistant, kb: KnowledgeBase) -> None:
    from mesoguide.channels.webchat import phone_number_in

    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(live.config.widget_page_url)
    open_chat(page)
    ask(page, "I'm on warfarin, can I have it?")
    text = kb.render(kb.messages.escalation["contraindication"])
    escalation = bot_text(page, text)
    phone = phone_number_in(kb.clinic.phone)
    link = escalation.locator("a[href^='tel:']").first
    link.wait_for()
    assert link.text_content() == phone
    assert link.get_attribute("href") == "tel:" + "".join(ch for ch in phone if ch == "+" or ch.isdigit())
    assert escalation.locator(".mg-text").text_content() == text, "the text is shown exactly as written"

    booking = kb.clinic.booking_url
    foreign = "https://clinic.example.evil.test/book"
    sent = f"Book at {booking}. Not at {foreign} or http://clinic.example/plain, call 1999 or {phone}."
    page.evaluate(
        """([sent]) => {
            const key = Object.keys(localStorage)[0];
            const state = JSON.parse(localStorage.getItem(key));
            state.history.push({kind: "bot", text: sent, buttons: []});
            localStorage.setItem(key, JSON.stringify(state));
        }""",
        [sent],
    )
    page.reload()
    page.wait_for_selector("#mg-panel[data-ready=true]")
    bubble = page.locator(".mg-bot").filter(has_text="Book at").last
    bubble.locator("a[href^='https://']").first.wait_for()
    anchors = bubble.locator("a").evaluate_all("nodes => nodes.map(n => [n.textContent, n.getAttribute('href')])")
    assert anchors == [[booking, booking], [phone, "tel:" + "".join(ch for ch in phone if ch == "+" or ch.isdigit())]]
    assert bubble.locator(".mg-text").text_content() == sent
    assert bubble.locator("a").first.get_attribute("rel") == "noopener noreferrer"
    page.screenshot(path=str(SHOTS / "10-links.png"))
    context.close()


# --- accessibility (axe-core, from web/node_modules) ------------------------------------------

def test_no_serious_accessibility_violations_closed_open_and_escalated(page, kb: KnowledgeBase) -> None:
    found: dict[str, list[str]] = {}
    found["closed"] = serious_violations(page)
    open_chat(page, keep=False)
    bot_text(page, kb.render(kb.messages.disclaimer))
    found["open, storage notice shown"] = serious_violations(page)
    page.get_by_role("button", name="Keep it").click()
    ask(page, "my cheek is leaking pus and I have a fever")
    bot_text(page, kb.render(kb.messages.escalation["red_flag"]))
    page.wait_for_selector(".mg-urgent")
    ask(page, "I'm on warfarin, can I have it?")
    bot_text(page, kb.render(kb.messages.escalation["contraindication"]))
    page.wait_for_selector(".mg-escalation:not(.mg-urgent)")
    found["escalations shown"] = serious_violations(page)
    page.screenshot(path=str(SHOTS / "11-axe-escalations.png"))
    print("\naxe-core serious/critical violations: " + ", ".join(f"{k}: {len(v)}" for k, v in found.items()))
    assert not any(found.values()), found


def test_the_accessibility_check_sees_a_violation_when_there_is_one(page) -> None:
    page.evaluate("document.body.appendChild(Object.assign(document.createElement('img'), {src: 'data:,'}))")
    assert any(v.startswith("image-alt (critical)") for v in serious_violations(page))
