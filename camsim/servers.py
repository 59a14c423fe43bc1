"""Starts and stops every listener of one simulated camera.

Each protocol module exposes `async start(device, host, port) -> Listener`, where a listener
has `port` (the bound port, useful when 0 was asked) and `async stop()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from . import control, onvif, rtsp
from .device import TapoDevice


class Listener(Protocol):
    port: int

    async def stop(self) -> None: ...


@dataclass
class AiohttpListener:
    """An aiohttp application bound to one port; shared by the HTTP-based servers."""

    runner: web.AppRunner
    port: int

    @classmethod
    async def start(cls, app: web.Application, host: str, port: int, **site_kwargs: Any) -> AiohttpListener:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_address=True, **site_kwargs)
        await site.start()
        return cls(runner, int(runner.addresses[0][1]))

    async def stop(self) -> None:
        await self.runner.cleanup()


def state_app(device: TapoDevice) -> web.Application:
    async def get_state(_: web.Request) -> web.Response:
        return web.json_response(device.snapshot())

    async def post_state(request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            device.apply(body)
        except ValueError as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response(device.snapshot())

    app = web.Application()
    app.router.add_get("/", get_state)
    app.router.add_post("/", post_state)
    return app


@dataclass
class Camera:
    device: TapoDevice
    control: Listener
    onvif: Listener
    rtsp: Listener
    state: Listener

    def announcement(self) -> dict[str, Any]:
        host = self.device.config.host
        return {
            "kind": "tapo",
            "host": host,
            "control_port": self.control.port,
            "onvif_port": self.onvif.port,
            "rtsp_port": self.rtsp.port,
            "rtsp": [f"rtsp://{host}:{self.rtsp.port}/stream1", f"rtsp://{host}:{self.rtsp.port}/stream2"],
            "state_url": f"http://{host}:{self.state.port}/",
        }

    async def stop(self) -> None:
        for listener in (self.rtsp, self.onvif, self.control, self.state):
            await listener.stop()


async def start_camera(
    device: TapoDevice, *, control_port: int, onvif_port: int, rtsp_port: int, state_port: int
) -> Camera:
    host = device.config.host
    state = await AiohttpListener.start(state_app(device), host, state_port)
    # RTSP first: ONVIF's GetStreamUri answers with the port it actually bound.
    rtsp_listener = await rtsp.start(device, host, rtsp_port)
    return Camera(
        device=device,
        control=await control.start(device, host, control_port),
        onvif=await onvif.start(device, host, onvif_port, rtsp_port=rtsp_listener.port),
        rtsp=rtsp_listener,
        state=state,
    )
