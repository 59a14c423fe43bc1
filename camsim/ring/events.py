"""Dings, motions and intercom unlocks: a history entry with a recording, and Ring's push over FCM.

The push is Ring's v2 data message (ring_doorbell listen/eventlistener.py `_get_ring_event`): two
string values, `android_config` (the category) and `data` (device and event as JSON strings).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from .account import Account

_LOGGER = logging.getLogger(__name__)

CATEGORIES = {
    "ding": "com.ring.pn.live-event.ding",
    "motion": "com.ring.pn.live-event.motion",
    "intercom_unlock": "com.ring.pn.intercom.virtual.unlock",
}
DEFAULT_SUBTYPES = {"ding": "button_press", "motion": "motion", "intercom_unlock": "unlock"}


def push_payload(kind: str, device: dict[str, Any], ding: dict[str, Any]) -> dict[str, str]:
    data = {
        "device": {"id": device["id"], "kind": device["kind"], "name": device["description"]},
        "event": {"ding": ding, "eventito": {"type": kind, "timestamp": ding.get("created_at")}},
        "location": {"id": device.get("location_id")},
    }
    return {"android_config": json.dumps({"category": CATEGORIES[kind]}), "data": json.dumps(data)}


class Events:
    def __init__(self, account: Account, push: Any) -> None:
        self.account = account
        self.push = push
        self.malformed = False  # the next push lacks ding.id (the library's callback then raises)
        # While Google holds pushes (an outage of delivery, the socket still up), they wait here and
        # arrive late, as FCM stores messages for a device it cannot reach.
        self.holding = False
        self.held: list[tuple[str, dict[str, str]]] = []

    async def hold(self, on: bool) -> int:
        """Hold pushes from now on, or deliver the held ones (oldest first); returns how many went out."""
        self.holding = on
        if on:
            return 0
        held, self.held = self.held, []
        return sum([await self._send(token, payload) for token, payload in held])

    async def trigger(self, kind: str, device_id: int, subtype: str = "") -> bool:
        """Record the event; push it when a client subscribed. Returns whether a push went out."""
        device = self.account.devices.get(device_id)
        if device is None:
            raise ValueError(f"no device {device_id}")
        if kind != "intercom_unlock" and self.account.camera(device_id) is None:
            raise ValueError(f"device {device_id} is no camera")
        if kind == "motion" and subtype not in ("", "human", "motion"):
            raise ValueError("motion subtype is human or motion")
        event = self.account.record_event(device_id, kind, subtype=subtype or DEFAULT_SUBTYPES[kind])
        token = self.account.push_token
        if token is None or self.push is None:
            return False
        ding: dict[str, Any] = {
            "id": str(event.id),
            "created_at": event.created_at(),
            "subtype": event.subtype,
            "detection_type": event.subtype if kind == "motion" else None,
        }
        if self.malformed:
            self.malformed = False
            del ding["id"]
        payload = push_payload(kind, device, ding)
        if self.holding:
            self.held.append((token, payload))
            return False
        return await self._send(token, payload)

    async def _send(self, token: str, payload: dict[str, str]) -> bool:
        delivered = bool(await self.push.push(token, payload))
        if delivered:
            self.account.counters["push_delivered"] += 1
        else:
            _LOGGER.info("a push was not delivered (no connected client)")
        return delivered
