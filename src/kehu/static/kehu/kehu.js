/* Small behaviours every page shares. */
(function () {
  "use strict";
  // On a phone the card's tab strip scrolls sideways: keep the open tab in sight.
  function showSelectedTab(root) {
    var tab = (root || document).querySelector('.tabs [aria-selected="true"]');
    if (!tab) { return; }
    var strip = tab.closest(".tabs");
    var left = tab.offsetLeft - strip.offsetLeft;
    if (left < strip.scrollLeft || left + tab.offsetWidth > strip.scrollLeft + strip.clientWidth) {
      strip.scrollLeft = left - (strip.clientWidth - tab.offsetWidth) / 2;
    }
  }
  document.addEventListener("DOMContentLoaded", function () { showSelectedTab(document); });
  document.addEventListener("htmx:afterSwap", function (e) { showSelectedTab(e.target); });
})();
