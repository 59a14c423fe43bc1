"""`python -m camsim usb` for tests, and a PyAV reader of one simulated webcam in a thread."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import av

from scripts.lib.sims import ROOT, stop_process

DEADLINE = 10.0  # seconds any awaited condition may take before the test fails
# What the integration's reader should use too: without them FFmpeg probes ~2 s of frames first.
MJPEG_OPTIONS = {"probesize": "32", "analyzeduration": "1", "fflags": "nobuffer"}


@dataclass
class UsbSim:
    process: subprocess.Popen[str]
    info: dict[str, Any]

    @property
    def devices(self) -> list[str]:
        return list(self.info["devices"])

    def state(self) -> dict[str, Any]:
        with urlopen(self.info["state_url"], timeout=5) as response:
            state: dict[str, Any] = json.loads(response.read())
        return state

    def device_state(self, path: str) -> dict[str, Any]:
        device: dict[str, Any] = self.state()["devices"][path]
        return device

    def inject(self, faults: dict[str, Any]) -> dict[str, Any]:
        request = Request(
            self.info["state_url"],
            data=json.dumps(faults).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urlopen(request, timeout=10) as response:
            state: dict[str, Any] = json.loads(response.read())
        return state


@contextmanager
def running_usb_sim(*args: str) -> Iterator[UsbSim]:
    process = subprocess.Popen(
        [sys.executable, "-m", "camsim", "usb", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        raise RuntimeError(f"camsim usb exited with {process.returncode} before announcing itself")
    try:
        yield UsbSim(process, json.loads(line))
    finally:
        stop_process(process)


def wait_for(condition: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    """Poll `condition` until true; fail after `deadline` seconds."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class Reader:
    """Reads one device with PyAV's mjpeg demuxer in a thread, as the integration's frame hub would."""

    path: str
    packets: list[bytes] = field(default_factory=list)
    opened: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Reader:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            with av.open(self.path, format="mjpeg", options=MJPEG_OPTIONS) as container:
                self.opened.set()
                for packet in container.demux(video=0):
                    if self._stop.is_set():
                        break
                    if packet.size:
                        self.packets.append(bytes(packet))
        except Exception as err:  # noqa: BLE001 - handed to the test, which asserts on it
            self.error = err
        finally:
            self.ended.set()

    def wait_packets(self, count: int) -> list[bytes]:
        wait_for(
            lambda: len(self.packets) >= count or self.ended.is_set(), f"{count} packets from {self.path}"
        )
        assert len(self.packets) >= count, f"reader ended after {len(self.packets)} packets: {self.error}"
        return self.packets[:count]

    def stop(self) -> None:
        """Ask the thread to end after its next packet and wait for it; the device must still send."""
        self._stop.set()
        assert self.ended.wait(DEADLINE), "reader did not end"
        assert self._thread is not None
        self._thread.join()


def stable_path_exists(path: str) -> bool:
    return Path(path).exists()
