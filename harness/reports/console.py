"""The console every command prints to: nothing it prints can drive the terminal.

Server output and file-supplied text reach the terminal in many places (cell
reasons, fingerprints, error messages, notes).  rich keeps an ESC character
inside printed text, so an app's exception message with `ESC ] 0 ; TITLE`
would set the window title, and one with `ESC [ 2 K` would erase a line.
Instead of trusting every call site, the console writes out each control
character of the *text* it renders (`\\x1b`); the escape sequences rich makes
itself (colours, cursor moves of the progress display) are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.segment import Segment

from harness.textsafety import visible


class SafeConsole(Console):
    """A rich console that shows control characters in printed text as `\\xNN`."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(visible(segment.text), segment.style)
            for segment in buffer
        )
