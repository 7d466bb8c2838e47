/* SatuPintu chat page (inside the widget's frame). Nothing lost, nothing twice:
 * - every message gets a client id (cid) and waits in localStorage until the server's ack;
 *   on every (re)connect the unacknowledged ones are sent again with the same cid;
 * - every message from the server has a per-chat seq; the page shows each seq once and asks
 *   for everything after the last one it saw when it reconnects ({"type":"resume"}).
 * Every word comes from the page (data-* attributes); this file holds none. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("chat-config").textContent);
  var words = document.getElementById("chat-strings").dataset;
  var prefix = "satupintu-chat:" + config.client + ":";
  var $ = function (id) { return document.getElementById(id); };
  var log = $("chat-log");
  var ws = null;
  var ready = false;
  var lastSeq = 0;
  var seen = {};
  var retry = 0;
  var retryTimer = null;
  var typingTimer = null;
  var typingOn = false;
  var agentReadSeq = 0;

  // Where the token and the unacknowledged messages are kept: this frame's localStorage,
  // or, where the browser blocks storage in third-party frames, the embedding page's (the
  // widget script keeps it there and hands it back in the frame's #state fragment).
  var local = (function () {
    try {
      localStorage.setItem(prefix + "probe", "1");
      localStorage.removeItem(prefix + "probe");
      return window.localStorage;
    } catch (e) { return null; }
  }());
  var parentState = {};
  var parentOrigin = "";
  if (!local) {
    if (window.location.hash.indexOf("#state=") === 0) {
      try { parentState = JSON.parse(decodeURIComponent(window.location.hash.slice(7))) || {}; }
      catch (e) { parentState = {}; }
    }
    history.replaceState(null, "", window.location.pathname + window.location.search);
    try {
      parentOrigin = (window.location.ancestorOrigins && window.location.ancestorOrigins[0]) ||
        (document.referrer ? new URL(document.referrer).origin : "");
    } catch (e) { parentOrigin = ""; }
  }
  function store(key, value) {
    if (local) {
      try {
        if (value === null) { local.removeItem(prefix + key); }
        else { local.setItem(prefix + key, JSON.stringify(value)); }
      } catch (e) { /* storage full: the chat still works while the page is open */ }
      return;
    }
    if (value === null) { delete parentState[key]; } else { parentState[key] = value; }
    if (parentOrigin && window.parent !== window) {
      window.parent.postMessage({satupintuChat: "state", state: parentState}, parentOrigin);
    }
  }
  function load(key, fallback) {
    if (!local) { return Object.prototype.hasOwnProperty.call(parentState, key) ? parentState[key] : fallback; }
    try {
      var raw = local.getItem(prefix + key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) { return fallback; }
  }
  var token = load("token", null);
  var pending = load("pending", []);
  var memoryPending = pending;
  function savePending() { store("pending", memoryPending); }

  function newCid() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function status(text) { $("chat-status").textContent = text || ""; }

  function bubble(from, text, attrs) {
    var li = document.createElement("li");
    li.className = "chatw-msg chatw-" + from;
    var who = document.createElement("span");
    who.className = "chatw-who";
    who.textContent = from === "agent" ? (attrs.name || words.agent) : words.you;
    var body = document.createElement("span");
    body.className = "chatw-text";
    body.textContent = text;
    var state = document.createElement("small");
    state.className = "chatw-state";
    li.appendChild(who);
    li.appendChild(body);
    li.appendChild(state);
    if (attrs.cid) { li.setAttribute("data-cid", attrs.cid); }
    if (attrs.seq) { li.setAttribute("data-seq", String(attrs.seq)); }
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    return li;
  }

  function setState(li, text, cls) {
    var state = li.querySelector(".chatw-state");
    state.textContent = text;
    li.classList.remove("is-pending", "is-sent", "is-failed", "is-read");
    if (cls) { li.classList.add(cls); }
  }

  function byCid(cid) {
    return log.querySelector("li[data-cid='" + cid.replace(/[^A-Za-z0-9_-]/g, "") + "']");
  }

  function markSeen(seq) {
    seen[seq] = true;
    if (seq > lastSeq) { lastSeq = seq; }
  }

  function dropPending(cid) {
    memoryPending = memoryPending.filter(function (p) { return p.cid !== cid; });
    savePending();
  }

  function showRead() {
    log.querySelectorAll("li.chatw-visitor[data-seq]").forEach(function (li) {
      if (Number(li.getAttribute("data-seq")) <= agentReadSeq) { setState(li, words.read, "is-read"); }
    });
  }

  function send(frame) {
    if (ws && ready && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function sendPending() {
    memoryPending.forEach(function (p) { send({type: "msg", cid: p.cid, text: p.text}); });
  }

  function onMessage(frame) {
    if (frame.seq && seen[frame.seq]) { return; }
    var li = frame.cid ? byCid(frame.cid) : null;
    if (li) {
      li.setAttribute("data-seq", String(frame.seq));
      setState(li, words.sent, "is-sent");
      dropPending(frame.cid);
    } else {
      li = bubble(frame.from, frame.text, frame);
      if (frame.from === "visitor") { setState(li, words.sent, "is-sent"); }
    }
    markSeen(frame.seq);
    if (frame.from === "agent") {
      if (frame.name) { showAgent(frame.name); }
      $("chat-typing").hidden = true;
      if (!document.hidden) { send({type: "read", seq: frame.seq}); }
    }
    showRead();
  }

  function showAgent(name) {
    if (!name) { return; }
    var el = $("chat-agent");
    el.textContent = words.agentName.replace("%(name)s", name);
    el.hidden = false;
  }

  function ended() {
    store("token", null);
    store("pending", null);
    token = null;
    memoryPending = [];
    ready = false;
    if (ws) { try { ws.close(); } catch (e) { /* closed already */ } }
    $("chat").hidden = true;
    $("chat-ended").hidden = false;
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "welcome":
        ready = true;
        retry = 0;
        status(words.online);
        agentReadSeq = frame.agent_read_seq || 0;
        showAgent(frame.agent);
        send({type: "resume", last_seq: lastSeq});
        break;
      case "resumed":
        sendPending();
        showRead();
        break;
      case "ack":
        var li = byCid(frame.cid);
        dropPending(frame.cid);
        if (li && frame.seq) {
          if (seen[frame.seq] && li.getAttribute("data-seq") !== String(frame.seq)) {
            li.remove();
          } else {
            li.setAttribute("data-seq", String(frame.seq));
            setState(li, words.sent, "is-sent");
            markSeen(frame.seq);
          }
        } else if (li) {
          setState(li, words.sent, "is-sent");
        }
        showRead();
        break;
      case "msg":
        onMessage(frame);
        break;
      case "typing":
        var typing = $("chat-typing");
        typing.textContent = words.typing.replace("%(name)s", frame.name || words.agent);
        typing.hidden = !frame.on;
        break;
      case "read":
        agentReadSeq = Math.max(agentReadSeq, frame.seq || 0);
        showRead();
        break;
      case "transcript_queued":
        status(words.transcript);
        break;
      case "ended":
        ended();
        break;
      case "error":
        onError(frame);
        break;
    }
  }

  function onError(frame) {
    if (frame.code === "bad_token" || frame.code === "token_expired" ||
        frame.code === "session_ended") {
      if (!frame.cid) {
        ended();
        showForm(frame.message);
        return;
      }
    }
    if (frame.cid) {
      var li = byCid(frame.cid);
      if (frame.code === "rate_limited" || frame.code === "server_error") {
        status(frame.message);
        setTimeout(sendPending, Math.max(1, frame.retry_after || 2) * 1000);
        return;
      }
      dropPending(frame.cid);
      if (li) { setState(li, words.failed + ": " + frame.message, "is-failed"); }
      return;
    }
    status(frame.message || words.error);
  }

  function connect() {
    if (!token) { return; }
    clearTimeout(retryTimer);
    if (ws && ws.readyState <= 1) {  // connecting or open: replace it
      var old = ws;
      ws = null;
      try { old.close(); } catch (e) { /* closed already */ }
    }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + config.socket_path);
    ws = socket;
    ready = false;
    socket.onopen = function () {
      if (ws !== socket) { socket.close(); return; }  // a newer attempt replaced this one
      socket.send(JSON.stringify({type: "hello", token: token, lang: config.lang}));
    };
    socket.onmessage = function (event) {
      if (ws !== socket) { return; }
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      onFrame(frame);
    };
    socket.onclose = function (event) {
      if (ws !== socket) { return; }
      ready = false;
      if (!token) { return; }
      if (event.code === 4401 || event.code === 4410) { return; }
      status(words.offline);
      retry = Math.min(retry + 1, 5);
      retryTimer = setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retry)));
    };
  }

  function showForm(message) {
    $("prechat").hidden = false;
    $("faq").hidden = true;
    $("chat").hidden = true;
    $("pc-error").textContent = message || "";
  }

  function showChat() {
    $("prechat").hidden = true;
    $("chat-ended").hidden = true;
    $("chat").hidden = false;
    log.innerHTML = "";
    seen = {};
    lastSeq = 0;
    memoryPending.forEach(function (p) {
      setState(bubble("visitor", p.text, {cid: p.cid}), words.sending, "is-pending");
    });
  }

  // The FAQ assistant answers first (when the client has public FAQs): the customer may
  // find the answer at once; "I still need a person" starts the chat with what they read.
  var faqToken = "";
  var faqAsked = false;

  function startChat(form, button) {
    button.disabled = true;
    fetch(config.start_url, {
      method: "POST", credentials: "omit", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({client: config.client, name: form.name.value,
                            contact: form.contact.value, topic: form.topic.value,
                            message: form.message.value, language: config.lang,
                            faq_token: faqToken})
    }).then(function (response) {
      return response.json().then(function (data) { return {ok: response.ok, data: data}; });
    }).then(function (result) {
      button.disabled = false;
      if (!result.ok) { showForm(result.data.message || words.error); return; }
      token = result.data.token;
      store("token", token);
      memoryPending = [];
      savePending();
      showChat();
      connect();
    }).catch(function () {
      button.disabled = false;
      showForm(words.error);
    });
  }

  function showFaq(data) {
    var list = $("faq-list");
    list.innerHTML = "";
    data.articles.forEach(function (article) {
      var li = document.createElement("li");
      var title = document.createElement("strong");
      title.textContent = article.title;
      var text = document.createElement("p");
      text.textContent = article.summary || article.body;
      li.appendChild(title);
      li.appendChild(text);
      list.appendChild(li);
    });
    faqToken = data.token || "";
    $("faq-message").textContent = "";
    $("faq-actions").hidden = false;
    $("prechat").hidden = true;
    $("faq").hidden = false;
  }

  $("prechat").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var button = form.querySelector("button");
    var question = (form.topic.value + " " + form.message.value).trim();
    if (!config.faq_url || faqAsked || !question) { startChat(form, button); return; }
    faqAsked = true;
    button.disabled = true;
    var query = "?q=" + encodeURIComponent(question) + "&lang=" + encodeURIComponent(config.lang);
    fetch(config.faq_url + query, {credentials: "omit"}).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      button.disabled = false;
      if (data && data.articles && data.articles.length) { showFaq(data); return; }
      faqToken = data && data.token ? data.token : "";
      startChat(form, button);
    }).catch(function () {
      button.disabled = false;
      startChat(form, button);  // the assistant is a help, never a gate
    });
  });

  $("faq-helped").addEventListener("click", function () {
    $("faq-actions").hidden = true;
    fetch(config.faq_feedback_url, {
      method: "POST", credentials: "omit", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({token: faqToken, helped: true, lang: config.lang})
    }).then(function (response) { return response.json(); }).then(function (data) {
      $("faq-message").textContent = data.message || "";
    }).catch(function () { $("faq-message").textContent = words.error; });
  });

  $("faq-person").addEventListener("click", function () {
    $("faq").hidden = true;
    $("prechat").hidden = false;
    var form = $("prechat");
    startChat(form, form.querySelector("button"));
  });

  $("chat-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var box = $("chat-text");
    var text = box.value.trim();
    if (!text) { return; }
    if (text.length > config.max_text) { status(words.tooLong); return; }
    var item = {cid: newCid(), text: text};
    memoryPending.push(item);
    savePending();
    setState(bubble("visitor", text, {cid: item.cid}), words.sending, "is-pending");
    box.value = "";
    stopTyping();
    send({type: "msg", cid: item.cid, text: text});
  });

  $("chat-text").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("chat-form").requestSubmit();
    }
  });

  function stopTyping() {
    clearTimeout(typingTimer);
    if (typingOn) { typingOn = false; send({type: "typing", on: false}); }
  }
  $("chat-text").addEventListener("input", function () {
    if (!typingOn) { typingOn = send({type: "typing", on: true}); }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 3000);
  });

  $("chat-file").addEventListener("change", function (event) {
    var file = event.target.files[0];
    event.target.value = "";
    if (!file) { return; }
    if (file.size > config.max_upload) { status(words.tooLarge); return; }
    var cid = newCid();
    var li = bubble("visitor", "📎 " + file.name, {cid: cid});
    setState(li, words.uploading, "is-pending");
    var data = new FormData();
    data.append("cid", cid);
    data.append("file", file);
    fetch(config.upload_url, {method: "POST", body: data, credentials: "omit",
                              headers: {"X-Chat-Token": token}})
      .then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      }).then(function (result) {
        if (!result.ok) { setState(li, words.failed + ": " + (result.body.message || ""), "is-failed"); return; }
        if (result.body.seq) {
          if (seen[result.body.seq]) { li.remove(); return; }
          li.setAttribute("data-seq", String(result.body.seq));
          markSeen(result.body.seq);
        }
        setState(li, words.sent, "is-sent");
      }).catch(function () { setState(li, words.failed, "is-failed"); });
  });

  $("transcript-form").addEventListener("submit", function (event) {
    event.preventDefault();
    send({type: "transcript", address: $("transcript-address").value});
  });
  $("chat-end").addEventListener("click", function () { send({type: "end"}); });
  $("chat-new").addEventListener("click", function () {
    $("chat-ended").hidden = true;
    showForm("");
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && lastSeq) { send({type: "read", seq: lastSeq}); }
  });
  window.addEventListener("online", function () {
    if (!ready) { retry = 0; connect(); }
  });
  $("chat-lang").addEventListener("click", function (event) {
    stopTyping();
    if (!local) {  // keep the chat across the switch where this frame has no storage
      event.currentTarget.href = event.currentTarget.href.split("#")[0] + "#state=" +
        encodeURIComponent(JSON.stringify(parentState));
    }
  });

  // For tests and for the demo: drop the connection as a network failure would.
  window.satupintuChat = {
    // The page treats the socket as gone at once (a closing handshake may never complete
    // on a dead network), then retries with back-off as after any lost connection.
    drop: function () {
      var socket = ws;
      if (!socket) { return; }
      ws = null;
      ready = false;
      try { socket.close(); } catch (e) { /* closed already */ }
      status(words.offline);
      clearTimeout(retryTimer);
      retry = Math.min(retry + 1, 5);
      retryTimer = setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retry)));
    },
    pending: function () { return memoryPending.length; },
    connected: function () { return ready; }
  };

  if (token) { showChat(); connect(); } else { showForm(""); }
}());
