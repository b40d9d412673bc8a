"""Judgement: from what a cell showed to an outcome, a claim verdict and an exit code.

* `classify`: an observation against expectations and signatures -> `Verdict`.
* `attempts`: several runs of one cell (`--repeat`, flaky retries) -> one verdict.
* `claims`: upstream claims (`introduced_in`, `fixed_in`) checked against cells;
  the one place claims are judged (reports re-judge merged files through it).
* `exit_codes`: the one place a run becomes an exit code; network failures.
The outcomes themselves are `harness.outcomes.Outcome`.
"""
