/* SatuPintu: a live notice on the deviations page when a deviation is asked. The words come
   from data-* attributes the server rendered through gettext; this file holds none. */
(function () {
  "use strict";
  var box = document.getElementById("deviation-live");
  if (!box || !window.WebSocket) { return; }
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var socket = new WebSocket(scheme + window.location.host + "/ws/notifications/");
  socket.onopen = function () { box.setAttribute("data-live-state", "open"); };
  socket.onclose = function () { box.setAttribute("data-live-state", "closed"); };
  socket.onmessage = function (event) {
    var message = JSON.parse(event.data);
    var p = message.payload;
    if (message.type !== "notification" || !p || p.kind !== "deviation") { return; }
    var template = box.getAttribute("data-msg-" + p.event);
    if (!template) { return; }
    var div = document.createElement("div");
    div.className = "flash flash-info";
    div.setAttribute("role", "status");
    div.setAttribute("data-testid", "deviation-notice");
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = template.replace("%(case)s", p["case"]).replace("%(step)s", p.step);
    div.appendChild(link);
    box.insertBefore(div, box.firstChild);
  };
}());
