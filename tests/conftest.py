"""Shared fixtures.

Real data lives in ``../shared`` next to the repository root (see docs/data.md). Tests that need it
use the ``shared_dir`` fixture: locally they skip with a reason when it is absent, but under CI
(``CI`` set in the environment) a missing ``../shared`` is a failure, never a silent skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HSE_SHARED", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "README.md").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the shared data at {SHARED}, but it is missing")
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT
