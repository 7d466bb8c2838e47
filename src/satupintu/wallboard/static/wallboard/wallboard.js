/* SatuPintu wallboard: applies the figures frames of /ws/wallboard/ to the cells, ticks the
   clocks between frames, and falls back to polling the HTTP endpoint when the live channel is
   down. Every text comes from the server (frames or data-* attributes); no words here. */
(function () {
  "use strict";
  var root = document.getElementById("wallboard");
  if (!root || window.satupintuWallboard) { return; }
  window.satupintuWallboard = true;

  var POLL_MS = 5000, RETRY_MS = 30000;
  var skew = 0;  // server clock minus browser clock, from the last frame
  var lastAsOf = "";
  var socket = null, pollTimer = null, retryTimer = null, degraded = false, refreshing = false;
  var status = root.querySelector("[data-wb-status]");
  var updated = root.querySelector("[data-wb-updated]");

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function duration(seconds) {
    var s = Math.max(0, Math.round(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h ? h + ":" + pad(m) + ":" + pad(s % 60) : m + ":" + pad(s % 60);
  }

  function setCell(el, cell) {
    if (!el || !cell) { return; }
    if (el.textContent !== cell.text) { el.textContent = cell.text; }
    el.classList.toggle("wb-amber", cell.level === "amber");
    el.classList.toggle("wb-red", cell.level === "red");
    if (cell.tick_from) { el.setAttribute("data-tick-from", String(cell.tick_from)); }
    else { el.removeAttribute("data-tick-from"); }
  }

  function esc(value) { return window.CSS && CSS.escape ? CSS.escape(value) : value; }

  function refreshPartial() {
    if (refreshing) { return; }
    refreshing = true;
    fetch(root.getAttribute("data-partial-url"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        document.getElementById("wb-boards").innerHTML = html;
        fit();
      })
      .catch(function () {})
      .then(function () { refreshing = false; });
  }

  function apply(frame) {
    var section = root.querySelector('section[data-client="' + esc(frame.client) + '"]');
    if (!section) { refreshPartial(); return; }
    var rows = section.querySelectorAll("tr[data-queue]");
    var agents = section.querySelectorAll("tr[data-agent]");
    var agentCount = 0;
    frame.teams.forEach(function (t) { agentCount += t.agents.length; });
    if (rows.length !== frame.queues.length || agents.length !== agentCount) {
      refreshPartial();
      return;
    }
    frame.queues.forEach(function (q) {
      var row = section.querySelector('tr[data-queue="' + esc(q.code) + '"]');
      if (!row) { refreshPartial(); return; }
      Object.keys(q.cells).forEach(function (k) {
        setCell(row.querySelector('[data-kpi="' + k + '"]'), q.cells[k]);
      });
    });
    frame.teams.forEach(function (t) {
      var box = section.querySelector('[data-team="' + t.id + '"]');
      if (!box) { refreshPartial(); return; }
      setCell(box.querySelector('[data-team-kpi="occupancy"]'), t.occupancy);
      t.counts.forEach(function (c) {
        var chip = box.querySelector('[data-count="' + c.state + '"] strong');
        if (chip) { chip.textContent = String(c.count); }
      });
      t.agents.forEach(function (a) {
        var row = box.querySelector('tr[data-agent="' + esc(a.username) + '"]');
        if (!row) { refreshPartial(); return; }
        Object.keys(a.fields).forEach(function (k) {
          setCell(row.querySelector('[data-field="' + k + '"]'), a.fields[k]);
        });
        var state = row.querySelector('[data-field="state"]');
        if (state) { state.setAttribute("data-state", a.state); }
      });
    });
    skew = Date.parse(frame.as_of) - Date.now();
    lastAsOf = frame.as_of_text;
    if (updated) { updated.textContent = frame.as_of_text; }
    section.setAttribute("data-as-of", frame.as_of);
  }

  function tick() {
    var now = Date.now() + skew;
    root.querySelectorAll("[data-tick-from]").forEach(function (el) {
      el.textContent = duration((now - parseInt(el.getAttribute("data-tick-from"), 10)) / 1000);
    });
  }

  function showStatus() {
    if (!status) { return; }
    if (degraded) {
      var time = lastAsOf || (updated ? updated.textContent : "");
      status.textContent = root.getAttribute("data-msg-degraded").replace("%(time)s", time);
      root.classList.add("wb-degraded");
    } else {
      status.textContent = root.getAttribute("data-msg-live");
      root.classList.remove("wb-degraded");
    }
  }

  function poll() {
    root.querySelectorAll("section[data-client]").forEach(function (section) {
      var url = root.getAttribute("data-poll-url")
        .replace("CLIENT", encodeURIComponent(section.getAttribute("data-client")));
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (frame) { apply(frame); showStatus(); })
        .catch(function () {});
    });
  }

  function degrade() {
    if (!degraded) {
      degraded = true;
      showStatus();
    }
    if (!pollTimer) { pollTimer = window.setInterval(poll, POLL_MS); poll(); }
    if (!retryTimer) { retryTimer = window.setTimeout(function () { retryTimer = null; connect(); }, RETRY_MS); }
  }

  function recover() {
    degraded = false;
    if (pollTimer) { window.clearInterval(pollTimer); pollTimer = null; }
    showStatus();
  }

  function connect() {
    if (!window.WebSocket) { degrade(); return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(scheme + window.location.host + "/ws/wallboard/" +
                             root.getAttribute("data-ws-query"));
    } catch (e) { degrade(); return; }
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "hello") { recover(); }
      else if (frame.type === "degraded") { degrade(); }
      else if (frame.type === "figures") { apply(frame); }
    };
    socket.onclose = function () { socket = null; degrade(); };
  }

  function fit() {
    if (!root.classList.contains("wallboard-tv")) { return; }
    var size = 2.2;
    root.style.fontSize = size + "vw";
    for (var i = 0; i < 20 && root.scrollHeight > window.innerHeight && size > 0.6; i += 1) {
      size *= 0.92;
      root.style.fontSize = size + "vw";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    fit();
    window.addEventListener("resize", fit);
    connect();
    window.setInterval(tick, 1000);
  });
}());
