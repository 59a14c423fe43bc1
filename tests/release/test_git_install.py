"""The README's install command for today (before the bridge is on PyPI): `uv tool install` from the git
repository, run on a local repository holding this one's HEAD (the same build from a commit, without
GitHub), and its URL is the project's repository as pyproject.toml names it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.lib.hass import ROOT
from tests.release.release_script import release
from tests.release.user_install import TOOL, find_uv, isolated_env, tool_install

README = (ROOT / "README.md").read_text()
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
GIT_URL = re.compile(r"git\+(https://[^\s`\"'@]+)")


def readme_git_install_command() -> str:
    """The 'today' cell of the README's 'install once' row."""
    (row,) = [line for line in README.splitlines() if line.startswith("| install once")]
    today = row.split("|")[2].strip().strip("`")
    assert today.startswith("uv tool install "), today
    return today


def git(repository: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repository, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def committed_tree(target: Path) -> Path:
    """A new repository with HEAD's tree as its one commit. Not a clone: CI's checkout is shallow, and uv
    cannot fetch from a shallow repository (git refuses the shallow update)."""
    target.mkdir()
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    git(target, "init", "--quiet", "--initial-branch", "main")
    git(target, "add", "--all")
    git(target, "-c", "user.name=test", "-c", "user.email=test@invalid", "commit", "--quiet", "-m", "HEAD")
    return target


@contextmanager
def git_cache_left_as_found() -> Iterator[None]:
    """uv keeps a copy of every git source in its cache, keyed by URL: this test's URL is new each run, so
    its copies (a few MB) would pile up. Nothing else in the suite installs from git."""
    cache = Path(
        subprocess.run([find_uv(), "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip()
    )

    def entries() -> set[Path]:
        return {
            entry
            for bucket in cache.glob("git-v*")
            for kind in ("db", "checkouts")
            for entry in bucket.glob(f"{kind}/*")
        }

    before = entries()
    try:
        yield
    finally:
        for entry in entries() - before:
            shutil.rmtree(entry)


def test_every_git_url_in_the_readme_is_the_projects_repository() -> None:
    urls = set(GIT_URL.findall(README))
    assert urls == {REPOSITORY}
    homepage = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Homepage"]
    assert REPOSITORY == homepage == release.REPOSITORY_URL


def test_the_readme_install_from_git_works(tmp_path: Path) -> None:
    command = readme_git_install_command()
    assert command == f"uv tool install --compile-bytecode git+{REPOSITORY}"  # what tool_install runs

    clone = committed_tree(tmp_path / "camera-hub")
    commit = git(clone, "rev-parse", "HEAD")
    with git_cache_left_as_found():
        tool_install(f"git+{clone.as_uri()}", tmp_path)

    environment = tmp_path / "tools" / TOOL
    (dist_info,) = environment.glob("lib/python3.11/site-packages/camera_hub_mcp-*.dist-info")
    direct_url = json.loads((dist_info / "direct_url.json").read_text())
    assert direct_url["url"] == clone.as_uri()
    assert direct_url["vcs_info"] == {"vcs": "git", "commit_id": commit}
    assert dist_info.name == f"camera_hub_mcp-{release.the_version(ROOT)}.dist-info"

    helped = subprocess.run(
        [tmp_path / "bin" / TOOL, "--help"],
        cwd=tmp_path,
        env=isolated_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: camera-hub-mcp")
    assert "camera-hub-mcp doctor" in helped.stdout
