/* gridgov shell behaviour: phone navigation drawer, one submission per form, batch selection. */
(function () {
  "use strict";

  // Phone: the side navigation is a drawer opened by the menu button.
  function setNav(open) {
    document.body.classList.toggle("nav-open", open);
    document.querySelectorAll("[data-nav-toggle]").forEach(function (el) {
      if (el.hasAttribute("aria-expanded")) el.setAttribute("aria-expanded", String(open));
      if (el.classList.contains("sidenav-backdrop")) el.hidden = !open;
    });
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-nav-toggle]")) {
      setNav(!document.body.classList.contains("nav-open"));
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") setNav(false);
  });

  // A form posts once: a second click while the first request runs is ignored. The server
  // also refuses a replay (the form carries the case version), this just spares the round trip.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.method.toLowerCase() !== "post") return;
    if (form.dataset.submitted === "1") {
      event.preventDefault();
      return;
    }
    var confirmText = form.dataset.confirm;
    if (confirmText && !window.confirm(confirmText)) {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
    form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (button) {
      button.setAttribute("aria-disabled", "true");
    });
  }, true);
  // Going back to a page from the browser cache must leave its forms usable.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitted]").forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll("[aria-disabled]").forEach(function (b) { b.removeAttribute("aria-disabled"); });
    });
  });

  // Batch tables: "select all" and the count of selected rows.
  document.addEventListener("change", function (event) {
    var box = event.target;
    var table = box.closest("[data-batch]");
    if (!table) return;
    if (box.matches("[data-select-all]")) {
      table.querySelectorAll("input[name=cases]").forEach(function (b) { b.checked = box.checked; });
    }
    var count = table.querySelectorAll("input[name=cases]:checked").length;
    table.querySelectorAll("[data-selected-count]").forEach(function (el) { el.textContent = count; });
    table.querySelectorAll("[data-batch-submit]").forEach(function (b) { b.disabled = count === 0; });
  });
})();

/* Links such as /cases/12/#action-verify open that action's box. */
(function () {
  "use strict";
  function openFromHash() {
    if (!location.hash) return;
    var target = document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") {
      target.open = true;
      target.scrollIntoView({ block: "start" });
    }
  }
  window.addEventListener("hashchange", openFromHash);
  document.addEventListener("DOMContentLoaded", openFromHash);
})();
