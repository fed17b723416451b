/* Counting-down clocks of the ops console (docs/console.md).
 *
 * Every element with data-deadline="<ISO 8601 UTC>" gets its text rewritten every 30 s:
 * "<prefix>2 h 14 min left", or "<prefix>5 min overdue" once the deadline has passed, where the
 * prefix is the element's data-deadline-prefix. Class ops-amber under 1 h, ops-red under 30 min
 * and once overdue. The server renders the same text, so the page reads right without JavaScript.
 * The browser's clock is corrected by the server's time (meta ops-server-time, epoch seconds).
 */
(function () {
  "use strict";

  var AMBER_UNDER = 60 * 60 * 1000;
  var RED_UNDER = 30 * 60 * 1000;
  var REFRESH_EVERY = 30 * 1000;
  var offset = 0;

  function duration(milliseconds) {
    var minutes = Math.floor(Math.abs(milliseconds) / 60000);
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours) {
      return minutes ? hours + " h " + minutes + " min" : hours + " h";
    }
    return minutes + " min";
  }

  function describe(left) {
    if (left <= 0) {
      return {text: duration(left) + " overdue", css: "ops-red"};
    }
    return {
      text: duration(left) + " left",
      css: left < RED_UNDER ? "ops-red" : left < AMBER_UNDER ? "ops-amber" : ""
    };
  }

  function refresh() {
    var now = Date.now() + offset;
    var clocks = document.querySelectorAll("[data-deadline]");
    for (var index = 0; index < clocks.length; index++) {
      var clock = clocks[index];
      var deadline = Date.parse(clock.getAttribute("data-deadline"));
      if (isNaN(deadline)) {
        continue;
      }
      var shown = describe(deadline - now);
      clock.textContent = (clock.getAttribute("data-deadline-prefix") || "") + shown.text;
      clock.classList.remove("ops-amber", "ops-red");
      if (shown.css) {
        clock.classList.add(shown.css);
      }
    }
  }

  function start() {
    var serverTime = document.querySelector('meta[name="ops-server-time"]');
    var seconds = serverTime ? parseInt(serverTime.getAttribute("content"), 10) : NaN;
    if (!isNaN(seconds)) {
      offset = seconds * 1000 - Date.now();
    }
    refresh();
    window.setInterval(refresh, REFRESH_EVERY);
  }

  window.opsConsole = {describe: describe, refresh: refresh};
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
