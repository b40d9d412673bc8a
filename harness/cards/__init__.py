"""Fix cards: read a public fix card, draft a scenario from it, verify it for real.

Ranks with `harness.analyses`: it may use the engine and below, never the
reports or the commands.  Card text is hostile input: every reader here bounds
sizes and keeps only short, sanitised excerpts.
"""
