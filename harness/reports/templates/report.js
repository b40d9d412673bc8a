/* The compatibility report's behaviour: the Python picker, evidence on demand,
   jumps to scenarios and cells, and the grid filters.  Without this script the
   overview, the ranges and the grids are all readable; only evidence needs it.
   Evidence is untrusted text: it only ever becomes DOM text nodes. */
(function () {
  "use strict";
  var root = document.documentElement;
  var form = document.getElementById("filters");

  // Anchors land below the sticky filter bar, never under it.
  function stickBelowFilters() {
    root.style.setProperty("--sticky-top", (form && !form.hidden ? form.offsetHeight : 0) + "px");
  }

  // ---- the Python picker: one column of the overview, one verdict line
  var picker = document.getElementById("python-picker");
  function pick() {
    var python = picker.value;
    document.querySelectorAll("#overview [data-python]").forEach(function (el) {
      el.hidden = !!python && el.getAttribute("data-python") !== python;
    });
    document.getElementById("overview").classList.toggle("picked", !!python);
  }
  if (picker) { picker.addEventListener("change", pick); pick(); }

  // ---- evidence, parsed once and drawn when a cell is opened
  // {cells: {id: [label, [observation...]]}, fields, shared_fields, shared}: each
  // observation is a list in `fields` order; shared fields are indices into `shared`.
  var evidence = null;
  function evidenceFor(id) {
    if (evidence === null) {
      var block = document.getElementById("evidence-data");
      evidence = block ? JSON.parse(block.textContent) : { cells: {}, fields: [], shared_fields: [], shared: [] };
    }
    var raw = evidence.cells[id];
    if (!raw) { return null; }
    var observations = raw[1].map(function (values) {
      var o = {};
      evidence.fields.forEach(function (name, i) {
        var value = values[i];
        if (value !== null && evidence.shared_fields.indexOf(name) >= 0) { value = evidence.shared[value]; }
        if (value !== null) { o[name] = value; }
      });
      return o;
    });
    return { label: raw[0], observations: observations };
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function row(dl, term, value, className) {
    if (value === undefined || value === null || value === "") { return; }
    dl.appendChild(el("dt", null, term));
    var dd = el("dd", className);
    if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = String(value); }
    dl.appendChild(dd);
  }
  function observation(o, index, count) {
    var box = el("div", "observation");
    if (count > 1) { box.appendChild(el("h4", null, "Observation " + (index + 1) + " of " + count)); }
    var dl = el("dl");
    var outcome = el("span");
    outcome.appendChild(el("span", "badge o-" + o.outcome, o.mark));
    outcome.appendChild(document.createTextNode(o.expected ? " expected" : " UNEXPECTED"));
    row(dl, "outcome", outcome);
    row(dl, "reason", o.reason);
    if (o.signature) {
      var sig = el("span");
      sig.appendChild(el("code", "signature", o.signature));
      if (o.signature_description) { sig.appendChild(document.createTextNode(": " + o.signature_description)); }
      row(dl, "matched signature", sig);
    }
    if (o.also_matched) { row(dl, "also matched", el("code", "signature", o.also_matched)); }
    if (o.fingerprint) { row(dl, "fingerprint", el("code", "fingerprint", o.fingerprint)); }
    if (o.exception) { row(dl, "last exception", el("code", "exception", o.exception)); }
    row(dl, "exit code", o.exit_code, "exit-code");
    row(dl, "duration", o.duration, "duration");
    row(dl, "stop", o.stop);
    if (o.python_full) { row(dl, "interpreter", "CPython " + o.python_full); }
    if (o.installed) { row(dl, "installed", o.installed + (o.backend ? " (" + o.backend + ")" : "")); }
    row(dl, "address", o.address);
    row(dl, "results file", o.source);
    if (o.repro) {
      var how = el("span", "repro");
      if (o.repro_script) {
        var link = el("a", null, "standalone script");
        link.setAttribute("href", "repro/" + o.repro_script);
        how.appendChild(link);
        how.appendChild(document.createTextNode(" or "));
      }
      how.appendChild(el("code", null, "python -m harness repro " + o.source + " " + o.repro));
      row(dl, "reproduce", how);
    }
    box.appendChild(dl);
    if (o.checks) {
      var ul = el("ul", "checks");
      o.checks.forEach(function (c) {
        ul.appendChild(el("li", c[1] ? "ok" : "failed", (c[1] ? "✓ " : "✗ ") + c[0] + (c[2] ? ": " + c[2] : "")));
      });
      box.appendChild(ul);
    }
    box.appendChild(el("p", "tail-label", "output tail"));
    box.appendChild(el("pre", "tail", o.tail || "(no output)"));
    return box;
  }
  // One drawer shows the open cell's evidence; cells are plain focusable tds.
  var drawer = document.getElementById("evidence");
  var opened = null;
  function closeEvidence() {
    if (opened) { opened.classList.remove("open"); opened.setAttribute("aria-expanded", "false"); }
    opened = null;
    if (drawer) { drawer.hidden = true; drawer.textContent = ""; }
  }
  function openEvidence(td) {
    var data = evidenceFor(td.id);
    if (!data || !drawer) { return; }
    closeEvidence();
    var box = el("div", "evidence-body");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Evidence for " + data.label);
    var close = el("button", "close", "close ×");
    close.type = "button";
    close.addEventListener("click", closeEvidence);
    box.appendChild(close);
    box.appendChild(el("h3", null, data.label));
    data.observations.forEach(function (o, i) { box.appendChild(observation(o, i, data.observations.length)); });
    drawer.appendChild(box);
    drawer.hidden = false;
    opened = td;
    td.classList.add("open");
    td.setAttribute("aria-expanded", "true");
    // The end of the output is where a server says why it died.
    drawer.querySelectorAll("pre.tail").forEach(function (pre) { pre.scrollTop = pre.scrollHeight; });
  }
  document.addEventListener("click", function (event) {
    var td = event.target.closest("td.cell");
    if (td) { openEvidence(td); return; }
    if (event.target.closest("a.ev")) { window.setTimeout(jump, 0); return; }  // same hash twice
    if (!event.target.closest("#evidence")) { closeEvidence(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeEvidence(); return; }
    var td = event.target.closest && event.target.closest("td.cell");
    if (td && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); openEvidence(td); }
  });

  // ---- jumps: a scenario's section, or a cell inside a folded grid
  function jump() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (!target) { return; }
    if (target.matches("td.cell")) {
      var box = target.closest("details.grid-box");
      if (box) { box.open = true; }
      openEvidence(target);
    }
    target.scrollIntoView({ block: "start" });
  }
  window.addEventListener("hashchange", jump);

  // ---- the grid filters
  if (form) {
    form.hidden = false;
    var sections = Array.prototype.slice.call(document.querySelectorAll("section.scenario"));
    var status = form.elements.status;
    var apply = function () {
      var scenario = form.elements.scenario.value;
      var outcome = form.elements.outcome.value;
      var python = form.elements.python.value;
      var platform = form.elements.platform.value;
      var onlyUnexpected = form.elements.unexpected.checked;
      var cellFilter = !!(outcome || onlyUnexpected || python || platform);
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
          section.querySelectorAll("table.grid tbody tr").forEach(function (tr) {
            var rowAny = false;
            tr.querySelectorAll("td[data-col]").forEach(function (td) {
              var hide = hiddenColumns[td.getAttribute("data-col")] === true;
              td.hidden = hide;
              if (!td.classList.contains("cell")) { return; }
              var match = !hide &&
                (!outcome || td.getAttribute("data-outcome") === outcome) &&
                (!onlyUnexpected || td.getAttribute("data-unexpected") === "1");
              td.classList.toggle("dim", !match);
              if (match) { rowAny = true; cells += 1; }
            });
            tr.hidden = !rowAny;
            any = any || rowAny;
          });
          var grid = section.querySelector("details.grid-box");
          if (grid && cellFilter) { grid.open = any; }
        }
        section.hidden = !any;
        if (any) { shownSections += 1; }
      });
      status.value = cells + " cell(s) in " + shownSections + " scenario(s) match";
    };
    form.addEventListener("change", apply);
    form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    // Nothing is filtered yet: count, without touching 20,000 cells.
    status.value = document.querySelectorAll("td.cell").length + " cell(s) in " +
      sections.length + " scenario(s)";
  }
  stickBelowFilters();
  window.addEventListener("resize", stickBelowFilters);
  if (window.location.hash) { jump(); }
}());
