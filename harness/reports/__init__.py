"""Presentation: every wording and rendering of cells, claims and verdicts.

* `merge`: results files united into cells (conflicts kept); `model` groups them
  into scenarios with their re-judged claims: what every writer renders.
* `overview`: each scenario's releases merged into ranges of identical results
  per Python, and each Python's newest release with no known failure; pure, and
  drawn alike by the HTML, the terminal and the Markdown.
* `html` (with `html_views` for the overview), `junit`, `markdown`: the files;
  `outputs` writes the ones asked for; `links` labels upstream links.
* `terminal_overview`: the summary after a run; `terminal`: the full matrix
  (`--matrix full`); `progress`: live progress or plain lines.
* `gate`, `bisect`: the gate's and bisect's verdicts in words.
* `ranges`: the observed-ranges table.
"""
