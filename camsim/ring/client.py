"""The client side of ringsim for camsim's own tests: an aiohttp session that reaches the simulator.

It is what the integration's seam does (vendors/ring/cloud.py), written again here so camsim's tests
do not import the integration: a resolver sending the cloud file's hosts to its address, and an SSL
context trusting the simulator's CA only. The unmodified ring_doorbell library gets this session as
`Auth(http_client_session=…)`.
"""

from __future__ import annotations

import json
import socket
import ssl
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult


class CloudResolver(AbstractResolver):
    """Resolves the simulated cloud's host names to its one address and port; nothing else."""

    def __init__(self, hosts: list[str], address: tuple[str, int]) -> None:
        self.hosts = frozenset(hosts)
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.hosts:
            raise OSError(f"{host} is not part of the simulated cloud")
        ip, sim_port = self.address
        return [
            ResolveResult(
                hostname=host,
                host=ip,
                port=sim_port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


def cloud_session(cloud_file: str | Path) -> aiohttp.ClientSession:
    """A session whose requests to the cloud file's hosts reach the simulator over verified TLS."""
    cloud: dict[str, Any] = json.loads(Path(cloud_file).read_text())
    context = ssl.create_default_context(cafile=cloud["ca_file"])
    ip, port = cloud["address"]
    connector = aiohttp.TCPConnector(resolver=CloudResolver(cloud["hosts"], (ip, int(port))), ssl=context)
    return aiohttp.ClientSession(connector=connector)
