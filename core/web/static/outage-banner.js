// The outage plugin's live banner (plugins/outage/templates/_banner.html): the server pushes the banner's
// HTML on the "banner" event of /ui/outage/stream. A file of its own, because the Content-Security-Policy
// allows no inline script.
"use strict";
(function () {
  var box = document.getElementById("outage-banner");
  if (!box || !window.EventSource) { return; }
  var source = new EventSource("/ui/outage/stream");
  source.addEventListener("banner", function (e) { box.innerHTML = e.data; });
})();
