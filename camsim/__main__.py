"""`python -m camsim tapo|usb [options]`: simulated devices until SIGINT/SIGTERM.

`tapo` is one simulated Tapo camera; `usb` is `--devices` simulated USB webcams (camsim/usb.py);
`furbo` is one simulated Furbo cloud account (camsim/furbo/).

The command line and the JSON line printed when every listener is up are a contract
(shared/DESIGN.md, section camsim); tests, benchmarks and scripts/develop parse them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from pathlib import Path

from . import usb
from .device import FIRMWARES, Config, TapoDevice
from .furbo import cli as furbo_cli
from .ring import cli as ring_cli
from .servers import start_camera


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m camsim", description=__doc__)
    kinds = parser.add_subparsers(dest="kind", required=True)
    tapo = kinds.add_parser("tapo", help="a simulated TP-Link Tapo camera")
    tapo.add_argument("--host", default="127.0.0.1")
    tapo.add_argument("--control-port", type=int, default=443)
    tapo.add_argument("--onvif-port", type=int, default=2020)
    tapo.add_argument("--rtsp-port", type=int, default=554)
    tapo.add_argument("--state-port", type=int, default=0)
    tapo.add_argument("--username", default="camuser")
    tapo.add_argument("--password", default="campass")
    tapo.add_argument("--cloud-password", default="cloudpass")
    tapo.add_argument("--model", default="C200")
    tapo.add_argument("--firmware", choices=FIRMWARES, default="secure")
    tapo.add_argument("--gop", type=float, default=2.0)
    tapo.add_argument("--fps", type=int, default=15)
    tapo.add_argument("--size", type=_size, default=(640, 360))
    tapo.add_argument("--lockout-after", type=int, default=5)
    tapo.add_argument("--lockout-seconds", type=float, default=1800.0)
    tapo.add_argument(
        "--response-delay",
        type=float,
        default=0.0,
        help="seconds the camera takes to answer each control/ONVIF request, as slow camera CPUs do",
    )
    tapo.add_argument("--log-level", default="WARNING")
    webcams = kinds.add_parser("usb", help="simulated USB webcams: MJPEG streams in FIFOs")
    webcams.add_argument("--devices", type=int, default=1)
    webcams.add_argument("--size", type=_size, default=(1280, 720))
    webcams.add_argument("--fps", type=int, default=30)
    webcams.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where the FIFOs, dev/v4l/by-id links and devices.json go (default: a new temporary dir)",
    )
    webcams.add_argument("--host", default="127.0.0.1", help="address of the state endpoint")
    webcams.add_argument("--state-port", type=int, default=0)
    webcams.add_argument("--log-level", default="WARNING")
    furbo_cli.add_parser(kinds)
    ring_cli.add_parser(kinds)
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    return Config(
        host=args.host,
        username=args.username,
        password=args.password,
        cloud_password=args.cloud_password,
        model=args.model,
        firmware=args.firmware,
        gop=args.gop,
        fps=args.fps,
        width=args.size[0],
        height=args.size[1],
        lockout_after=args.lockout_after,
        lockout_seconds=args.lockout_seconds,
        response_delay=args.response_delay,
    )


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_usb(args: argparse.Namespace) -> None:
    config = usb.Config(
        devices=args.devices,
        width=args.size[0],
        height=args.size[1],
        fps=args.fps,
        directory=args.dir or usb.default_directory(),
    )
    await usb.run(config, args.host, args.state_port, stop_on_signals())


async def run(args: argparse.Namespace) -> None:
    device = TapoDevice(config_from_args(args))
    camera = await start_camera(
        device,
        control_port=args.control_port,
        onvif_port=args.onvif_port,
        rtsp_port=args.rtsp_port,
        state_port=args.state_port,
    )
    stop = stop_on_signals()
    print(json.dumps(camera.announcement()), flush=True)
    try:
        await stop.wait()
    finally:
        await camera.stop()


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr)
    if args.kind == "furbo":
        asyncio.run(furbo_cli.run(args, stop_on_signals))
        return
    if args.kind == "ring":
        asyncio.run(ring_cli.run(args, stop_on_signals))
        return
    asyncio.run(run_usb(args) if args.kind == "usb" else run(args))


if __name__ == "__main__":
    main()
