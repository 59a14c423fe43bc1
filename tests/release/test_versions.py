"""One version for the integration and the bridge, a Keep a Changelog file, and the release script's steps
(prepare, check-tag, notes) on a copy of the repository's files, run as the workflows run them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from scripts.lib.hass import ROOT
from tests.release.release_script import RELEASE_SCRIPT, release

MANIFEST = ROOT / "custom_components" / "camera_hub" / "manifest.json"
KEEP_A_CHANGELOG_KINDS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def run_release(*args: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RELEASE_SCRIPT), "--root", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_manifest_and_pyproject_carry_one_version() -> None:
    manifest_version = json.loads(MANIFEST.read_text())["version"]
    pyproject_version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert manifest_version == pyproject_version
    assert release.VERSION_RE.match(manifest_version)
    printed = run_release("version")
    assert (printed.returncode, printed.stdout.strip()) == (0, manifest_version)


def test_changelog_follows_keep_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    preamble, sections, links = release.parse_changelog(text)
    assert preamble.startswith("# Changelog")
    assert "keepachangelog.com" in preamble
    assert sections[0].name == "Unreleased"
    released = sections[1:]
    assert all(section.date and release.VERSION_RE.match(section.name) for section in released)
    assert [s.name for s in released] == sorted((s.name for s in released), key=_version_key, reverse=True)
    current = release.the_version(ROOT)
    assert all(_version_key(s.name) <= _version_key(current) for s in released)
    for section in sections:
        kinds = set(re.findall(r"^### (.+)$", section.body, re.MULTILINE))
        assert kinds <= KEEP_A_CHANGELOG_KINDS, (section.name, kinds)
    linked = {line.split("]")[0][1:].lower() for line in links}
    assert {s.name.lower() for s in released} <= linked
    # Until the first release every user-visible change waits under Unreleased.
    assert released or sections[0].body


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _copy_of_the_release_files(tmp_path: Path) -> Path:
    for name in ("pyproject.toml", "CHANGELOG.md", "README.md", "custom_components/camera_hub/manifest.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_prepare_then_the_tag_check_and_notes_a_release_runs(tmp_path: Path) -> None:
    root = _copy_of_the_release_files(tmp_path)
    _, before, _ = release.parse_changelog((root / "CHANGELOG.md").read_text())
    manifest_before = json.loads((root / "custom_components/camera_hub/manifest.json").read_text())

    prepared = run_release("prepare", "9.8.7", root=root)
    assert prepared.returncode == 0, prepared.stderr

    manifest_after = json.loads((root / "custom_components/camera_hub/manifest.json").read_text())
    assert list(manifest_after) == list(manifest_before)
    assert manifest_after == {**manifest_before, "version": "9.8.7"}
    assert release.versions(root) == {"manifest.json": "9.8.7", "pyproject.toml": "9.8.7"}
    pyproject_changes = set((ROOT / "pyproject.toml").read_text().splitlines()) ^ set(
        (root / "pyproject.toml").read_text().splitlines()
    )
    assert {line for line in pyproject_changes if not line.startswith("version = ")} == set()

    readme_before, readme_after = (ROOT / "README.md").read_text(), (root / "README.md").read_text()
    current = release.the_version(ROOT)
    assert readme_after.count("camera-hub-mcp@9.8.7") == readme_before.count(f"camera-hub-mcp@{current}") > 0
    assert readme_after.count("camera-hub@v9.8.7") == readme_before.count(f"camera-hub@v{current}") > 0
    assert readme_after.replace("9.8.7", current) == readme_before

    _, after, links = release.parse_changelog((root / "CHANGELOG.md").read_text())
    assert (after[0].name, after[0].body) == ("Unreleased", "")
    assert (after[1].name, after[1].body) == ("9.8.7", before[0].body)
    assert any(line.startswith("[9.8.7]: https://github.com/camera-hub/camera-hub/") for line in links)

    checked = run_release("check-tag", "v9.8.7", root=root)
    assert (checked.returncode, checked.stdout.strip()) == (0, "9.8.7")
    notes = run_release("notes", "9.8.7", root=root)
    assert notes.stdout.strip() == before[0].body.strip()


def test_the_tag_check_refuses_what_would_publish_a_wrong_release(tmp_path: Path) -> None:
    root = _copy_of_the_release_files(tmp_path)
    assert run_release("prepare", "9.8.7", root=root).returncode == 0

    wrong_tag = run_release("check-tag", "v9.8.6", root=root)
    assert wrong_tag.returncode == 1
    assert "does not match the version 9.8.7" in wrong_tag.stderr

    nothing_new = run_release("prepare", "9.8.8", root=root)
    assert nothing_new.returncode == 1
    assert "[Unreleased] section is empty" in nothing_new.stderr

    release.set_version(root, "9.9.0")
    undated = run_release("check-tag", "v9.9.0", root=root)
    assert "no [9.9.0] section" in undated.stderr

    manifest = root / "custom_components/camera_hub/manifest.json"
    manifest.write_text(manifest.read_text().replace('"version": "9.9.0"', '"version": "9.9.1"'))
    disagreeing = run_release("check-tag", "v9.9.1", root=root)
    assert "manifest.json and pyproject.toml disagree" in disagreeing.stderr


def test_the_readmes_pinned_version_examples_name_the_current_version() -> None:
    pinned = {match[0] for match in release.README_PIN_RE.finditer((ROOT / "README.md").read_text())}
    version = release.the_version(ROOT)
    assert pinned == {f"camera-hub-mcp@{version}", f"/camera-hub/camera-hub@v{version}"}


def test_prepare_refuses_a_readme_without_a_pinned_example(tmp_path: Path) -> None:
    root = _copy_of_the_release_files(tmp_path)
    readme = root / "README.md"
    readme.write_text(release.README_PIN_RE.sub("camera-hub-mcp", readme.read_text()))
    refused = run_release("prepare", "9.8.7", root=root)
    assert refused.returncode == 1
    assert "README.md has no pinned-version example" in refused.stderr
    assert release.versions(root)["pyproject.toml"] == release.the_version(ROOT)  # nothing written
