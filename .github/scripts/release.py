"""Release steps shared by the workflows, docs/releasing.md and tests/release: one version, notes, the zip.

Standard library only: the release workflow runs it with the runner's python3 before any environment
exists, and a maintainer runs `prepare` on any machine.

    python3 .github/scripts/release.py version              # the one version (manifest.json = pyproject.toml)
    python3 .github/scripts/release.py prepare 0.2.0        # set both versions and README.md's pinned
                                                            # examples, date the Unreleased notes
    python3 .github/scripts/release.py check-tag v0.2.0     # the tag matches the version and has dated notes
    python3 .github/scripts/release.py notes 0.2.0          # that version's CHANGELOG section (release body)
    python3 .github/scripts/release.py zip OUT.zip          # the integration as HACS unpacks it

`--root DIR` points every command at another checkout (the tests use a copy).
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY_URL = "https://github.com/camera-hub/camera-hub"
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+((a|b|rc)\d+)?$")
SECTION_RE = re.compile(r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?\s*$")
LINK_RE = re.compile(r"^\[(?P<name>[^\]]+)\]: \S+\s*$")
PYPROJECT_VERSION_RE = re.compile(r'^version = "(?P<version>[^"]*)"$', re.MULTILINE)
# README.md's examples of staying on one version: `uvx camera-hub-mcp@0.1.0`, `…/camera-hub@v0.1.0`.
README_PIN_RE = re.compile(
    r"(?P<prefix>camera-hub-mcp@|/camera-hub/camera-hub@v)\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?"
)
# Zip entries get one fixed time so the same tree always gives the same bytes (zip needs >= 1980).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class ReleaseError(Exception):
    """Something that must be fixed before this version can be released; printed as one line."""


@dataclass(frozen=True)
class Section:
    name: str  # "Unreleased" or a version
    date: str | None
    body: str


def integration_dir(root: Path) -> Path:
    """custom_components/<domain>: HACS manages exactly one integration per repository."""
    found = [p for p in (root / "custom_components").iterdir() if (p / "manifest.json").is_file()]
    if len(found) != 1:
        raise ReleaseError(f"expected one integration under custom_components/, found {len(found)}")
    return found[0]


def versions(root: Path) -> dict[str, str]:
    """The version each released part declares, by the file that declares it."""
    manifest = json.loads((integration_dir(root) / "manifest.json").read_text())
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    return {"manifest.json": manifest.get("version", ""), "pyproject.toml": pyproject["project"]["version"]}


def the_version(root: Path) -> str:
    found = versions(root)
    if len(set(found.values())) != 1:
        raise ReleaseError(f"manifest.json and pyproject.toml disagree: {found}")
    (version,) = set(found.values())
    if not VERSION_RE.match(version):
        raise ReleaseError(f"{version!r} is not X.Y.Z (optionally aN, bN or rcN)")
    return version


def set_version(root: Path, version: str) -> None:
    """Write `version` into manifest.json (its key order and 2-space style kept) and pyproject.toml."""
    if not VERSION_RE.match(version):
        raise ReleaseError(f"{version!r} is not X.Y.Z (optionally aN, bN or rcN)")
    manifest_path = integration_dir(root) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["version"] = version
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    pyproject_path = root / "pyproject.toml"
    text, count = PYPROJECT_VERSION_RE.subn(f'version = "{version}"', pyproject_path.read_text(), count=1)
    if count != 1:
        raise ReleaseError("pyproject.toml has no top-level 'version = \"…\"' line")
    pyproject_path.write_text(text)


def parse_changelog(text: str) -> tuple[str, list[Section], list[str]]:
    """(preamble, sections newest first, link reference lines) of a Keep a Changelog file."""
    preamble: list[str] = []
    sections: list[tuple[str, str | None, list[str]]] = []
    links: list[str] = []
    for line in text.splitlines():
        if match := SECTION_RE.match(line):
            sections.append((match["name"], match["date"], []))
        elif LINK_RE.match(line):
            links.append(line)
        elif sections:
            sections[-1][2].append(line)
        else:
            preamble.append(line)
    parsed = [Section(name, date, "\n".join(body).strip()) for name, date, body in sections]
    return "\n".join(preamble).strip(), parsed, links


def render_changelog(preamble: str, sections: list[Section], links: list[str]) -> str:
    parts = [preamble]
    for section in sections:
        heading = f"## [{section.name}]" + (f" - {section.date}" if section.date else "")
        parts.append(f"{heading}\n\n{section.body}" if section.body else heading)
    parts.append("\n".join(links))
    return "\n\n".join(part for part in parts if part) + "\n"


def release_notes(changelog: str, version: str) -> str:
    """The body of `version`'s dated section: what the GitHub release says."""
    _, sections, _ = parse_changelog(changelog)
    for section in sections:
        if section.name == version:
            if section.date is None:
                raise ReleaseError(f"CHANGELOG.md's [{version}] section has no date")
            if not section.body:
                raise ReleaseError(f"CHANGELOG.md's [{version}] section is empty")
            return section.body
    raise ReleaseError(f"CHANGELOG.md has no [{version}] section (run `release.py prepare {version}`)")


