// Shows each <time datetime="…"> in the reader's own time zone; the UTC time stays in its title (shown on hover).
// Pages read the same without it.
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  });
  document.querySelectorAll("time[datetime]").forEach(function (node) {
    var when = new Date(node.getAttribute("datetime"));
    if (isNaN(when.getTime())) { return; }
    node.title = node.textContent.trim();
    node.textContent = format.format(when);
  });
})();
