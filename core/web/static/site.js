/* innoplat's only script; every page works without it.

   1. A form sent back with errors: focus moves to the error summary, so a screen reader reads
      it first and a keyboard user starts from its links to the fields.
   2. The narrow-screen menu: folded behind a button when JavaScript runs, simply shown when it
   does not. The button says whether the menu is open (aria-expanded) and works with the keyboard
   like any button; Escape folds the menu again and returns focus to the button. */
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary[tabindex]");
  if (summary) summary.focus();
})();

(function () {
  "use strict";
  var toggle = document.querySelector(".menu-toggle");
  var menu = document.getElementById("main-menu");
  var parts = document.querySelectorAll(".site-header .foldable");
  if (!toggle || !menu) return;
  var narrow = window.matchMedia("(max-width: 48rem)");

  function show(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    for (var i = 0; i < parts.length; i++) parts[i].classList.toggle("folded", !open);
  }

  function layout() {
    toggle.hidden = !narrow.matches;
    show(!narrow.matches);
  }

  toggle.addEventListener("click", function () {
    show(toggle.getAttribute("aria-expanded") !== "true");
  });
  document.querySelector(".site-header").addEventListener("keydown", function (event) {
    if (event.key === "Escape" && narrow.matches) {
      show(false);
      toggle.focus();
    }
  });
  narrow.addEventListener("change", layout);
  layout();
})();
