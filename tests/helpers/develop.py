"""`scripts/develop` as a child process of a test, up to its READY line (tests/e2e, tests/browser)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest

from scripts.lib.hass import ROOT

READY_WITHIN = 180.0


def start_develop(*argv: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start scripts/develop and wait for READY; the caller stops the process (even when this fails:
    the process is returned only with READY, and killed here otherwise)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.lib.develop", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + READY_WITHIN
        # develop prints READY once everything answers; reading its lines is the wait.
        for line in process.stdout:
            if line.startswith("READY "):
                return process, json.loads(line.removeprefix("READY "))
            assert time.monotonic() < deadline, "scripts/develop did not get ready"
        pytest.fail(f"scripts/develop exited with {process.wait()} before READY")
    except BaseException:
        process.kill()
        process.wait()
        raise
