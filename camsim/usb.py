"""Simulated USB webcams: an MJPEG elementary stream in a FIFO per device, found like a V4L2 node.

No kernel module can be loaded here (no v4l2loopback), so a webcam is a FIFO that PyAV's `mjpeg`
demuxer reads (`av.open(path, format="mjpeg")`), standing in for the `v4l2` demuxer on a real node.
Under `--dir` camsim lays out what discovery looks at on a real host:

    dev/video0                                   the FIFO: the capture node
    dev/video1                                   the metadata node every UVC webcam also has
    dev/v4l/by-id/usb-camsim_Webcam_CS0001-video-index0 -> ../../video0   the stable path
    sys/class/video4linux/video0/name            what the kernel lists
    devices.json                                 the QUERYCAP/ENUM_* answers, in the recorded format
                                                 that vendors/usb/recorded.py plays back

What a real webcam does, and this reproduces:

* Frames are JPEGs captured on a wall-clock grid at `--fps`, each carrying its capture time
  (`camsim.timestamp`), sent only while someone has the device open.
* A reader that cannot keep up loses frames rather than delaying them: a driver with no free buffer
  drops the frame, here a frame that does not fit in the pipe is dropped whole (never a partial JPEG).
* Unplugging ends the stream (the reader reads EOF) and removes the node and its links; replugging
  brings it back at the same stable path.

What differs, and why the integration must have one owner per device: a V4L2 node refuses a second
streaming reader with EBUSY, a FIFO does not — two readers split the bytes between them and each
gets broken JPEGs. A simulated "busy" device therefore stays silent to everyone while a visibly named
process (`camsim-holder`) holds it open, which `holders()` can name; the integration must open each
device once and share its frames.

camsim writes through a second name of the FIFO (`.camsim/videoN`), so that /proc shows its writer
under that name and `holders()` of the device path lists only the device's readers.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import math
import os
import select
import shutil
import stat
import sys
import tempfile
import termios
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from turbojpeg import TJSAMP_420, TurboJPEG

from .servers import AiohttpListener
from .video import Scene

_LOGGER = logging.getLogger(__name__)

JPEG_QUALITY = 80
# Room for several frames: a 1280x720 JPEG of camsim's picture is ~80 KB, the default pipe 64 KB.
PIPE_BYTES = 1 << 20
HOLDER_NAME = "camsim-holder"
# SHA-256 of the frames last written, so a test can check that a viewer got the device's own bytes.
RECENT_FRAMES = 150
# The busy holder: names itself (PR_SET_NAME sets /proc/PID/comm), opens the device without
# reading, says so, and lives until camsim closes its stdin or dies (PR_SET_PDEATHSIG).
_HOLDER = f"""
import ctypes, os, signal, sys
libc = ctypes.CDLL(None)
libc.prctl(15, b"{HOLDER_NAME}", 0, 0, 0)
libc.prctl(1, signal.SIGTERM, 0, 0, 0)
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
print("holding", flush=True)
sys.stdin.read()
"""


@dataclass(frozen=True)
class Config:
    devices: int
    width: int
    height: int
    fps: int
    directory: Path


@dataclass
class Holder:
    """The process that keeps a "busy" device open."""

    process: asyncio.subprocess.Process

    async def release(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
        await self.process.wait()


@dataclass
class Webcam:
    """One simulated webcam: its names on disk, its faults, and the thread that writes its frames."""

    index: int  # 1-based
    config: Config
    plugged: bool = True
    stalled: bool = False
    holder: Holder | None = None
    frames_written: int = 0
    frames_dropped: int = 0
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_FRAMES))
    lock: threading.Lock = field(default_factory=threading.Lock)
    fd: int | None = None  # write end, while a reader is connected
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    # --- names --------------------------------------------------------------------------------

    @property
    def serial(self) -> str:
        return f"CS{self.index:04d}"

    @property
    def card(self) -> str:
        return f"camsim Webcam {self.index}"

    @property
    def node_name(self) -> str:
        return f"video{2 * (self.index - 1)}"

    @property
    def metadata_node_name(self) -> str:
        return f"video{2 * (self.index - 1) + 1}"

    def by_id_name(self, interface: int) -> str:
        return f"usb-camsim_Webcam_{self.serial}-video-index{interface}"

    @property
    def dev(self) -> Path:
        return self.config.directory / "dev"

    @property
    def node(self) -> Path:
        return self.dev / self.node_name

    @property
    def stable_path(self) -> Path:
        return self.dev / "v4l" / "by-id" / self.by_id_name(0)

    @property
    def writer_path(self) -> Path:
        return self.config.directory / ".camsim" / self.node_name

    @property
    def busy(self) -> bool:
        return self.holder is not None

    # --- plugging -----------------------------------------------------------------------------

    def lay_out(self) -> None:
        """Create the node, its metadata sibling, by-id links and sysfs entries: plugged in."""
        os.mkfifo(self.node)
        _second_name(self.node, self.writer_path)
        (self.dev / self.metadata_node_name).touch()
        for interface, name in enumerate((self.node_name, self.metadata_node_name)):
            (self.dev / "v4l" / "by-id" / self.by_id_name(interface)).symlink_to(Path("..") / ".." / name)
            sysfs = self.config.directory / "sys" / "class" / "video4linux" / name
            sysfs.mkdir(parents=True)
            (sysfs / "name").write_text(self.card + "\n")

    def remove(self) -> None:
        """Remove every file of this webcam; a reader in the middle of open() gets EOF, not a hang."""
        # A reader blocked in open() waits for a writer: be one (O_RDWR never blocks on a FIFO) until
        # the names are gone, so nobody can start waiting on an inode that will never get a writer.
        releaser = _open_fifo_if_present(self.writer_path)
        try:
            for interface, name in enumerate((self.node_name, self.metadata_node_name)):
                _unlink(self.dev / "v4l" / "by-id" / self.by_id_name(interface))
                _unlink(self.dev / name)
                sysfs = self.config.directory / "sys" / "class" / "video4linux" / name
                _unlink(sysfs / "name")
                with contextlib.suppress(FileNotFoundError):
                    sysfs.rmdir()
            _unlink(self.writer_path)
        finally:
            self._close_writer()
            if releaser is not None:
                os.close(releaser)

    def unplug(self) -> None:
        with self.lock:
            self.plugged = False
            self.remove()

    def replug(self) -> None:
        with self.lock:
            if not self.plugged:
                self.lay_out()
                self.plugged = True

    # --- frames -------------------------------------------------------------------------------

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name=f"camsim-usb-{self.serial}", daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()

    def _run(self) -> None:
        try:
            self._write_frames()
        except Exception:
            _LOGGER.exception("writer of %s failed", self.card)
        finally:
            with self.lock:
                self._close_writer()

    def _write_frames(self) -> None:
        fps = self.config.fps
        scene = Scene(self.config.width, self.config.height)
        jpeg = TurboJPEG()
        next_index = math.floor(time.time() * fps) + 1
        while not self.stop.wait(max(0.0, next_index / fps - time.time())):
            # After a stall of this thread, capture "now" rather than catching up on old frames.
            index = max(next_index, math.floor(time.time() * fps))
            next_index = index + 1
            with self.lock:
                if not self._ready_to_send():
                    continue
                picture = scene.yuv420(index, index * 1000 // fps)
                data = jpeg.encode_from_yuv(
                    picture, self.config.height, self.config.width, JPEG_QUALITY, TJSAMP_420
                )
                self._send(data)

    def _ready_to_send(self) -> bool:
        """Called with the lock held: connect to a reader if one waits, say whether to send a frame."""
        if not self.plugged:
            return False
        if self.fd is not None and _readers_gone(self.fd):
            self._close_writer()
        if self.fd is None:
            self.fd = _open_writer(self.writer_path)
        return self.fd is not None and not self.stalled and not self.busy

    def _send(self, data: bytes) -> None:
        assert self.fd is not None
        if PIPE_BYTES - _queued_bytes(self.fd) < len(data):
            self.frames_dropped += 1
            return
        try:
            written = os.write(self.fd, data)
        except BrokenPipeError:
            self._close_writer()
            return
        # The free space was checked, so a short write means the reader went away mid-frame.
        if written == len(data):
            self.frames_written += 1
            self.recent.append(hashlib.sha256(data).hexdigest())

    def _close_writer(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    # --- state --------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        holder = self.holder.process.pid if self.holder else None
        with self.lock:  # the writer thread appends meanwhile
            recent = list(self.recent)
        return {
            "name": self.card,
            "node": str(self.node),
            "plugged": self.plugged,
            "readers": len(_pids_with_open(self.node)) if self.plugged else 0,
            "frames_written": self.frames_written,
            "frames_dropped": self.frames_dropped,
            "recent_sha256": recent,
            "stalled": self.stalled,
            "busy": {"pid": holder, "name": HOLDER_NAME} if holder else None,
        }

    def description(self) -> dict[str, Any]:
        """QUERYCAP and ENUM_* answers, as vendors/usb/recorded.py reads them."""
        querycap = {
            "driver": "camsim",
            "card": self.card,
            "bus_info": f"usb-camsim-{self.index}",
            "version": "6.1.0",
            "capabilities": "0x84a00001",
        }
        size = f"{self.config.width}x{self.config.height}"
        mjpeg = {
            "fourcc": "MJPG",
            "description": "Motion-JPEG",
            "compressed": True,
            "sizes": [{"size": size, "intervals": [f"1/{self.config.fps}"]}],
        }
        return {
            "model": f"camsim simulated webcam {self.index} (MJPEG in a FIFO; open with format='mjpeg')",
            "nodes": [
                {
                    "node": self.node_name,
                    "by_id": self.by_id_name(0),
                    "querycap": {**querycap, "device_caps": "0x04200001"},
                    "formats": [mjpeg],
                },
                {
                    "node": self.metadata_node_name,
                    "by_id": self.by_id_name(1),
                    "querycap": {**querycap, "device_caps": "0x04a00000"},
                    "formats": [],
                },
            ],
        }


# --- FIFO helpers ---------------------------------------------------------------------------------


def _second_name(source: Path, name: Path) -> None:
    """A hard link: the same FIFO under a name /proc will show for camsim's own descriptor."""
    name.parent.mkdir(parents=True, exist_ok=True)
    os.link(source, name)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _open_fifo_if_present(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None


def _open_writer(path: Path) -> int | None:
    """The write end if a reader has the FIFO open (or is waiting in open()), else None."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        if err.errno in (errno.ENXIO, errno.ENOENT):  # nobody reading / unplugged meanwhile
            return None
        raise
    with contextlib.suppress(OSError):  # the size is a wish: pipe-max-size may be lower
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    return fd


def _readers_gone(fd: int) -> bool:
    # The write end of a pipe polls POLLERR once every read end is closed.
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def _queued_bytes(fd: int) -> int:
    buffer = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, buffer, True)
    return int.from_bytes(buffer, sys.byteorder)


def _pids_with_open(path: Path) -> list[int]:
    """Other processes with the FIFO open by its device name (camsim itself writes under another)."""
    target = str(path)
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) == target for fd in (entry / "fd").iterdir()):
                pids.append(int(entry.name))
    return pids


# --- the set of webcams ----------------------------------------------------------------------------


@dataclass
class Webcams:
    config: Config
    cameras: list[Webcam]
    created_directory: bool

    @classmethod
    def create(cls, config: Config) -> Webcams:
        created = not config.directory.exists()
        config.directory.mkdir(parents=True, exist_ok=True)
        (config.directory / "dev" / "v4l" / "by-id").mkdir(parents=True, exist_ok=True)
        cameras = [Webcam(index, config) for index in range(1, config.devices + 1)]
        for camera in cameras:
            camera.lay_out()
        description = {
            "about": "camsim's simulated USB webcams (python -m camsim usb)",
            "devices": [camera.description() for camera in cameras],
        }
        (config.directory / "devices.json").write_text(json.dumps(description, indent=1) + "\n")
        for camera in cameras:
            camera.start()
        return cls(config, cameras, created)

    def find(self, reference: Any) -> Webcam:
        """A webcam by stable path, node path, or 0-based index."""
        for position, camera in enumerate(self.cameras):
            if reference in (str(camera.stable_path), str(camera.node), position, str(position)):
                return camera
        raise ValueError(f"no simulated webcam {reference!r}")

    def state(self) -> dict[str, Any]:
        return {"devices": {str(camera.stable_path): camera.state() for camera in self.cameras}}

    async def apply(self, faults: dict[str, Any]) -> None:
        unknown = set(faults) - {"unplug", "replug", "busy", "stall"}
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}")
        if not faults:
            await self.clear()
        if "unplug" in faults:
            self.find(faults["unplug"]).unplug()
        if "replug" in faults:
            self.find(faults["replug"]).replug()
        if "stall" in faults:
            self.find(faults["stall"]).stalled = True
        if "busy" in faults:
            await self.hold(self.find(faults["busy"]))

    async def hold(self, camera: Webcam) -> None:
        if camera.holder is not None or not camera.plugged:
            return
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _HOLDER,
            str(camera.node),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        if await process.stdout.readline() != b"holding\n":
            await process.wait()
            raise RuntimeError("the busy holder did not start")
        camera.holder = Holder(process)

    async def clear(self) -> None:
        """Every fault off: stalls end, holders let go, unplugged webcams come back."""
        for camera in self.cameras:
            camera.stalled = False
            if camera.holder is not None:
                holder, camera.holder = camera.holder, None
                await holder.release()
            camera.replug()

    async def close(self) -> None:
        """Stop writing, end the holders and remove every file camsim made."""
        for camera in self.cameras:
            if camera.holder is not None:
                await camera.holder.release()
                camera.holder = None
            camera.join()
            camera.remove()
        directory = self.config.directory
        _unlink(directory / "devices.json")
        if self.created_directory:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            for made in (
                "dev/v4l/by-id",
                "dev/v4l",
                "dev",
                ".camsim",
                "sys/class/video4linux",
                "sys/class",
                "sys",
            ):
                with contextlib.suppress(OSError):  # kept if something else lives there
                    (directory / made).rmdir()

    def announcement(self, host: str, state_url: str) -> dict[str, Any]:
        return {
            "kind": "usb",
            "host": host,  # where the state endpoint listens (`--host`), as every camsim kind says
            "devices": [str(camera.stable_path) for camera in self.cameras],
            "root": str(self.config.directory),
            "description": str(self.config.directory / "devices.json"),
            "format": "mjpeg",
            "size": f"{self.config.width}x{self.config.height}",
            "fps": self.config.fps,
            "state_url": state_url,
        }


def state_app(webcams: Webcams) -> web.Application:
    async def get_state(_: web.Request) -> web.Response:
        return web.json_response(webcams.state())

    async def post_state(request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            await webcams.apply(body)
        except ValueError as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response(webcams.state())

    app = web.Application()
    app.router.add_get("/", get_state)
    app.router.add_post("/", post_state)
    return app


def default_directory() -> Path:
    return Path(tempfile.gettempdir()) / f"camsim-usb-{os.getpid()}"


async def run(config: Config, host: str, state_port: int, stop: asyncio.Event) -> None:
    if config.directory.exists() and any(
        stat.S_ISFIFO(path.lstat().st_mode) for path in config.directory.glob("dev/video*")
    ):
        raise SystemExit(f"{config.directory} already has simulated webcams (another camsim usb?)")
    webcams = Webcams.create(config)
    try:
        listener = await AiohttpListener.start(state_app(webcams), host, state_port)
        try:
            print(json.dumps(webcams.announcement(host, f"http://{host}:{listener.port}/")), flush=True)
            await stop.wait()
        finally:
            await listener.stop()
    finally:
        await webcams.close()
