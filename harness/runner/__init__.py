"""Run one cell against a real server and record what happened (no judgement).

* `cell`: `CellRunner`, port retries and exclusive resources; runs the stages below in order.
* `launch`: the command, environment and placeholders of a server, and starting it.
* `readiness`: waiting for the ready line and a connection, giving up early on exit.
* `probing`: the scenario's probes and checks against the ready server.
* `stopping`: the stop signal, escalation to SIGTERM and SIGKILL, reaping, leftovers.
* `endpoints`: where the server listens (tcp, uds, fd) and how probes reach it.
* `ports`: free-port allocation, who holds a port, which ports processes listen on.
* `sockets`: listening sockets straight from the Linux kernel, for `ports`.
* `output`: bounded capture of the server's output, with line patterns counted live.
* `exclusive`: resources (a fixed port) no two cells may use at once, across runs.
* `observation`: the checks and facts of one run that the judge classifies.
* `stranded`: a parent whose workers all died, seen before the readiness bound.
* `probes/`: one module per kind of probe; see `harness.runner.probes`.
"""
