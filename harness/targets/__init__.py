"""Targets: the platform a cell runs on, the host itself or an emulated one.

* `registry`: the targets of a run (`--platform`) and what each provides.
* `launchers`: how a server process is started and signalled on its target.
* `wine/`: the `windows-wine` target (Windows CPython under Wine).
"""
