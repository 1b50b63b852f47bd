/* Suggested 小类 on the intake form: a click picks one; with no category chosen yet (or
   only an earlier automatic pick) the best suggestion is preselected. */
(function () {
  "use strict";
  var box = document.getElementById("triage-suggestions");
  var categoryInput = document.getElementById("id_category");
  var searchInput = document.getElementById("category-search");
  var chosen = document.getElementById("category-chosen");
  if (!box || !categoryInput) { return; }

  function choose(button, automatic) {
    categoryInput.value = button.dataset.categoryId;
    if (automatic) { categoryInput.dataset.auto = "1"; } else { delete categoryInput.dataset.auto; }
    if (searchInput) { searchInput.value = button.dataset.categoryLabel; }
    if (chosen) { chosen.textContent = (chosen.dataset.chosenPrefix || "") + button.dataset.categoryLabel; }
    document.body.dispatchEvent(new CustomEvent("intake:category", { bubbles: true }));
  }

  box.addEventListener("click", function (event) {
    var button = event.target.closest("[data-category-id]");
    if (button) { choose(button, false); }
  });
  // A category picked by hand in the search list is never overwritten. Capture phase: the
  // list's own handler empties the list, so the button is detached once the click bubbles.
  document.addEventListener("click", function (event) {
    if (event.target.closest("#category-results [data-category-id]")) { delete categoryInput.dataset.auto; }
  }, true);
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== box) { return; }
    var top = box.querySelector("[data-category-id]");
    if (top && (!categoryInput.value || categoryInput.dataset.auto === "1")) { choose(top, true); }
  });
})();
