"""Shared fixtures and the CI policy on skips.

Real data lives in ``../shared`` next to the repository root (see docs/data.md). Tests that need it
use the ``shared_dir`` fixture: locally they skip with a reason when it is absent, but under CI
(``CI`` set in the environment) a missing ``../shared`` is a failure, never a silent skip.

More generally, under CI every skip is turned into a failure (a missing extra, a missing browser, a
missing data folder all mean CI is not testing what it claims), except skips whose reason names hardware
that CI machines do not have (:data:`CI_ALLOWED_SKIPS`, e.g. a CUDA device).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HSE_SHARED", REPO_ROOT.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
#: Skip reasons (substrings) that are acceptable under CI: hardware CI machines do not have.
CI_ALLOWED_SKIPS = ("CUDA", "GPU")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "README.md").is_file():
        if IN_CI:
            pytest.fail(f"CI needs the shared data at {SHARED}, but it is missing")
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not IN_CI or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if any(word in reason for word in CI_ALLOWED_SKIPS):
        return
    report.outcome = "failed"
    report.longrepr = f"skipped under CI, which must run every test: {reason}"
