/* SatuPintu: SLA countdowns and live case notices. Every text comes from data-* attributes
   the server rendered through gettext; this file holds no words. */
(function () {
  "use strict";
  if (window.satupintuLive) { return; }
  window.satupintuLive = true;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function span(seconds) {
    var s = Math.abs(Math.round(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60);
    return (d ? d + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(s % 60);
  }

  function tick() {
    document.querySelectorAll("[data-sla-remaining]").forEach(function (el) {
      var left = parseFloat(el.getAttribute("data-sla-remaining"));
      if (el.getAttribute("data-sla-ticking") === "1") {
        left -= 1;
        el.setAttribute("data-sla-remaining", String(left));
      }
      var template = el.getAttribute(left >= 0 ? "data-sla-left" : "data-sla-overdue");
      el.textContent = template.replace("%(time)s", span(left));
      var clock = el.closest(".sla-clock");
      if (clock && clock.getAttribute("data-sla-met") !== "1") {
        var warn = parseFloat(el.getAttribute("data-sla-warn"));
        clock.classList.toggle("sla-breached", left < 0);
        clock.classList.toggle("sla-warning", left >= 0 && left <= warn);
      }
    });
  }

  function notice(box, payload) {
    var template = box.getAttribute("data-msg-" + payload.kind) ||
      box.getAttribute("data-msg-other");
    var div = document.createElement("div");
    div.className = "flash flash-info";
    div.setAttribute("role", "status");
    var link = document.createElement("a");
    link.href = box.getAttribute("data-case-url").replace("REFERENCE", payload["case"]);
    link.textContent = template.replace("%(case)s", payload["case"]);
    div.appendChild(link);
    box.insertBefore(div, box.firstChild);
  }

  /* A call rings on this agent's phone (telephony app): link to the customer 360. */
  function screenPop(box, payload) {
    var div = document.createElement("div");
    div.className = "flash flash-info screen-pop";
    div.setAttribute("role", "alert");
    var link = document.createElement("a");
    link.href = payload.customer_url || payload.case_url || "#";
    var template = payload.customer_url ? box.getAttribute("data-msg-screen_pop")
      : box.getAttribute("data-msg-screen_pop_unknown");
    link.textContent = template.replace("%(case)s", payload["case"] || "—");
    div.appendChild(link);
    box.insertBefore(div, box.firstChild);
  }

  function listen(box) {
    if (!window.WebSocket) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/notifications/");
    var current = box.getAttribute("data-live-case");
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      var payload = message.payload;
      if (message.type !== "notification" || !payload) { return; }
      if (payload.kind === "screen_pop") { screenPop(box, payload); return; }
      /* Offers and presence have their own pop-up (routing/presence.js). */
      if (/^(offer|offer_withdrawn|presence|routing)$/.test(payload.kind || "")) { return; }
      if (!payload["case"]) { return; }
      if (current && payload["case"] !== current) { return; }
      notice(box, payload);
      if (current && window.htmx) {
        window.htmx.ajax("GET", box.getAttribute("data-timeline-url"),
                         {target: "#timeline", swap: "outerHTML"});
      }
    };
    socket.onclose = function () { window.setTimeout(function () { listen(box); }, 5000); };
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 1000);
    var box = document.getElementById("live-notices");
    if (box) { listen(box); }
  });
}());
