"""The release workflow's build job, run here: `uv build` (the sdist, then the wheel built from the sdist)
and `twine check --strict` on both; the sdist carries the bridge only; PyPI's project page (README-pypi.md)
has no link that only works inside the repository."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

from scripts.lib.hass import ROOT
from tests.release.release_script import release
from tests.release.user_install import Distributions

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PYPI_README = ROOT / PYPROJECT["project"]["readme"]
# Markdown links and images ([text](target), ![alt](target)), reference definitions ([name]: target)
# and HTML src/href attributes.
LINK_TARGETS = re.compile(r"\]\(\s*<?([^)\s>]+)|^\s*\[[^\]]+\]:\s*(\S+)|(?:src|href)=[\"']([^\"']+)", re.M)


def twine_check(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_twine_accepts_the_sdist_and_the_wheel_built_from_it(distributions: Distributions) -> None:
    assert "Building wheel from source distribution" in distributions.build_log
    version = release.the_version(ROOT)
    assert distributions.sdist.name == f"camera_hub_mcp-{version}.tar.gz"
    assert distributions.wheel.name == f"camera_hub_mcp-{version}-py3-none-any.whl"
    checked = twine_check(distributions.sdist, distributions.wheel)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2, checked.stdout


def test_twine_refuses_a_long_description_pypi_cannot_render(tmp_path: Path) -> None:
    """--strict fails on a description that does not render: the check above can see a broken one."""
    wheel = tmp_path / "camera_hub_mcp-0.0.0-py3-none-any.whl"
    metadata = (
        "Metadata-Version: 2.4\nName: camera-hub-mcp\nVersion: 0.0.0\n"
        "Description-Content-Type: text/x-rst\n\n.. broken:: directive\n\n`unclosed\n"
    )
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("camera_hub_mcp-0.0.0.dist-info/METADATA", metadata)
        archive.writestr("camera_hub_mcp-0.0.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
    checked = twine_check(wheel)
    assert checked.returncode == 1
    assert "FAILED" in checked.stdout


def test_the_sdist_holds_the_bridge_only_and_the_wheel_nothing_else(distributions: Distributions) -> None:
    with tarfile.open(distributions.sdist) as sdist:
        sdist_files = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    top_level = {name.split("/")[0] for name in sdist_files}
    assert top_level == {
        "mcp_bridge", PYPI_README.name, "CHANGELOG.md", "LICENSE", "pyproject.toml", "PKG-INFO", ".gitignore"
    }  # fmt: skip
    with zipfile.ZipFile(distributions.wheel) as wheel:
        wheel_files = set(wheel.namelist())
    packaged = {name for name in wheel_files if not name.startswith("camera_hub_mcp-")}
    assert packaged == {name for name in sdist_files if name.startswith("mcp_bridge/")}
    assert "mcp_bridge/__main__.py" in packaged


def test_pypi_shows_the_bridge_readme_with_absolute_links_only(distributions: Distributions) -> None:
    with zipfile.ZipFile(distributions.wheel) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(wheel.read(name).decode())
    assert metadata["Description-Content-Type"] == "text/markdown"
    description = metadata.get_payload()
    assert isinstance(description, str)
    assert description.strip() == PYPI_README.read_text().strip()
    targets = [next(filter(None, match)) for match in LINK_TARGETS.findall(PYPI_README.read_text())]
    assert targets, "README-pypi.md links to the project"
    relative = [target for target in targets if not target.startswith("https://")]
    assert relative == []
    repository = PYPROJECT["project"]["urls"]["Repository"]
    assert any(target.startswith(repository) for target in targets)


def test_the_link_check_sees_relative_links() -> None:
    text = '[a](docs/x.md) ![b](<img.png>) <img src="shot.png">\n[c]: #anchor\n[d](https://e.org)'
    targets = [next(filter(None, match)) for match in LINK_TARGETS.findall(text)]
    assert targets == ["docs/x.md", "img.png", "shot.png", "#anchor", "https://e.org"]
