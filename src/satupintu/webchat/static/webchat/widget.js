/* SatuPintu chat widget: the one script a client's site embeds.
 *   <script src="https://<host>/chat/widget.js" data-client="<client code>" defer></script>
 * It adds a launcher button and, on first open, a frame of https://<host>/chat/w/<code>/,
 * which holds the whole chat (same origin as its WebSocket). Its words are prepended by the
 * server (window.SatuPintuChat.strings); this file holds none. No framework, no third party. */
(function () {
  "use strict";
  var ns = window.SatuPintuChat = window.SatuPintuChat || {};
  if (ns.loaded) { return; }
  ns.loaded = true;

  var script = document.currentScript ||
    document.querySelector("script[src*='/chat/widget.js'][data-client]");
  if (!script) { return; }
  var client = script.getAttribute("data-client");
  if (!client) { return; }
  var base = new URL(script.src, window.location.href).origin;
  var pageLang = (script.getAttribute("data-lang") || document.documentElement.lang || "id")
    .toLowerCase().slice(0, 2);
  var lang = pageLang === "en" ? "en" : "id";
  var words = (ns.strings && ns.strings[lang]) || {};

  // Browsers that block storage in third-party frames: the chat frame hands its state (the
  // session token and unacknowledged messages) to this page, which keeps it for reloads.
  var stateKey = "satupintu-chat:" + client;
  function readState() {
    try { return window.localStorage.getItem(stateKey) || ""; } catch (e) { return ""; }
  }
  window.addEventListener("message", function (event) {
    var frame = document.getElementById("satupintu-chat-frame");
    if (event.origin !== base || !frame || event.source !== frame.contentWindow) { return; }
    if (!event.data || event.data.satupintuChat !== "state") { return; }
    try { window.localStorage.setItem(stateKey, JSON.stringify(event.data.state || {})); }
    catch (e) { /* storage blocked here too: the chat lasts as long as the page */ }
  });

  function start() {
    var button = document.createElement("button");
    button.type = "button";
    button.id = "satupintu-chat-launcher";
    button.textContent = words.open || "💬";
    button.setAttribute("aria-expanded", "false");
    button.style.cssText = "position:fixed;right:20px;bottom:20px;z-index:2147483000;" +
      "padding:12px 18px;border:0;border-radius:24px;background:#0b5cad;color:#fff;" +
      "font:600 15px/1.2 system-ui,sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.25);" +
      "cursor:pointer";
    var frame = null;

    function open() {
      if (!frame) {
        frame = document.createElement("iframe");
        frame.id = "satupintu-chat-frame";
        frame.title = words.title || "Chat";
        var state = readState();
        frame.src = base + "/chat/w/" + encodeURIComponent(client) + "/?lang=" + lang +
          (state ? "#state=" + encodeURIComponent(state) : "");
        frame.setAttribute("allow", "clipboard-write");
        frame.style.cssText = "position:fixed;right:20px;bottom:76px;z-index:2147483000;" +
          "width:370px;max-width:calc(100vw - 40px);height:560px;" +
          "max-height:calc(100vh - 100px);border:1px solid #c9d3df;border-radius:12px;" +
          "background:#fff;box-shadow:0 8px 28px rgba(0,0,0,.25)";
        document.body.appendChild(frame);
      } else {
        frame.style.display = "";
      }
      button.textContent = words.close || "×";
      button.setAttribute("aria-expanded", "true");
    }

    function close() {
      if (frame) { frame.style.display = "none"; }
      button.textContent = words.open || "💬";
      button.setAttribute("aria-expanded", "false");
    }

    button.addEventListener("click", function () {
      if (button.getAttribute("aria-expanded") === "true") { close(); } else { open(); }
    });
    document.body.appendChild(button);
    ns.open = open;
    ns.close = close;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
