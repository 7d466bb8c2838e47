/* SatuPintu routing: the agent's presence bar (heartbeat, one tab holds the presence,
   time in state, after-contact work countdown) and offer pop-ups from the notifications
   WebSocket. Every text comes from data-* attributes or json_script rendered through
   gettext; this file holds no words. */
(function () {
  "use strict";
  if (window.satupintuPresence) { return; }
  window.satupintuPresence = true;

  var KEY = "satupintu.presence.connection";
  var beatMs = 20000;
  var wrap, strings, channelLabels = {}, queueLabels = {};
  var connection = "";
  var timer = null;
  var moved = false;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function span(seconds) {
    var s = Math.max(0, Math.round(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" : "") + pad(m) + ":" + pad(s % 60);
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + "-" + String(Math.random()).slice(2, 12);
  }

  function csrf() {
    var input = wrap.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function form(extra) {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrf());
    data.append("connection", connection);
    Object.keys(extra || {}).forEach(function (k) { data.append(k, extra[k]); });
    return data;
  }

  // The server's clock minus ours, so that countdowns do not depend on the PC's time.
  var skew = 0;

  function serverNow() { return Date.now() + skew; }

  function bar() { return document.getElementById("presence-bar"); }

  function fillConnection() {
    wrap.querySelectorAll("[data-presence-connection]").forEach(function (input) {
      input.value = connection;
    });
    var b = bar();
    if (b && b.getAttribute("data-now")) {
      skew = Date.parse(b.getAttribute("data-now")) - Date.now();
    }
  }

  function showMoved(on) {
    moved = on;
    var b = bar();
    if (!b) { return; }
    var note = b.querySelector("[data-testid=presence-moved]");
    if (note) { note.hidden = !on; }
    b.classList.toggle("presence-moved-away", on);
  }

  function beat(claim) {
    if (moved && !claim) { return; }
    fetch(wrap.getAttribute("data-heartbeat-url"), {
      method: "POST", body: form({claim: claim ? "1" : "0"}), credentials: "same-origin",
      headers: {"X-Requested-With": "fetch"}
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data) { return; }
      showMoved(Boolean(data.moved));
      var b = bar();
      if (b && data.state && b.getAttribute("data-state") !== data.state) { refresh(); }
    }).catch(function () { /* the next beat tries again */ });
  }

  function start() {
    if (timer) { window.clearInterval(timer); }
    timer = window.setInterval(function () { beat(false); }, beatMs);
  }

  function refresh() {
    if (!window.htmx) { return; }
    window.htmx.ajax("GET", wrap.getAttribute("data-bar-url") + "?connection=" +
                     encodeURIComponent(connection),
                     {target: "#presence-bar", swap: "outerHTML"});
  }

  function tick() {
    var b = bar();
    if (b) {
      b.querySelectorAll("[data-presence-since]").forEach(function (el) {
        el.textContent = span((serverNow() - Date.parse(el.getAttribute("data-presence-since"))) / 1000);
      });
      b.querySelectorAll("[data-acw-deadline]").forEach(function (el) {
        el.textContent = span((Date.parse(el.getAttribute("data-acw-deadline")) - serverNow()) / 1000);
      });
    }
    document.querySelectorAll("[data-testid=offer]").forEach(function (offer) {
      var expires = offer.getAttribute("data-expires");
      if (!expires) { return; }
      var left = (Date.parse(expires) - serverNow()) / 1000;
      var el = offer.querySelector("[data-offer=countdown]");
      if (el) { el.textContent = strings.getAttribute("data-seconds").replace("%(n)s", String(Math.max(0, Math.ceil(left)))); }
      if (left < -2) { removeOffer(offer.getAttribute("data-item"), "data-expired"); }
    });
  }

  function removeOffer(itemId, why) {
    document.querySelectorAll("[data-testid=offer][data-item='" + itemId + "']").forEach(function (el) {
      el.remove();
    });
    if (why) {
      var note = document.createElement("div");
      note.className = "flash flash-info";
      note.setAttribute("role", "status");
      note.textContent = strings.getAttribute(why);
      var area = document.getElementById("offer-area");
      area.appendChild(note);
      window.setTimeout(function () { note.remove(); }, 5000);
    }
  }

  function showOffer(p) {
    if (document.querySelector("[data-testid=offer][data-item='" + p.item + "']")) { return; }
    var template = document.getElementById("offer-template");
    var node = template.content.firstElementChild.cloneNode(true);
    node.setAttribute("data-item", String(p.item));
    node.setAttribute("data-expires", p.expires || "");
    node.querySelectorAll("[id]").forEach(function (el) {
      el.id = el.id.replace("ITEM", String(p.item));
    });
    node.setAttribute("aria-labelledby", node.getAttribute("aria-labelledby").replace("ITEM", String(p.item)));
    node.querySelector("[data-offer=case]").textContent = p["case"] || "";
    node.querySelector("[data-offer=subject]").textContent = p.subject || "";
    node.querySelector("[data-offer=channel]").textContent = channelLabels[p.channel] || p.channel || "";
    node.querySelector("[data-offer=queue]").textContent = queueLabels[p.queue] || p.queue || "";
    var accept = wrap.getAttribute("data-accept-url").replace("/0/", "/" + p.item + "/");
    var decline = wrap.getAttribute("data-decline-url").replace("/0/", "/" + p.item + "/");
    node.querySelector("[data-offer-form=accept]").setAttribute("action", accept);
    node.querySelector("[data-offer-form=decline]").setAttribute("action", decline);
    document.getElementById("offer-area").appendChild(node);
    tick();
    refresh();
  }

  function listen() {
    if (!window.WebSocket) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/notifications/");
    socket.onopen = function () { wrap.setAttribute("data-live-state", "open"); };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      var p = message.payload;
      if (message.type !== "notification" || !p || !p.kind) { return; }
      if (p.kind === "offer") { showOffer(p); }
      else if (p.kind === "offer_withdrawn") { removeOffer(String(p.item), "data-withdrawn"); refresh(); }
      else if (p.kind === "presence") { refresh(); }
    };
    socket.onclose = function () {
      wrap.setAttribute("data-live-state", "closed");
      window.setTimeout(listen, 5000);
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    wrap = document.getElementById("presence-wrap");
    if (!wrap) { return; }
    strings = document.getElementById("routing-strings");
    beatMs = parseInt(wrap.getAttribute("data-heartbeat-ms"), 10) || beatMs;
    var labels = document.getElementById("routing-channel-labels");
    if (labels) { channelLabels = JSON.parse(labels.textContent); }
    var queues = document.getElementById("routing-queue-labels");
    if (queues) { queueLabels = JSON.parse(queues.textContent); }
    try {
      connection = window.sessionStorage.getItem(KEY) || "";
      if (!connection) {
        connection = newId();
        window.sessionStorage.setItem(KEY, connection);
      }
    } catch (e) {
      connection = newId();
    }
    fillConnection();
    // A refused state change: show the state the server holds again.
    document.body.addEventListener("htmx:responseError", function (e) {
      var elt = e.detail && e.detail.elt;
      if (elt && elt.closest && elt.closest(".presence-form")) { refresh(); }
    });
    document.body.addEventListener("htmx:afterSwap", function () {
      fillConnection();
      tick();
    });
    // Changing the state from this tab takes the presence back here.
    document.body.addEventListener("htmx:beforeRequest", function (e) {
      var elt = e.detail && e.detail.elt;
      if (elt && elt.closest && elt.closest(".presence-form")) {
        fillConnection();
        showMoved(false);
        start();
      }
    });
    beat(true);
    start();
    tick();
    window.setInterval(tick, 1000);
    listen();
    window.addEventListener("pagehide", function () {
      if (navigator.sendBeacon && !moved) {
        navigator.sendBeacon(wrap.getAttribute("data-leave-url"), form({}));
      }
    });
  });
}());
