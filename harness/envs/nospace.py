"""A full disk is the machine's problem, never the release's.

An environment build that fails because the disk (or a quota) is full says
nothing about the release being installed; reported as `install-error` it
made the run exit 1 and a gate blame the candidate.  The executor asks
`out_of_space` and makes such cells an `error` (exit 2) instead.
"""

from __future__ import annotations

import errno
import re

#: How installers and Python say the disk or a quota is full (uv: "os error 28").
_NO_SPACE = re.compile(
    r"No space left on device|Disk quota exceeded|File too large|\bENOSPC\b|\bEDQUOT\b|"
    r"\[Errno (?:28|122|27)\]|os error (?:28|122|27)\b",
    re.IGNORECASE,
)
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def out_of_space(text: str) -> bool:
    """True when an installer's or the harness's error text says the disk is full."""
    return _NO_SPACE.search(text) is not None
