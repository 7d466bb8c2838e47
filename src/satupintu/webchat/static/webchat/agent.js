/* SatuPintu "Chats": several chats at once, live over the agent socket. Each message is
 * shown once (by its seq); a reply goes through the normal case reply and comes back over
 * the socket like any other message. Every word comes from data-* attributes. */
(function () {
  "use strict";
  var root = document.getElementById("agent-chats");
  if (!root || !window.WebSocket) { return; }
  var words = root.dataset;
  var socket = null;
  var retry = 0;
  var typingTimers = {};
  var myTyping = {};

  function status(text) {
    var el = document.getElementById("agent-chat-status");
    if (el) { el.textContent = text || ""; }
  }
  function card(id) { return root.querySelector(".chat-card[data-session='" + Number(id) + "']"); }
  function csrf(form) { return form.querySelector("input[name=csrfmiddlewaretoken]").value; }

  // Messages that arrive while the list is being fetched are replayed onto the new list
  // (the fetched copy may predate them); each seq is still shown once.
  var reloading = 0;
  var buffered = [];

  function reload() {
    reloading += 1;
    fetch(root.getAttribute("data-list-url"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r); })
      .then(function (html) {
        var focused = document.activeElement && document.activeElement.id;
        var drafts = {};
        root.querySelectorAll(".chat-reply textarea").forEach(function (t) { drafts[t.id] = t.value; });
        root.innerHTML = html;
        Object.keys(drafts).forEach(function (id) {
          var t = document.getElementById(id);
          if (t) { t.value = drafts[id]; }
        });
        if (focused && document.getElementById(focused)) { document.getElementById(focused).focus(); }
        reloading -= 1;
        var replay = buffered;
        if (!reloading) { buffered = []; }
        replay.forEach(function (frame) { addMessage(frame, true); });
      }).catch(function () { reloading -= 1; status(words.error); });
  }

  function maxVisitorSeq(el) {
    var max = 0;
    el.querySelectorAll(".chat-msg.chat-visitor[data-seq]").forEach(function (li) {
      max = Math.max(max, Number(li.getAttribute("data-seq")));
    });
    return max;
  }

  function markRead(el) {
    var seq = maxVisitorSeq(el);
    if (seq > Number(el.getAttribute("data-read-seq") || 0)) {
      el.setAttribute("data-read-seq", String(seq));
      send({type: "read", session: Number(el.getAttribute("data-session")), seq: seq});
    }
    var badge = el.querySelector(".chat-unread");
    badge.setAttribute("data-unread", "0");
    badge.textContent = "0";
    badge.hidden = true;
  }

  function send(frame) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function addMessage(frame, replayed) {
    if (reloading && !replayed) { buffered.push(frame); }
    var el = card(frame.session);
    if (!el) { if (!replayed) { reload(); } return; }
    var list = el.querySelector(".chat-log");
    if (list.querySelector("li[data-seq='" + Number(frame.seq) + "']")) { return; }
    var li = document.createElement("li");
    li.className = "chat-msg chat-" + frame.from;
    li.setAttribute("data-seq", String(frame.seq));
    var who = document.createElement("span");
    who.className = "chat-who";
    who.textContent = frame.from === "agent" ? (frame.name || "") :
      el.querySelector("h2").firstChild.textContent.trim();
    var text = document.createElement("span");
    text.className = "chat-text";
    text.textContent = frame.text;
    li.appendChild(who);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(text);
    var later = null;
    list.querySelectorAll("li[data-seq]").forEach(function (other) {
      if (!later && Number(other.getAttribute("data-seq")) > Number(frame.seq)) { later = other; }
    });
    list.insertBefore(li, later);
    list.scrollTop = list.scrollHeight;
    if (frame.from === "visitor") {
      el.querySelector(".chat-typing").hidden = true;
      if (el.contains(document.activeElement)) { markRead(el); return; }
      var badge = el.querySelector(".chat-unread");
      var n = Number(badge.getAttribute("data-unread") || 0) + 1;
      badge.setAttribute("data-unread", String(n));
      badge.textContent = String(n);
      badge.hidden = false;
    }
  }

  function onFrame(frame) {
    var el;
    switch (frame.type) {
      case "message":
        addMessage(frame);
        break;
      case "typing":
        el = card(frame.session);
        if (!el) { return; }
        var typing = el.querySelector(".chat-typing");
        typing.textContent = words.typing;
        typing.hidden = !frame.on;
        clearTimeout(typingTimers[frame.session]);
        if (frame.on) {
          typingTimers[frame.session] = setTimeout(function () { typing.hidden = true; }, 8000);
        }
        break;
      case "read":
        el = card(frame.session);
        if (!el) { return; }
        var mark = el.querySelector(".chat-readmark");
        mark.setAttribute("data-seq", String(frame.seq));
        mark.textContent = words.read.replace("%(seq)s", frame.seq);
        break;
      case "session":
        reload();
        break;
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-socket-path"));
    socket.onopen = function () {
      if (retry > 0) { reload(); }
      retry = 0;
      status(words.online);
    };
    socket.onmessage = function (event) {
      try { onFrame(JSON.parse(event.data)); } catch (e) { /* a frame we do not know */ }
    };
    socket.onclose = function (event) {
      if (event.code === 4401 || event.code === 4403) { return; }
      status(words.offline);
      retry = Math.min(retry + 1, 5);
      setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retry)));
    };
  }

  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("chat-reply")) { return; }
    event.preventDefault();
    var el = form.closest(".chat-card");
    var box = form.querySelector("textarea");
    var error = form.querySelector(".chat-error");
    if (!box.value.trim()) { return; }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    error.textContent = "";
    fetch(form.action, {method: "POST", credentials: "same-origin", body: new FormData(form),
                        headers: {"X-CSRFToken": csrf(form)}})
      .then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      }).then(function (result) {
        button.disabled = false;
        if (!result.ok) { error.textContent = result.data.message || words.error; return; }
        box.value = "";
        stopTyping(el);
        markRead(el);
      }).catch(function () { button.disabled = false; error.textContent = words.error; });
  });

  function stopTyping(el) {
    var id = el.getAttribute("data-session");
    clearTimeout(typingTimers["me" + id]);
    if (myTyping[id]) { myTyping[id] = false; send({type: "typing", session: Number(id), on: false}); }
  }

  root.addEventListener("input", function (event) {
    var el = event.target.closest(".chat-card");
    if (!el || event.target.tagName !== "TEXTAREA") { return; }
    var id = el.getAttribute("data-session");
    if (!myTyping[id]) { myTyping[id] = send({type: "typing", session: Number(id), on: true}); }
    clearTimeout(typingTimers["me" + id]);
    typingTimers["me" + id] = setTimeout(function () { stopTyping(el); }, 3000);
  });

  root.addEventListener("focusin", function (event) {
    var el = event.target.closest(".chat-card");
    if (el) { markRead(el); }
  });

  root.addEventListener("click", function (event) {
    if (!event.target.classList.contains("chat-end")) { return; }
    var el = event.target.closest(".chat-card");
    if (!window.confirm(words.confirmEnd)) { return; }
    var form = el.querySelector("form.chat-reply");
    var url = root.getAttribute("data-end-url").replace("/0/", "/" + el.getAttribute("data-session") + "/");
    fetch(url, {method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrf(form)}})
      .then(function () { reload(); });
  });

  root.addEventListener("keydown", function (event) {
    if (event.target.tagName === "TEXTAREA" && event.key === "Enter" && !event.shiftKey &&
        event.target.closest(".chat-reply")) {
      event.preventDefault();
      event.target.closest("form").requestSubmit();
    }
  });

  connect();
}());