def date_unreleased(changelog: str, version: str, day: datetime.date) -> str:
    """Move the Unreleased notes into a new `[version] - day` section and point the links at the tag."""
    preamble, sections, links = parse_changelog(changelog)
    if not sections or sections[0].name != "Unreleased":
        raise ReleaseError("CHANGELOG.md must start with an [Unreleased] section")
    if not sections[0].body:
        raise ReleaseError("CHANGELOG.md's [Unreleased] section is empty: nothing to release")
    if any(section.name == version for section in sections):
        raise ReleaseError(f"CHANGELOG.md already has a [{version}] section")
    previous = next((section.name for section in sections[1:]), None)
    released = Section(version, day.isoformat(), sections[0].body)
    new_sections = [Section("Unreleased", None, ""), released, *sections[1:]]
    since = f"compare/v{previous}...v{version}" if previous else f"releases/tag/v{version}"
    kept = [line for line in links if not line.lower().startswith(("[unreleased]:", f"[{version}]:"))]
    new_links = [
        f"[Unreleased]: {REPOSITORY_URL}/compare/v{version}...HEAD",
        f"[{version}]: {REPOSITORY_URL}/{since}",
        *kept,
    ]
    return render_changelog(preamble, new_sections, new_links)


def pin_readme_examples(readme: str, version: str) -> str:
    """README.md with its examples of a pinned version (PyPI and git forms) naming `version`."""
    text, count = README_PIN_RE.subn(lambda match: f"{match['prefix']}{version}", readme)
    if count == 0:
        raise ReleaseError("README.md has no pinned-version example (camera-hub-mcp@X.Y.Z) to update")
    return text


def prepare(root: Path, version: str, day: datetime.date) -> None:
    changelog_path = root / "CHANGELOG.md"
    changelog = date_unreleased(changelog_path.read_text(), version, day)
    readme_path = root / "README.md"
    readme = pin_readme_examples(readme_path.read_text(), version)
    set_version(root, version)
    changelog_path.write_text(changelog)
    readme_path.write_text(readme)


def check_tag(root: Path, tag: str) -> str:
    """The version a tag releases, once manifest, pyproject and CHANGELOG all agree with it."""
    version = the_version(root)
    if tag != f"v{version}":
        raise ReleaseError(f"tag {tag!r} does not match the version {version} (expected v{version})")
    release_notes((root / "CHANGELOG.md").read_text(), version)
    return version


def tracked_files(directory: Path) -> list[Path]:
    """The files git tracks under `directory`: what a tag's checkout holds, no caches or local leftovers."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "."], cwd=directory, capture_output=True, check=True
    ).stdout.decode()
    return sorted(directory / name for name in listed.split("\0") if name)


def build_zip(root: Path, out: Path) -> Path:
    """The integration's files at the zip's top level: HACS extracts it into custom_components/<domain>/."""
    source = integration_dir(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in tracked_files(source):
            entry = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=ZIP_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=ROOT)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("version")
    commands.add_parser("prepare").add_argument("version")
    commands.add_parser("check-tag").add_argument("tag")
    commands.add_parser("notes").add_argument("version")
    commands.add_parser("zip").add_argument("out", type=Path)
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    try:
        if args.command == "version":
            print(the_version(root))
        elif args.command == "prepare":
            prepare(root, args.version, datetime.datetime.now(datetime.UTC).date())
            print(f"manifest.json, pyproject.toml, CHANGELOG.md and README.md now say {args.version}")
        elif args.command == "check-tag":
            print(check_tag(root, args.tag))
        elif args.command == "notes":
            print(release_notes((root / "CHANGELOG.md").read_text(), args.version))
        elif args.command == "zip":
            print(build_zip(root, args.out))
    except ReleaseError as err:
        print(f"release.py: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
