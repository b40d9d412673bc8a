"""Scenarios: what to start, what to expect, which failures are known (stage 1).

* `model`: the typed values (`Scenario`, `Server`, checks, `Signature`, `Claim`, `Matrix`).
* `loader`: TOML files into `Scenario`s, strict: one line naming file and field.
* `expectations`: the `[expect]` tables and `[[signature]]`s (the checks vocabulary).
* `placeholders`: `{name}` placeholders in commands, environment values and paths.
* `toml_table`: a TOML table read field by field, with those one-line errors.
"""
