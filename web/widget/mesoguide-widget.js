/*
 * MesoGuide chat widget: a small, dependency-free widget for the Rasa socket.io channel
 * (mesoguide/channels/webchat.py). Embed with one tag:
 *
 *   <script src="https://ASSISTANT-HOST/webhooks/webchat/widget.js" defer></script>
 *
 * Why our own widget and not an npm one: rasa-webchat (1.0.1) is React 16 + redux, renders
 * bot text through react-markdown (so the text is interpreted, not shown as typed), and shows
 * custom payloads only through a custom React component build; @rasahq/chat-widget-ui is not
 * on the npm registry. Safety needs every bot text shown as text and escalations shown
 * distinctly, which is ~300 lines of plain JS. Only the socket.io client comes from npm
 * (web/node_modules), served by the Rasa server itself: no CDN at run time.
 *
 * Rules this file keeps:
 * - every bot or user text goes into the page with textContent, never innerHTML;
 * - escalations (custom payload {"mesoguide": {outcome, urgent, reference}}) are marked,
 *   urgent ones most visibly, with the reference code when the server sends one;
 * - the conversation survives a reload (session id + history in localStorage; the server
 *   keeps the tracker through socket.io session persistence), for data-history-hours (24 by
 *   default) after the last message only: the history can hold health details and callback
 *   details on a shared computer. "Clear" forgets it at once and starts a new conversation;
 * - keyboard: everything is a real button or input; Escape closes; screen readers get a
 *   labelled dialog and a polite live log.
 */
