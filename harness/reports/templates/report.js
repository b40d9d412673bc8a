/* Filters and single-cell evidence for the compatibility report.  The page works
   without this script: every cell is shown and opens on click. */
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  form.hidden = false;
  // Grid headers stick just below the (sticky) filter bar.
  function stickBelowFilters() {
    document.documentElement.style.setProperty("--sticky-top", form.offsetHeight + "px");
  }
  stickBelowFilters();
  window.addEventListener("resize", stickBelowFilters);
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.scenario"));
  var status = form.elements.status;

  function apply() {
    var scenario = form.elements.scenario.value;
    var outcome = form.elements.outcome.value;
    var python = form.elements.python.value;
    var platform = form.elements.platform.value;
    var onlyUnexpected = form.elements.unexpected.checked;
    var cells = 0;
    var shownSections = 0;
    sections.forEach(function (section) {
      var any = false;
      if (!scenario || section.getAttribute("data-scenario") === scenario) {
        var hiddenColumns = {};
        section.querySelectorAll("table.grid thead th[data-col]").forEach(function (th) {
          var hide = (python && th.getAttribute("data-python") !== python) ||
            (platform && th.getAttribute("data-platform") !== platform);
          th.hidden = !!hide;
          if (hide) { hiddenColumns[th.getAttribute("data-col")] = true; }
        });
        section.querySelectorAll("table.grid tbody tr").forEach(function (row) {
          var rowAny = false;
          row.querySelectorAll("td[data-col]").forEach(function (td) {
            var hide = hiddenColumns[td.getAttribute("data-col")] === true;
            td.hidden = hide;
            if (!td.classList.contains("cell")) { return; }
            var match = !hide &&
              (!outcome || td.getAttribute("data-outcome") === outcome) &&
              (!onlyUnexpected || td.getAttribute("data-unexpected") === "1");
            td.classList.toggle("dim", !match);
            if (match) { rowAny = true; cells += 1; }
          });
          row.hidden = !rowAny;
          any = any || rowAny;
        });
      }
      section.hidden = !any;
      if (any) { shownSections += 1; }
    });
    status.value = cells + " cell(s) in " + shownSections + " scenario(s) match";
  }

  form.addEventListener("change", apply);
  form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });

  function closeOthers(except) {
    document.querySelectorAll("td.cell details[open]").forEach(function (open) {
      if (open !== except) { open.open = false; }
    });
  }
  document.addEventListener("toggle", function (event) {
    var target = event.target;
    if (target.open && target.closest && target.closest("td.cell")) {
      closeOthers(target);
      // The end of the output is where a server says why it died.
      target.querySelectorAll("pre.tail").forEach(function (pre) { pre.scrollTop = pre.scrollHeight; });
    }
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeOthers(null); }
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("td.cell details")) { closeOthers(null); }
  });
  apply();
}());
