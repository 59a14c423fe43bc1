"""Start camsim the way a user does: `python -m camsim tapo …` in its own process, on real sockets.

Used by the tests, scripts/develop and the benchmarks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parents[2]


def guarded(module: str, *args: str, python: str = sys.executable) -> tuple[list[str], dict[str, str]]:
    """argv and environment that run `python -m module args` ending with this process (see guard.py)."""
    argv = [python, "-m", "scripts.lib.guard", module, *args]
    return argv, {**os.environ, "CAMERA_HUB_PARENT_PID": str(os.getpid())}


def stop_process(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds; always reaped."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def processes_mentioning(text: str) -> dict[int, str]:
    """pid → command line of every other process whose command line contains `text` (from /proc)."""
    found: dict[int, str] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found[int(proc.name)] = cmdline
    return found


@dataclass
class Sim:
    """One running camsim process and its announcement line."""

    process: subprocess.Popen[str]
    info: dict[str, Any]

    @property
    def host(self) -> str:
        return str(self.info["host"])

    @property
    def label(self) -> str:
        """For messages: the camera's address, or the simulator's kind (camsim usb has no address)."""
        return str(self.info.get("host") or self.info["kind"])

    @property
    def accounts(self) -> list[Sim]:
        """A cloud simulator's accounts (ringsim, furbosim: `--accounts N`), each as a view of this
        process whose email, password, devices and state_url are that account's."""
        return [Sim(self.process, {**self.info, **account}) for account in self.info.get("accounts", [])]

    def state(self) -> dict[str, Any]:
        with urlopen(self.info["state_url"], timeout=5) as response:  # noqa: S310 - camsim state URL, loopback http
            state: dict[str, Any] = json.loads(response.read())
        return state

    def inject(self, **faults: Any) -> dict[str, Any]:
        request = Request(  # noqa: S310 - camsim state URL, loopback http
            self.info["state_url"],
            data=json.dumps(faults).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urlopen(request, timeout=5) as response:  # noqa: S310 - camsim state URL, loopback http
            state: dict[str, Any] = json.loads(response.read())
        return state


def start_sim(*args: str, host: str = "127.0.0.1", die_with_parent: bool = False) -> Sim:
    """Start camsim on `host` with every port chosen by the kernel, unless `args` name them.

    `die_with_parent` has the kernel end camsim when this process dies (scripts/develop uses it).
    """
    options = ["tapo", "--host", host]
    for option in ("--control-port", "--onvif-port", "--rtsp-port"):
        if option not in args:
            options += [option, "0"]
    options += list(args)
    return _launch_camsim(options, die_with_parent)


def start_usb_sim(*args: str, die_with_parent: bool = False) -> Sim:
    """Start `camsim usb` (simulated webcams: `--devices N`, `--dir DIR`, …); its line has no host."""
    return _launch_camsim(["usb", *args], die_with_parent)


def start_furbo_sim(*args: str, die_with_parent: bool = False) -> Sim:
    """Start `camsim furbo` (a simulated Furbo cloud account: `--devices dog,cat`, `--no-mfa`, …).

    Its line carries `env` ({"CAMERA_HUB_FURBO_CLOUD": cloud file}) for the process that runs HA.
    """
    return _launch_camsim(["furbo", *args], die_with_parent)


def start_ring_sim(*args: str, die_with_parent: bool = False) -> Sim:
    """Start `camsim ring` (a simulated Ring cloud account: `--two-factor sms`, `--devices doorbell`, …).

    Its line carries `env` (CAMERA_HUB_RING_CLOUD, wss_proxy, SSL_CERT_FILE) for the process that runs HA.
    """
    return _launch_camsim(["ring", *args], die_with_parent)


def _launch_camsim(options: list[str], die_with_parent: bool) -> Sim:
    """`python -m camsim <options>` until it prints its JSON line."""
    argv, env = (
        guarded("camsim", *options) if die_with_parent else ([sys.executable, "-m", "camsim", *options], None)
    )
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        raise RuntimeError(f"camsim {options[0]} exited with {process.returncode} before announcing itself")
    return Sim(process, json.loads(line))


def stop_sim(sim: Sim) -> None:
    stop_process(sim.process)


@contextmanager
def running_sim(*args: str, host: str = "127.0.0.1") -> Iterator[Sim]:
    sim = start_sim(*args, host=host)
    try:
        yield sim
    finally:
        stop_sim(sim)
