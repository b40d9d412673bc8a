"""The engine: plan cells and execute them, environments built while cells run.

* `pipeline`: `Harness`, a configured harness (index, interpreters, targets, caches)
  that plans and executes, and its settings.
* `executor`: cells in parallel: build or reuse the env, run, classify;
  `env_spec_for`, the one definition of a cell's environment.
* `schedule`: the costliest cells first, builds pipelined with runs.
* `cellcache`: observed cells kept for bisect and claims; `cellsource` answers
  cells from it or runs them now.
* `progress`: the protocol through which the engine reports progress.
"""
