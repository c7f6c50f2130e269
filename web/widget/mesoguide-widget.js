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
 * - nothing is stored in the browser until the patient agrees to it (a short notice in the
 *   panel): the history can hold health details and callback details on a shared computer.
 *   With consent, the conversation survives a reload (session id + history in localStorage;
 *   the server keeps the tracker through socket.io session persistence) for data-history-hours
 *   (24 by default) after the last message, then it is forgotten. Without consent it lives in
 *   the page only. "Clear" forgets it at once and starts a new conversation;
 * - while a reply is on its way a typing indicator shows; a dropped connection is said in the
 *   panel, socket.io reconnects to the same conversation, and a message typed meanwhile stays in
 *   the input box instead of being lost;
 * - the clinic's phone numbers become tel: links and https links to the clinic's own domains
 *   become links (both from widget-config.json, i.e. clinic.yml); every other character is
 *   shown exactly as the server sent it;
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
  if (!isFinite(historyHours) || historyHours < 0) historyHours = 24;
  var HISTORY_MS = historyHours * 3600 * 1000;
  var SLOW_REPLY_MS = 20000;

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
    lost: "Connection lost. Reconnecting ...",
    back: "Connected again.",
    notSent: "Not sent: there is no connection yet. Your message is still in the box; send it again when connected.",
    typing: "The assistant is writing a reply",
    slow: "The reply is taking longer than usual. If nothing comes, please send your message again or call the clinic.",
    consent: "Keep this conversation on this device? It would be stored in this browser for {hours} so it stays after a page reload, then deleted. Nothing is stored unless you agree.",
    keep: "Keep it",
    dontKeep: "No, thanks",
    you: "You said: ",
    bot: "Assistant: ",
    staffSays: " from the clinic: ",
    staffWillReply: "Your message was sent. {name} from the clinic will reply here.",
  };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function fresh() { return { sessionId: null, history: [], open: false, consent: null }; }

  function load() {
    try {
      var raw = window.localStorage.getItem(STORE);
      if (raw === null) return fresh();
      var saved = JSON.parse(raw || "{}");
      if (saved.consent !== true || !saved.savedAt || Date.now() - saved.savedAt > HISTORY_MS) {
        window.localStorage.removeItem(STORE);  // expired or never agreed to: nothing shown
        return fresh();
      }
      return {
        sessionId: saved.sessionId || null, history: Array.isArray(saved.history) ? saved.history : [], open: !!saved.open, consent: true,
        staff: typeof saved.staff === "string" ? saved.staff : null,
      };
    } catch (e) {
      return fresh();
    }
  }
  var state = load();
  // Only with the patient's consent; otherwise the conversation lives in this page only.
  function save() {
    state.history = state.history.slice(-MAX_HISTORY);
    if (state.consent !== true) return;
    try {
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

  // The typing indicator: three dots for the eye, one sentence for a screen reader.
  var typing = el("div", "mg-typing");
  typing.hidden = true;
  typing.setAttribute("role", "status");
  var dots = el("span", "mg-dots");
  dots.setAttribute("aria-hidden", "true");
  for (var d = 0; d < 3; d++) dots.appendChild(el("span", "mg-dot"));
  typing.appendChild(dots);
  typing.appendChild(el("span", "mg-visually-hidden", LABEL.typing));

  // Asked once per conversation, before anything is written to the browser's storage.
  var consent = el("div", "mg-consent");
  consent.setAttribute("role", "group");
  consent.setAttribute("aria-label", "Storage on this device");
  var hoursText = historyHours === 1 ? "1 hour" : historyHours + " hours";
  consent.appendChild(el("p", "mg-consent-text", LABEL.consent.replace("{hours}", hoursText)));
  var keep = el("button", "mg-consent-keep", LABEL.keep);
  keep.type = "button";
  var dontKeep = el("button", "mg-consent-no", LABEL.dontKeep);
  dontKeep.type = "button";
  consent.appendChild(keep);
  consent.appendChild(dontKeep);
  consent.hidden = state.consent !== null;

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
  panel.appendChild(consent);
  panel.appendChild(log);
  panel.appendChild(typing);
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

  // --- links: the clinic's phone numbers and its own https links, nothing else ---------
  var links = { phones: [], domains: [] };

  function escapeRegExp(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  function allowedUrl(url) {
    try {
      var u = new URL(url);
      if (u.protocol !== "https:") return false;
      var host = u.hostname.toLowerCase();
      return links.domains.some(function (d) { return host === d || host.slice(-(d.length + 1)) === "." + d; });
    } catch (e) { return false; }
  }

  // Splits a bot text into text nodes and <a> elements; the characters shown are the text's own.
  function linkedText(text) {
    var span = el("span", "mg-text");
    span.setAttribute("dir", "auto");
    // A known number, not part of a longer run of digits.
    var parts = links.phones.filter(Boolean).map(function (p) { return "(?<![\\d+])" + escapeRegExp(p) + "(?!\\d)"; });
    parts.push("https://[^\\s<>\"']+");
    var pattern = new RegExp(parts.map(function (p) { return "(" + p + ")"; }).join("|"), "g");
    var last = 0;
    var m;
    while ((m = pattern.exec(text)) !== null) {
      var found = m[0];
      var href = null;
      if (found.indexOf("https://") === 0) {
        found = found.replace(/[.,;:!?)\]]+$/, "");  // a sentence's own punctuation is not the link's
        if (allowedUrl(found)) href = found;
      } else {
        href = "tel:" + found.replace(/[^+\d]/g, "");
      }
      if (!href) { pattern.lastIndex = m.index + Math.max(found.length, 1); continue; }
      if (m.index > last) span.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = el("a", "mg-link", found);
      a.href = href;
      if (href.indexOf("https://") === 0) { a.target = "_blank"; a.rel = "noopener noreferrer"; }
      span.appendChild(a);
      last = m.index + found.length;
      pattern.lastIndex = last;
    }
    if (last < text.length) span.appendChild(document.createTextNode(text.slice(last)));
    return span;
  }

  function loadLinks() {
    if (!window.fetch) return;
    window.fetch(base + "widget-config.json", { credentials: "omit" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (cfg) {
      if (!cfg) return;
      links.phones = (cfg.phones || []).filter(function (p) { return typeof p === "string" && /\d/.test(p); });
      links.domains = (cfg.link_domains || []).filter(function (d) { return typeof d === "string" && d; })
        .map(function (d) { return d.toLowerCase(); });
      relink();
    }).catch(function () { /* links stay text: nothing else changes */ });
  }

  // Bot bubbles rendered before the configuration arrived get their links now.
  function relink() {
    var texts = log.querySelectorAll(".mg-bot > .mg-text");
    for (var i = 0; i < texts.length; i++) {
      var linked = linkedText(texts[i].textContent);
      if (texts[i].getAttribute("lang")) linked.setAttribute("lang", texts[i].getAttribute("lang"));
      texts[i].parentNode.replaceChild(linked, texts[i]);
    }
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
    if (entry.staff) {
      // A person from the clinic wrote this (staff dashboard): their name, seen and read out.
      bubble.classList.add("mg-staff");
      var name = el("strong", "mg-staff-name", entry.staff);
      name.appendChild(el("span", "mg-visually-hidden", LABEL.staffSays));
      bubble.appendChild(name);
    } else {
      bubble.appendChild(el("span", "mg-visually-hidden", LABEL.bot));
    }
    bubble.appendChild(linkedText(entry.text));
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
          if (!sendMessage(b.payload, b.title)) return;  // offline: the buttons stay usable
          disableQuickReplies();
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
    state = { sessionId: null, history: [], open: true, consent: null };
    consent.hidden = false;  // a new conversation: asked again before anything is stored
    showTyping(false);
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
    // socket.io reconnects by itself (growing delays); each connection asks for the same session.
    socket = window.io(server, { transports: ["websocket", "polling"], reconnectionDelayMax: 5000 });
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      state.sessionId = typeof sessionId === "string" ? sessionId : (sessionId && sessionId.session_id) || state.sessionId;
      save();
      status.textContent = wasLost ? LABEL.back : "";
      if (wasLost) window.setTimeout(function () { if (status.textContent === LABEL.back) status.textContent = ""; }, 4000);
      wasLost = false;
      panel.setAttribute("data-ready", "true");
    });
    socket.on("disconnect", lost);
    socket.on("connect_error", lost);
    socket.on("bot_uttered", onBot);
  }

  var wasLost = false;
  function lost() {
    wasLost = true;
    status.textContent = LABEL.lost;
    panel.removeAttribute("data-ready");
    showTyping(false);  // a reply sent while the line was down does not come: say so, do not spin
  }

  // --- typing indicator ------------------------------------------------------------------
  var slowTimer = null;
  function showTyping(on) {
    typing.hidden = !on;
    panel.toggleAttribute("data-waiting", on);
    if (slowTimer) { window.clearTimeout(slowTimer); slowTimer = null; }
    if (on) {
      slowTimer = window.setTimeout(function () {
        typing.hidden = true;
        panel.removeAttribute("data-waiting");
        status.textContent = LABEL.slow;
      }, SLOW_REPLY_MS);
    }
  }

  function onBot(data) {
    if (!data || typeof data !== "object") return;
    showTyping(false);
    if (status.textContent === LABEL.slow || status.hasAttribute("data-staff-note")) {
      status.textContent = "";
      status.removeAttribute("data-staff-note");
    }
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
      if (typeof data.staff === "string" && data.staff) {
        entry.staff = data.staff.slice(0, 40);
        // While a person has the chat the assistant is quiet: no "assistant is writing".
        if (data.takeover === "joined") state.staff = entry.staff;
        if (data.takeover === "left") state.staff = null;
      }
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
    if (!socket || !socket.connected || !state.sessionId || !panel.hasAttribute("data-ready")) {
      status.textContent = LABEL.notSent;
      return false;
    }
    var text = shown || message;
    state.history.push({ kind: "user", text: text });
    save();
    renderUser(text);
    var metadata = browserLanguage() ? { language: browserLanguage() } : {};
    socket.emit("user_uttered", { message: message, session_id: state.sessionId, metadata: metadata });
    if (state.staff) {
      status.textContent = LABEL.staffWillReply.replace("{name}", state.staff);
      status.setAttribute("data-staff-note", "");
    } else {
      showTyping(true);
    }
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
  keep.addEventListener("click", function () {
    state.consent = true;
    consent.hidden = true;
    save();
    input.focus();
  });
  dontKeep.addEventListener("click", function () {
    state.consent = false;  // remembered in this page only: storing the refusal would store something
    consent.hidden = true;
    input.focus();
  });
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
    loadLinks();
    if (state.open) setOpen(true);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  window.MesoGuideWidget = { open: function () { setOpen(true); }, close: function () { setOpen(false); } };
})();
