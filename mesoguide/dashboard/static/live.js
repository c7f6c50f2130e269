/* The live chat page: new transcript lines appear as they come (every 2 seconds).
 * First-party and optional: without it the page still works, a reload shows the same.
 * Text is inserted as text (textContent), never as markup. */
(function () {
  "use strict";
  var list = document.getElementById("transcript");
  if (!list || !window.fetch) return;
  var state = document.getElementById("chat-state");
  var cid = list.getAttribute("data-conversation");
  var holder = list.getAttribute("data-holder") || null;

  function add(line) {
    var empty = list.querySelector("li.event:only-child");
    if (empty && empty.textContent === "Nothing yet.") list.removeChild(empty);
    var item = document.createElement("li");
    item.className = line.speaker;
    var time = document.createElement("span");
    time.className = "time";
    time.textContent = line.at;
    item.appendChild(time);
    if (line.who) {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = line.who + ":";
      item.appendChild(who);
    }
    item.appendChild(document.createTextNode(line.text));
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  function poll() {
    var url = "/chat/lines?c=" + encodeURIComponent(cid) + "&after=" + encodeURIComponent(list.getAttribute("data-after"));
    window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !Array.isArray(data.lines)) return;
        data.lines.forEach(function (line) {
          add(line);
          list.setAttribute("data-after", String(line.index));
        });
        if ((data.holder || null) !== holder) {
          // Someone took over or handed back: the controls change. Reload unless a message is being typed.
          var box = document.getElementById("staff-text");
          if (!box || !box.value) { window.location.reload(); return; }
          if (state) state.textContent = "The chat changed hands: reload the page.";
        }
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { window.setTimeout(poll, 2000); });
  }
  list.scrollTop = list.scrollHeight;
  window.setTimeout(poll, 2000);
})();
