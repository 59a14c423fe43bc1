"""The release's integration zip is what HACS installs: named as hacs.json says, and extracted the way HACS
extracts a `zip_release` asset (everything into config/custom_components/<domain>/) it gives exactly the
integration folder of the tagged commit."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from scripts.lib.hass import ROOT
from tests.release.release_script import RELEASE_SCRIPT, release

INTEGRATION = ROOT / "custom_components" / "camera_hub"


def build(out: Path) -> Path:
    built = subprocess.run(
        [sys.executable, str(RELEASE_SCRIPT), "zip", str(out)], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    return out


def hacs_unpacks(archive: Path, config: Path, domain: str) -> Path:
    """HACS's download of a zip_release integration: the asset extracted into its integration folder."""
    target = config / "custom_components" / domain
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(target)
    return target


def test_zip_unpacks_into_the_integration_folder_hacs_expects(tmp_path: Path) -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert hacs["zip_release"] is True
    archive = build(tmp_path / "dist" / hacs["filename"])
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())

    installed = hacs_unpacks(archive, tmp_path / "config", manifest["domain"])

    unpacked_manifest = json.loads((installed / "manifest.json").read_text())
    assert unpacked_manifest["domain"] == installed.name == hacs["filename"].removesuffix(".zip")
    assert unpacked_manifest["version"] == release.the_version(ROOT)
    tracked = {path.relative_to(INTEGRATION).as_posix() for path in release.tracked_files(INTEGRATION)}
    unpacked = {path.relative_to(installed).as_posix() for path in installed.rglob("*") if path.is_file()}
    assert unpacked == tracked
    assert {"__init__.py", "manifest.json", "translations/en.json", "brand/icon.png"} <= unpacked
    assert not [name for name in unpacked if "__pycache__" in name or name.endswith(".pyc")]
    for name in unpacked:
        assert (installed / name).read_bytes() == (INTEGRATION / name).read_bytes(), name


def test_zip_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    first = build(tmp_path / "a" / "camera_hub.zip").read_bytes()
    second = build(tmp_path / "b" / "camera_hub.zip").read_bytes()
    assert first == second
