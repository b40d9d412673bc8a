"""Analyses over cells: questions answered by choosing and reading cells.

* `bisect`: the edge search over ordered releases (pure: indices and marks).
* `bisect_setup`: what a bisect searches and what stops it.
* `gate`: the gate's verdict on a candidate release (pure).
* `userdeps`: the user's own requirements, pins and lock files.
* `narrowing`: a few extra cells that pin claim edges a selection left open.
"""
