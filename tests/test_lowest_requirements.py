"""Which end of the requirement ranges a run tests: the lowest versions when scripts/test puts
`.lowest/` in front (PYTHONPATH), else requirements/dev.txt's. Guards the second run from silently
testing the same versions twice."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

from packaging.requirements import Requirement

from scripts.lib.lowest import lowest_pins

ROOT = Path(__file__).resolve().parent.parent


def dev_pin(name: str) -> str:
    for line in (ROOT / "requirements" / "dev.txt").read_text().splitlines():
        if (text := line.split("#")[0].strip()) and Requirement(text).name == name:
            return text.split("==")[1]
    raise AssertionError(f"requirements/dev.txt does not pin {name}")


def test_the_imported_versions_are_the_end_this_run_tests() -> None:
    lowest_run = str(ROOT / ".lowest") in sys.path
    for pin in lowest_pins():
        name, _, lowest = pin.partition("==")
        expected = lowest if lowest_run else dev_pin(name)
        assert importlib.metadata.version(name) == expected, (name, "lowest" if lowest_run else "dev")
