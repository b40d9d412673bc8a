"""A full disk is the machine's problem (harness.envs.nospace), and its cells are errors."""

from __future__ import annotations

import pytest

from harness.envs.nospace import out_of_space


@pytest.mark.parametrize(
    "text",
    [
        "uv venv failed: failed to write to file `x`: No space left on device (os error 28)",
        "OSError: [Errno 28] No space left on device: '/cache/envs/x'",
        "ERROR: Could not install packages due to an OSError: [Errno 122] Disk quota exceeded",
        "building x: [Errno 27] File too large",
    ],
)
def test_installer_words_for_a_full_disk(text: str) -> None:
    assert out_of_space(text)


@pytest.mark.parametrize(
    "text", ["No solution found when resolving dependencies", "Failed to fetch: 404", ""]
)
def test_other_failures_are_not_a_full_disk(text: str) -> None:
    assert not out_of_space(text)
