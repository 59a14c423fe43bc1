"""The `furbo` subcommand of `python -m camsim`: options (a contract, see ../shared/DESIGN.md) and run."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from typing import Any

from . import catalog, server
from .account import Config


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(kind.strip() for kind in text.split(",") if kind.strip())
    unknown = [kind for kind in kinds if kind not in catalog.PRODUCTS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"devices are a comma list of {', '.join(catalog.PRODUCTS)}")
    return kinds


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return value


def add_parser(kinds: Any) -> None:
    """Add `furbo` to the subparsers `kinds` of camsim's command line."""
    furbo = kinds.add_parser("furbo", help="a simulated Furbo cloud account with dog/cat cameras")
    furbo.add_argument("--host", default="127.0.0.1")
    furbo.add_argument("--port", type=int, default=0, help="the HTTPS port of all three Furbo hosts")
    furbo.add_argument("--state-port", type=int, default=0)
    furbo.add_argument(
        "--accounts",
        type=_positive,
        default=1,
        help="accounts in this one cloud; account N>1 is user+N@… with password PASSWORDN",
    )
    furbo.add_argument("--email", default="demo@furbo.test", help="the first account's")
    furbo.add_argument("--password", default="furbopass", help="the first account's")
    furbo.add_argument(
        "--mfa",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="ask a new MobileId for the emailed code",
    )
    furbo.add_argument(
        "--devices",
        type=_kinds,
        default=("dog", "cat", "mini"),
        help="each account's cameras, e.g. dog,cat,mini",
    )
    furbo.add_argument("--subscription", action=argparse.BooleanOptionalAction, default=True)
    furbo.add_argument("--token-ttl", type=float, default=86400.0, help="seconds a CognitoToken lasts")
    furbo.add_argument("--code-ttl", type=float, default=600.0, help="seconds an emailed code lasts")
    furbo.add_argument("--link-ttl", type=float, default=3600.0, help="seconds a signed media link lasts")
    furbo.add_argument("--lockout-after", type=int, default=5, help="wrong passwords in a row before 80001")
    furbo.add_argument("--lockout-seconds", type=float, default=300.0)
    furbo.add_argument(
        "--calendar-window",
        type=float,
        default=10.0,
        help="seconds within which a repeat calendar call is 80002",
    )
    furbo.add_argument("--timezone", default="Europe/London", help="the account's timezone (IANA name)")
    furbo.add_argument("--log-level", default="WARNING")


def config_from_args(args: argparse.Namespace) -> Config:
    return Config(
        email=args.email,
        password=args.password,
        mfa=args.mfa,
        devices=args.devices,
        subscription=args.subscription,
        token_ttl=args.token_ttl,
        code_ttl=args.code_ttl,
        link_ttl=args.link_ttl,
        lockout_after=args.lockout_after,
        lockout_seconds=args.lockout_seconds,
        calendar_window=args.calendar_window,
        timezone=args.timezone,
        accounts=args.accounts,
    )


async def run(args: argparse.Namespace, stop_on_signals: Callable[[], asyncio.Event]) -> None:
    await server.run(config_from_args(args), args.host, args.port, args.state_port, stop_on_signals())
