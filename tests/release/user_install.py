"""What the release tests share to build the bridge and install it as a user would, with uv, offline first.

uv resolves offline first, from the cache that scripts/test filled while it built .venv-bridge-py311,
pinned to the versions installed there (the versions every other test runs the bridge with). A cache
without them (pruned, or another machine's) is not an error: uv then asks the package index, as `uvx`
does for a user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scripts.lib.hass import ROOT

BRIDGE_OLDEST_VENV = ROOT / ".venv-bridge-py311"
TOOL = "camera-hub-mcp"


@dataclass(frozen=True)
class Distributions:
    """The release workflow's `uv build --out-dir dist`: the sdist, then the wheel built from it."""

    sdist: Path
    wheel: Path
    build_log: str  # uv's stderr


def find_uv() -> str:
    """uv from PATH (scripts/test puts .venv/bin first; HA depends on uv), else the `uv` package's binary."""
    found = shutil.which("uv")
    if found is None:
        from uv import find_uv_bin  # noqa: PLC0415 - only when PATH has none

        found = find_uv_bin()
    return os.path.abspath(found)  # the commands run in another folder


def isolated_env(workdir: Path) -> dict[str, str]:
    """This process's environment minus anything that would point Python or uv at the repository."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"}
    }
    env.update(
        UV_TOOL_DIR=str(workdir / "tools"),
        UV_TOOL_BIN_DIR=str(workdir / "bin"),
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_CONFIG="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def uv_offline_first(args: list[str], env: dict[str, str], cwd: Path) -> tuple[str, str]:
    """Run uv from its cache alone; only if the cache lacks something, again with the index.

    Returns ("offline" or "with the package index", uv's stderr)."""
    offline = subprocess.run(
        [find_uv(), *args, "--offline"], env=env, cwd=cwd, capture_output=True, text=True
    )
    if offline.returncode == 0:
        return "offline", offline.stderr
    online = subprocess.run([find_uv(), *args], env=env, cwd=cwd, capture_output=True, text=True)
    assert online.returncode == 0, f"offline:\n{offline.stderr[-2000:]}\nonline:\n{online.stderr[-2000:]}"
    return "with the package index", online.stderr


def build_distributions(workdir: Path) -> Distributions:
    """The release workflow's build step: without --sdist/--wheel, uv builds the wheel from the sdist."""
    dist = workdir / "dist"
    _, log = uv_offline_first(["build", "--out-dir", str(dist), str(ROOT)], isolated_env(workdir), workdir)
    (sdist,) = dist.glob("camera_hub_mcp-*.tar.gz")
    (wheel,) = dist.glob("camera_hub_mcp-*.whl")
    return Distributions(sdist=sdist, wheel=wheel, build_log=log)


def oldest_python() -> str:
    """The interpreter .venv-bridge-py311 was made from: Python 3.11, what many users' uvx picks."""
    assert (BRIDGE_OLDEST_VENV / "bin" / "python").exists(), "scripts/test makes .venv-bridge-py311"
    base = subprocess.run(
        [BRIDGE_OLDEST_VENV / "bin" / "python", "-c", "import sys; print(sys._base_executable)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return base.stdout.strip()


def pinned_versions(workdir: Path) -> Path:
    """The bridge's dependency versions of .venv-bridge-py311 as a constraints file."""
    frozen = subprocess.run(
        [
            find_uv(),
            "pip",
            "freeze",
            "--exclude-editable",
            "--python",
            str(BRIDGE_OLDEST_VENV / "bin" / "python"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    constraints = workdir / "constraints.txt"
    constraints.write_text(frozen.stdout)
    return constraints


def tool_install(source: str, workdir: Path) -> str:
    """`uv tool install --compile-bytecode SOURCE` (the README's command) into workdir's tool folders, on
    Python 3.11 with the pinned versions. Returns how uv resolved ("offline" or "with the package index")."""
    resolved, _ = uv_offline_first(
        ["tool", "install", "--compile-bytecode", "--python", oldest_python(),
         "--constraints", str(pinned_versions(workdir)), source],
        isolated_env(workdir),
        workdir,
    )  # fmt: skip
    return resolved
