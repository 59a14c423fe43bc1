"""The `ring` subcommand of `python -m camsim`: options (a contract, see ../shared/DESIGN.md) and run."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from typing import Any

from . import catalog, server
from .account import TWO_FACTOR_MODES, Config


def _devices(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in catalog.PRESETS]
    if unknown:
        raise argparse.ArgumentTypeError(f"devices are a comma list of {', '.join(catalog.PRESETS)}")
    return names


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return value


def add_parser(kinds: Any) -> None:
    """Add `ring` to the subparsers `kinds` of camsim's command line."""
    ring = kinds.add_parser("ring", help="a simulated Ring cloud account (doorbell, cams, chime)")
    ring.add_argument("--host", default="127.0.0.1")
    ring.add_argument("--https-port", type=int, default=0, help="every Ring and Google host, by Host header")
    ring.add_argument("--proxy-port", type=int, default=0, help="the CONNECT proxy for wss_proxy")
    ring.add_argument("--mcs-port", type=int, default=0, help="the FCM MCS push socket (TLS)")
    ring.add_argument("--state-port", type=int, default=0)
    ring.add_argument(
        "--accounts",
        type=_positive,
        default=1,
        help="accounts in this one cloud; account N>1 is user+N@… with password PASSWORDN",
    )
    ring.add_argument("--email", default="demo@ring.test", help="the first account's")
    ring.add_argument("--password", default="ringpass", help="the first account's")
    ring.add_argument("--two-factor", choices=TWO_FACTOR_MODES, default="none")
    ring.add_argument(
        "--devices",
        type=_devices,
        default=tuple(catalog.PRESETS),
        help="each account's devices, e.g. doorbell,floodlight,battery,chime",
    )
    ring.add_argument("--access-ttl", type=float, default=3600.0, help="seconds an access token lasts")
    ring.add_argument("--log-level", default="WARNING")


def config_from_args(args: argparse.Namespace) -> Config:
    return Config(
        email=args.email,
        password=args.password,
        two_factor=args.two_factor,
        devices=args.devices,
        access_ttl=args.access_ttl,
        accounts=args.accounts,
    )


async def run(args: argparse.Namespace, stop_on_signals: Callable[[], asyncio.Event]) -> None:
    ports = {
        "https": args.https_port,
        "proxy": args.proxy_port,
        "mcs": args.mcs_port,
        "state": args.state_port,
    }
    await server.run(config_from_args(args), args.host, ports, stop_on_signals())
