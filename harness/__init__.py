"""Reproduction and regression harness for Python ASGI servers (uvicorn first).

A cell (scenario x release x Python x platform) travels through the stage
packages in this order; docs/architecture.md tells the whole journey:

* `scenario/` the TOML files -> `plan/` the cells -> `envs/` a venv per release
  -> `targets/` where it runs -> `runner/` one cell's server life (launch,
  readiness, probes, stop; `procs/` keeps every process accounted for)
  -> `judge/` outcome, claims, exit code -> `results` the file
  -> `reports/` terminal, HTML, JUnit, Markdown.
* `engine/` drives plan and execution; `analyses/` answer questions over cells
  (bisect, gate, narrowing); `commands/` are the CLI verbs.
* Foundation used by all: `errors` (exception hierarchy, exit codes),
  `outcomes` (the outcome vocabulary), `atomic` (crash-safe writes),
  `platforms`, `httpx_import`.
"""

__version__ = "0.1.0"
