"""Presentation: every wording and rendering of cells, claims and verdicts.

* `merge`: results files united into cells (conflicts kept); `model` groups them
  into scenarios with their re-judged claims: what every writer renders.
* `html`, `junit`, `markdown`: the files; `outputs` writes the ones asked for.
* `terminal`: the matrix on the console; `progress`: live progress or plain lines.
* `gate`, `bisect`: the gate's and bisect's verdicts in words.
* `ranges`: the observed-ranges table.
"""
