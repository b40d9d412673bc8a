"""Environments: where releases come from and the venvs they are installed in (stage 3).

* `index_config`: the user's package index settings, read as pip and uv read them.
* `index`: release discovery through the simple API (cached, `--offline`).
* `interpreters`: Pythons on PATH, in pyenv, or given explicitly.
* `backends`: uv (fast path) and virtualenv + pip.
* `cache`: one cached venv per (release, Python, extras, pins, backend), atomic and locked.
* `diskusage`: what the cache really takes on disk (hard links counted once).
"""
