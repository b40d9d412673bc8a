"""Names vulture reports as unused that are used where vulture cannot see.

Checked with `vulture harness tools/vulture_whitelist.py --min-confidence 60`
(the `lint` nox session).  Each line marks one name as used; the comment says
who uses it.  vulture matches names, not objects: an entry covers every
definition of that name, so keep entries to names that are really used.
Never imported or run; `_` stands for any object.
"""

# ruff: noqa: B018
from unittest.mock import Mock

_ = Mock()

# --- Used by something outside Python's view -------------------------------------------

_.formatter_class  # argparse reads it: commands/bisect.py sets it on its subparser
_.handle_starttag  # HTMLParser callback (envs/index.py's PEP 503 page parser)
_.handle_data  # HTMLParser callback (same parser)
_.handle_endtag  # HTMLParser callback (same parser)
_.overflow  # rich reads Text.overflow when it renders a matrix cell (reports/terminal.py)
_.render_html  # the page as one string: tests/unit/reports and benchmarks/report_scale.py
_.anchor  # read by reports/templates/report.html.j2 (OverviewRow.anchor: a scenario's link)
_.more_href  # read by reports/templates/spans.html.j2 (a shortened overview cell's link)
_.not_run_on  # read by reports/templates/report.html.j2 (the overview row, on a phone)
_.get_renderables  # rich's Progress calls it to draw (reports/progress.py's bar + activity)
_.claims_origin  # read by reports/templates/report.html.j2 (the claims table's caption)
_.watchdog_pid  # run record field, written to <cache>/runs/*.json; the fault tests read it
_.reaped_at  # run record field, written by the watchdog; RunRecord.load takes it back
_.warm_ups  # WineSession counter read by benchmarks/wine_costs.py
_.max_duration_s  # a scenario's time bound: the fault tests hold the runner to it

# --- Context manager protocol: __exit__ must accept these arguments ---------------------

_.exc_type  # __exit__ parameter (procs/run_records.py, targets/wine/prefix.py)
_.tb  # __exit__ parameter (procs/run_records.py)
_.traceback  # __exit__ parameter (targets/wine/prefix.py)
_.exc_info  # __exit__(*exc_info) parameter (runner/probes/http.py)

# --- Evidence kept in an observation, read by the fault suite -------------------------

_.leftover_processes  # how many processes outlived the stop; tests/faults asserts none
