/* Small behaviours every page shares. */
(function () {
  "use strict";
  // On a phone the card's tab strip scrolls sideways: keep the open tab in sight.
  function showSelectedTab(root) {
    var tab = (root || document).querySelector('.tabs [aria-current="page"]');
    if (!tab) { return; }
    var strip = tab.closest(".tabs ul");
    var left = tab.offsetLeft - strip.offsetLeft;
    if (left < strip.scrollLeft || left + tab.offsetWidth > strip.scrollLeft + strip.clientWidth) {
      strip.scrollLeft = left - (strip.clientWidth - tab.offsetWidth) / 2;
    }
  }
  // A search or filter sends, and puts in the address bar, only the fields that are set:
  // /?q=wang rather than /?q=wang&state=&owner=&team=&...
  document.addEventListener("htmx:configRequest", function (e) {
    if (e.detail.verb !== "get" || !e.detail.formData) { return; }
    var empty = [];
    e.detail.formData.forEach(function (value, name) { if (value === "") { empty.push(name); } });
    empty.forEach(function (name) { e.detail.formData.delete(name); });
  });
  // A finished job's progress bar reloads the whole page (HX-Refresh). Until the new page
  // arrives, nothing on the old one asks the server again: a bar polling every second
  // would start the reload over each time, and a page slower than that would never come.
  var reloading = false;
  document.addEventListener("htmx:beforeOnLoad", function (e) {
    if (e.detail.xhr && e.detail.xhr.getResponseHeader("HX-Refresh") === "true") {
      reloading = true;
    }
  });
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (reloading) { e.preventDefault(); }
  });
  document.addEventListener("DOMContentLoaded", function () { showSelectedTab(document); });
  document.addEventListener("htmx:afterSwap", function (e) { showSelectedTab(e.target); });
})();
