"""Import httpx for synchronous use only, without the parts the harness never uses.

Importing httpx also imports its command-line tool (click, pygments, rich's
progress bars) whenever those are installed, and its first client imports
httpcore, which imports trio and anyio when they are installed, for async use.
The harness makes synchronous requests only, yet would pay for all of that on
every run: several times the cost of httpx itself.  Both libraries expect these
imports to fail (they fall back to a stub and to `None`), so `load()` makes
them fail for the duration of its import, then removes its marks: code that
imports trio or anyio later still gets them.  Modules that need httpx call
`load()` and import httpx where they use it.
"""

from __future__ import annotations

import sys
import threading

#: Optional imports of httpx and httpcore that synchronous use does not need.
_SKIPPED = ("httpx._main", "trio", "anyio")
_lock = threading.Lock()


def load() -> None:
    """Import httpx and httpcore (once), skipping `_SKIPPED` unless already imported."""
    with _lock:
        if "httpx" in sys.modules and "httpcore" in sys.modules:
            return
        marked = [name for name in _SKIPPED if name not in sys.modules]
        for name in marked:
            sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail
        try:
            import httpcore  # noqa: F401
            import httpx  # noqa: F401
        finally:
            for name in marked:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]
