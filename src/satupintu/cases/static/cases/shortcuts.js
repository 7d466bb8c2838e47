// Case page keyboard shortcuts: n note, r reply, s status, ? help. Texts come translated
// from the template (data attributes of #shortcut-help); keys typed into fields are ignored.
(function () {
  "use strict";
  var help = document.getElementById("shortcut-help");
  if (!help) { return; }
  var targets = { n: "note-body", r: "reply-body", s: "status" };

  function build() {
    if (help.childElementCount) { return; }
    var d = help.dataset;
    var title = document.createElement("h2");
    title.id = "shortcut-help-title";
    title.textContent = d.title;
    var list = document.createElement("dl");
    [["n", d.keyN], ["r", d.keyR], ["s", d.keyS], ["?", d.keyHelp]].forEach(function (row) {
      var dt = document.createElement("dt");
      var kbd = document.createElement("kbd");
      kbd.textContent = row[0];
      dt.appendChild(kbd);
      var dd = document.createElement("dd");
      dd.textContent = row[1];
      list.appendChild(dt);
      list.appendChild(dd);
    });
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = d.close;
    close.addEventListener("click", function () { help.hidden = true; });
    help.appendChild(title);
    help.appendChild(list);
    help.appendChild(close);
  }

  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return el.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if (event.key === "Escape" && !help.hidden) { help.hidden = true; return; }
    if (event.key === "?") {
      build();
      help.hidden = !help.hidden;
      event.preventDefault();
      return;
    }
    var id = targets[event.key];
    var field = id && document.getElementById(id);
    if (field) {
      help.hidden = true;
      field.focus();
      event.preventDefault();
    }
  });
})();
