"""Camera Hub's requirements install beside Home Assistant's own, without a tug of war.

HA installs every loaded integration's requirements at start-up. When ours exclude the version a
core integration pins (python-kasa: core `tplink`, which every Kasa/Tapo plug owner runs), the two
reinstall over each other on every restart. So each requirement is a range that admits what the
HA under test pins — in its core manifests and in its package constraints — and the suite runs
at both ends of each range: requirements/dev.txt pins the newest, scripts/test runs the Tapo
login tests again with the lowest (scripts/lib/lowest.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import homeassistant
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scripts.lib.lowest import lowest_pins

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "custom_components" / "camera_hub" / "manifest.json"
HA_ROOT = Path(homeassistant.__file__).parent


def ours() -> list[Requirement]:
    return [Requirement(line) for line in json.loads(MANIFEST.read_text())["requirements"]]


def core_pins() -> Iterator[tuple[str, Requirement]]:
    """(where, requirement) for every core integration's requirements and HA's constraints."""
    for manifest in sorted((HA_ROOT / "components").glob("*/manifest.json")):
        for line in json.loads(manifest.read_text()).get("requirements", []):
            yield f"core integration {manifest.parent.name}", Requirement(line)
    for line in (HA_ROOT / "package_constraints.txt").read_text().splitlines():
        if (line := line.split("#")[0].strip()) and not line.startswith("-"):
            yield "HA's package_constraints.txt", Requirement(line)


def pinned_version(requirement: Requirement) -> str | None:
    exact = [spec.version for spec in requirement.specifier if spec.operator == "=="]
    return exact[0] if len(exact) == 1 else None


@pytest.mark.parametrize("requirement", ours(), ids=lambda r: r.name)
def test_core_pins_of_our_libraries_are_inside_our_ranges(requirement: Requirement) -> None:
    clashes = [
        f"{where} pins {core}"
        for where, core in core_pins()
        if canonicalize_name(core.name) == canonicalize_name(requirement.name)
        and (version := pinned_version(core)) is not None
        and not requirement.specifier.contains(version, prereleases=True)
    ]
    assert not clashes, f"{requirement} excludes what this HA installs: {clashes}"


def test_the_suite_runs_the_newest_allowed_versions() -> None:
    """requirements/dev.txt (what .venv holds) pins versions inside the manifest's ranges."""
    dev = {
        canonicalize_name(r.name): r
        for r in (
            Requirement(line.split("#")[0].strip())
            for line in (ROOT / "requirements" / "dev.txt").read_text().splitlines()
            if line.split("#")[0].strip()
        )
    }
    for requirement in ours():
        pinned = dev[canonicalize_name(requirement.name)]
        version = pinned_version(pinned)
        assert version is not None, f"requirements/dev.txt must pin {requirement.name} exactly"
        assert requirement.specifier.contains(version, prereleases=True), (pinned, requirement)


def test_ranges_name_their_lowest_version() -> None:
    """Every range has a lower bound, the version scripts/test runs the Tapo tests with."""
    lowest = {
        canonicalize_name(r.name): v for r, v in ((Requirement(p), p.split("==")[1]) for p in lowest_pins())
    }
    for requirement in ours():
        if pinned_version(requirement) is None:
            assert canonicalize_name(requirement.name) in lowest, f"{requirement} has no `>=` lower bound"
            assert requirement.specifier.contains(lowest[canonicalize_name(requirement.name)])
