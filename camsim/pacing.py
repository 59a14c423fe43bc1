"""How long the simulated camera takes to answer: real cameras' small CPUs are slow.

A Tapo camera needs tens to hundreds of milliseconds per control or ONVIF request. On loopback
camsim answers in well under a millisecond, which would hide whether a client waits on cameras one
after another or in parallel. `--response-delay` puts the camera's thinking time back.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .device import TapoDevice


def response_delay(device: TapoDevice) -> Middleware:
    @web.middleware
    async def delay(request: web.Request, handler: Handler) -> web.StreamResponse:
        if device.config.response_delay > 0:
            await asyncio.sleep(device.config.response_delay)
        return await handler(request)

    return delay