(function () {
  "use strict";
  if (window.MesoGuideWidget) return;

  var script = document.currentScript;
  var scriptUrl = new URL(script ? script.src : "/webhooks/webchat/widget.js", window.location.href);
  var base = scriptUrl.href.replace(/widget\.js(\?.*)?$/, "");
  var server = (script && script.getAttribute("data-server")) || scriptUrl.origin;
  var title = (script && script.getAttribute("data-title")) || "Mesotherapy questions";
  var STORE = "mesoguide-widget:" + server;
  var MAX_HISTORY = 200;
  var MAX_INPUT = 2000;
  var historyHours = Number((script && script.getAttribute("data-history-hours")) || 24);
  var HISTORY_MS = (isFinite(historyHours) && historyHours >= 0 ? historyHours : 24) * 3600 * 1000;

  // Interface wording only; what the assistant says comes from the server (knowledge/).
  var LABEL = {
    open: "Chat: questions about mesotherapy",
    close: "Close the chat",
    clear: "Clear this conversation from this device and start a new one",
    input: "Your message",
    send: "Send",
    log: "Conversation",
    urgent: "Urgent",
    escalated: "Passed to the clinic team",
    reference: "Reference: ",
    offline: "Connecting to the assistant ...",
    you: "You said: ",
    bot: "Assistant: ",
  };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORE) || "{}");
      if (!saved.savedAt || Date.now() - saved.savedAt > HISTORY_MS) {
        window.localStorage.removeItem(STORE);  // expired: a new conversation, nothing shown
        return { sessionId: null, history: [], open: false };
      }
      return { sessionId: saved.sessionId || null, history: Array.isArray(saved.history) ? saved.history : [], open: !!saved.open };
    } catch (e) {
      return { sessionId: null, history: [], open: false };
    }
  }
  var state = load();
  function save() {
    try {
      state.history = state.history.slice(-MAX_HISTORY);
      state.savedAt = Date.now();
      window.localStorage.setItem(STORE, JSON.stringify(state));
    } catch (e) { /* private mode or full: the chat still works, only without history */ }
  }

  // --- DOM ------------------------------------------------------------------------------
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = base + "widget.css";
  document.head.appendChild(css);

  var root = el("div", "mg-root");
  var launcher = el("button", "mg-launcher", "Questions? Chat with us");
  launcher.type = "button";
  launcher.setAttribute("aria-label", LABEL.open);
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "mg-panel");

  var panel = el("section", "mg-panel");
  panel.id = "mg-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var header = el("div", "mg-header");
  var heading = el("h2", "mg-title", title);
  var closer = el("button", "mg-close", "\u00d7");
  closer.type = "button";
  closer.setAttribute("aria-label", LABEL.close);
  var clearer = el("button", "mg-clear", "Clear");
  clearer.type = "button";
  clearer.setAttribute("aria-label", LABEL.clear);
  header.appendChild(heading);
  header.appendChild(clearer);
  header.appendChild(closer);

  var log = el("div", "mg-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", LABEL.log);
  log.tabIndex = 0;

  var status = el("p", "mg-status", LABEL.offline);
  status.setAttribute("role", "status");

  var form = el("form", "mg-form");
  var inputId = "mg-input";
  var label = el("label", "mg-visually-hidden", LABEL.input);
  label.htmlFor = inputId;
  var input = el("input", "mg-input");
  input.id = inputId;
  input.type = "text";
  input.autocomplete = "off";
  input.maxLength = MAX_INPUT;
  input.placeholder = "Type your question";
  var send = el("button", "mg-send", LABEL.send);
  send.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);

  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(status);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);

  // --- rendering (textContent only) ------------------------------------------------------
  var replyGroup = []; // bot bubbles since the patient's last message (one reply)

  // dir="auto": each text takes the direction of its first strong letter, so Arabic reads right
  // to left and English left to right in the same conversation.
  function textOf(text) {
    var span = el("span", "mg-text", text);
    span.setAttribute("dir", "auto");
    return span;
  }

  function renderUser(text) {
    var bubble = el("div", "mg-msg mg-user");
    bubble.appendChild(el("span", "mg-visually-hidden", LABEL.you));
    bubble.appendChild(textOf(text));
    log.appendChild(bubble);
    replyGroup = [];
    scroll();
  }

  function renderBot(entry, live) {
    var bubble = el("div", "mg-msg mg-bot");
    bubble.appendChild(el("span", "mg-visually-hidden", LABEL.bot));
    bubble.appendChild(textOf(entry.text));
    log.appendChild(bubble);
    replyGroup.push(bubble);
    if (entry.buttons && entry.buttons.length) {
      var row = el("div", "mg-quick-replies");
      row.setAttribute("role", "group");
      row.setAttribute("aria-label", "Suggested questions");
      entry.buttons.forEach(function (b) {
        var btn = el("button", "mg-quick-reply", b.title);
        btn.type = "button";
        btn.disabled = !live;
        btn.addEventListener("click", function () {
          disableQuickReplies();
          sendMessage(b.payload, b.title);
          input.focus(); // the disabled button would drop keyboard focus to the page
        });
        row.appendChild(btn);
      });
      bubble.appendChild(row);
    }
    scroll();
  }

  function renderMeta(meta) {
    // Marks the reply just received: its text bubbles came first, the payload last.
    if (!meta || typeof meta.outcome !== "string") return;
    var targets = replyGroup.length ? replyGroup : [log.lastElementChild].filter(Boolean);
    var lang = replyLanguage(meta);
    if (lang) {
      // Screen readers pronounce a Turkish or Arabic reply in its own language.
      targets.forEach(function (bubble) { bubble.setAttribute("lang", lang); });
    }
    if (meta.outcome.indexOf("escalate:") !== 0) return;
    targets.forEach(function (bubble) {
      bubble.classList.add("mg-escalation");
      if (meta.urgent) bubble.classList.add("mg-urgent");
      bubble.setAttribute("data-outcome", meta.outcome);
    });
    var first = targets[0];
    if (first && !first.querySelector(".mg-badge")) {
      var badge = el("strong", "mg-badge", meta.urgent ? LABEL.urgent : LABEL.escalated);
      first.insertBefore(badge, first.firstChild);
    }
    var last = targets[targets.length - 1];
    if (last && meta.reference && !last.querySelector(".mg-reference")) {
      last.appendChild(el("p", "mg-reference", LABEL.reference + meta.reference));
    }
    // A long urgent reply must be read from its start (the badge and "call now"), not its end.
    if (meta.urgent && first) log.scrollTop = Math.max(0, first.offsetTop - log.offsetTop - 8);
  }

  function disableQuickReplies() {
    var old = log.querySelectorAll(".mg-quick-reply");
    for (var i = 0; i < old.length; i++) old[i].disabled = true;
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  // Forget the conversation on this device and ask the server for a new one (the disclaimer
  // comes again). The server's copy follows the clinic's retention period.
  function clearConversation() {
    try { window.localStorage.removeItem(STORE); } catch (e) { /* nothing stored */ }
    state = { sessionId: null, history: [], open: true };
    while (log.firstChild) log.removeChild(log.firstChild);
    if (socket && socket.connected) socket.emit("session_request", { session_id: null });
    input.focus();
  }

  function replay() {
    state.history.forEach(function (entry, i) {
      if (entry.kind === "user") renderUser(entry.text);
      else if (entry.kind === "bot") renderBot(entry, i === state.history.length - 1);
      else if (entry.kind === "meta") renderMeta(entry.meta);
    });
  }

  // --- socket ----------------------------------------------------------------------------
  var socket = null;

  function connect() {
    if (socket) return;
    if (!window.io) {
      var loader = document.createElement("script");
      loader.src = base + "socket.io.min.js";
      loader.onload = connect;
      document.head.appendChild(loader);
      return;
    }
    socket = window.io(server, { transports: ["websocket", "polling"] });
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      state.sessionId = typeof sessionId === "string" ? sessionId : (sessionId && sessionId.session_id) || state.sessionId;
      save();
      status.textContent = "";
      panel.setAttribute("data-ready", "true");
    });
    socket.on("disconnect", function () { status.textContent = LABEL.offline; panel.removeAttribute("data-ready"); });
    socket.on("bot_uttered", onBot);
  }

  function onBot(data) {
    if (!data || typeof data !== "object") return;
    var meta = data.custom && data.custom.mesoguide;
    if (meta) {
      state.history.push({ kind: "meta", meta: meta });
      renderMeta(meta);
    }
    if (typeof data.text === "string" && data.text !== "") {
      var buttons = (data.quick_replies || data.buttons || []).filter(function (b) {
        return b && typeof b.title === "string" && typeof b.payload === "string";
      }).map(function (b) { return { title: b.title, payload: b.payload }; });
      var entry = { kind: "bot", text: data.text, buttons: buttons };
      state.history.push(entry);
      renderBot(entry, true);
    }
    save();
  }

  function replyLanguage(meta) {
    return typeof meta.language === "string" && /^[a-z]{2}$/.test(meta.language) ? meta.language : null;
  }

  // The browser's language is a hint for telling close languages apart; it never overrides
  // what the patient actually wrote (mesoguide/language/README.md).
  function browserLanguage() {
    var lang = (navigator.languages && navigator.languages[0]) || navigator.language || "";
    return /^[A-Za-z]{2,3}(-[A-Za-z0-9]+)*$/.test(lang) ? lang : "";
  }

  function sendMessage(message, shown) {
    if (!socket || !state.sessionId) return false;
    var text = shown || message;
    state.history.push({ kind: "user", text: text });
    save();
    renderUser(text);
    var metadata = browserLanguage() ? { language: browserLanguage() } : {};
    socket.emit("user_uttered", { message: message, session_id: state.sessionId, metadata: metadata });
    return true;
  }

  // --- behaviour -------------------------------------------------------------------------
  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.hidden = open;
    state.open = open;
    save();
    if (open) { connect(); input.focus(); } else { launcher.focus(); }
  }

  launcher.addEventListener("click", function () { setOpen(true); });
  closer.addEventListener("click", function () { setOpen(false); });
  clearer.addEventListener("click", clearConversation);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    if (sendMessage(text.slice(0, MAX_INPUT))) { input.value = ""; disableQuickReplies(); }
  });

  function mount() {
    document.body.appendChild(root);
    replay();
    if (state.open) setOpen(true);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  window.MesoGuideWidget = { open: function () { setOpen(true); }, close: function () { setOpen(false); } };
})();
