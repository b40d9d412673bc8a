"""Misbehaving ASGI apps for the fault suite (tests/faults): each fails in one way.

They are reference apps like `hello.py`, but broken on purpose: a start-up that
never completes, an import that raises, a flood of output, helpers that ignore
signals, a server that exits at once, a response that never ends.
"""
