/* The copy button of the chat widget set-up page. Plain JavaScript, nothing loaded from
   elsewhere; the button stays hidden without JavaScript (the text can still be selected). */
(function () {
  "use strict";

  function fallbackCopy(area) {
    area.focus();
    area.select();
    try {
      return document.execCommand("copy");
    } catch (e) {
      return false;
    }
  }

  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var area = document.getElementById(button.getAttribute("data-copy-target"));
    var status = button.parentNode.querySelector("[data-copy-status]");
    if (!area) return;
    button.hidden = false;

    function say(ok) {
      if (status) {
        status.textContent = button.getAttribute(ok ? "data-copied" : "data-copy-failed");
      }
      if (!ok) {
        area.focus();
        area.select();
      }
    }

    button.addEventListener("click", function () {
      var text = area.value;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { say(true); },
          function () { say(fallbackCopy(area)); });
      } else {
        say(fallbackCopy(area));
      }
    });
  });
})();
