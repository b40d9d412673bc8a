"""Processes: every child in its own session, tracked so that none outlives the harness.

* `registry`: spawning, the marker every child carries, killing whole sessions.
* `proctable`: Linux's process table read from /proc (the per-cell scans).
* `control`: how a process tree is started, stopped and killed on each OS.
* `run_records`: a run's record on disk and recovery from runs that were killed.
* `watchdog`: `python -m harness.procs.watchdog`, reaps a run whose harness died.
"""
