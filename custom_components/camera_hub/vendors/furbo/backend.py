"""One Furbo camera behind the CameraBackend protocol: what the account's batched poll learned about
it, its smart alerts as switches, its events, its last event's picture and its recordings.

No live video and no treat toss: both go over ThroughTek's proprietary P2P SDK, and the cloud's
"control device" call answers success for any action without proving anything. Nothing here pretends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..base import (
    CameraEvent,
    CameraState,
    Capabilities,
    DeviceIdentity,
    EventCallback,
    EventSpec,
    Limitation,
    MediaBody,
    MediaItem,
    MediaLibrary,
    Notice,
    NotSupported,
    Picture,
    Reading,
    StillVideo,
    Toggle,
    Unsubscribe,
    VideoSource,
    WithoutCameraControls,
)
from .models import Device, Species, alert_name, event_types

if TYPE_CHECKING:
    from .connection import FurboAccount

MANUFACTURER = "Tomofun (Furbo)"
EVENTS_KEY = "pet"
ALERT_PREFIX = "alert_"
SUBSCRIPTION_ACTIVE = "active"
SUBSCRIPTION_NONE = "none"
NO_SUBSCRIPTION = Notice(issue="furbo_no_subscription", learn_more_url="https://furbo.com/pages/furbo-nanny")

READINGS = (
    Reading(key="events_today", translation_key="events_today", state_class="measurement"),
    # The calendar's activity report is the account's, not one camera's.
    Reading(
        key="account_activity_today", translation_key="account_activity_today", state_class="measurement"
    ),
    Reading(
        key="subscription",
        translation_key="subscription",
        device_class="enum",
        options=(SUBSCRIPTION_ACTIVE, SUBSCRIPTION_NONE),
        diagnostic=True,
    ),
)


def alert_keys(settings: dict[str, str]) -> tuple[str, ...]:
    """The smart alerts a camera has: its on/off settings (cooldowns are "Frequency:<alert>")."""
    return tuple(
        key for key, value in settings.items() if not key.startswith("Frequency:") and value in ("0", "1")
    )


def _subscription(licensed: bool | None) -> str | None:
    if licensed is None:
        return None  # the sensor reads "unknown"
    return SUBSCRIPTION_ACTIVE if licensed else SUBSCRIPTION_NONE


def mac_of(device_id: str) -> str:
    """Furbo's device Id is the camera's MAC as 12 hex digits; anything else is no MAC."""
    if len(device_id) == 12 and all(c in "0123456789abcdefABCDEF" for c in device_id):
        return ":".join(device_id[i : i + 2] for i in range(0, 12, 2)).lower()
    return ""


class FurboBackend(WithoutCameraControls):
    """A Furbo camera: state from the account's one poll, events pushed when that poll finds them."""

    control_method: str | None = None
    limitation: Limitation | None = None

    def __init__(self, account: FurboAccount, device: Device, species: Species, alerts: Sequence[str]):
        self._account = account
        self.device = device
        self.species = species
        self._alerts = {f"{ALERT_PREFIX}{name}": name for name in alerts}
        self._listeners: list[EventCallback] = []
        self._capabilities = Capabilities(
            streams=("hd",),
            events=(EventSpec(key=EVENTS_KEY, translation_key=EVENTS_KEY, event_types=event_types(species)),),
            toggles=tuple(
                Toggle(
                    key=key,
                    translation_key="smart_alert",
                    placeholders={"alert": alert_name(name)},
                    # The "continuous" variants repeat their alert: off the dashboard unless wanted.
                    enabled_default=not name.startswith("Continuous"),
                )
                for key, name in self._alerts.items()
            ),
            readings=READINGS,
            media=True,
        )
        self._video = StillVideo(picture=self.async_picture, translation_key="last_event")

    @property
    def identity(self) -> DeviceIdentity:
        return DeviceIdentity(
            name=self.device.name,
            manufacturer=MANUFACTURER,
            model=self.device.product.model,
            firmware=self.device.firmware,
            mac=mac_of(self.device.id),
            hardware=self.device.product_id or None,
        )

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    async def async_retry_limited(self) -> bool:
        return False

    def video(self, stream: str) -> VideoSource | None:
        return self._video if stream == "hd" else None

    def media(self) -> MediaLibrary:
        return FurboMedia(self._account, self.device.id)

    def diagnostics(self) -> dict[str, Any]:
        return {
            "product_id": self.device.product_id,
            "species": self.species.value,
            "alerts": len(self._alerts),
            "account": self._account.diagnostics(),
        }

    async def async_read_state(self) -> CameraState:
        await self._account.async_poll_if_due()
        seen = self._account.seen(self.device.id)
        toggles = {
            key: seen.alerts.get(name) == "1" for key, name in self._alerts.items() if name in seen.alerts
        }
        return CameraState(
            toggles=toggles,
            readings={
                "events_today": seen.events_today,
                "account_activity_today": self._account.activity_today,
                "subscription": _subscription(seen.licensed),
            },
            # Only a subscription Furbo said is missing raises the issue; unknown is no reason to.
            notices=(NO_SUBSCRIPTION,) if seen.licensed is False else (),
        )

    async def async_set_switch(self, key: str, on: bool) -> None:
        name = self._alerts.get(key)
        if name is None:
            raise NotSupported(f"a Furbo camera has no switch {key}")
        await self._account.async_set_alert(self.device.id, name, on)

    async def async_picture(self) -> Picture | None:
        """The newest event's thumbnail with its time: the last thing the cloud saw, labelled so."""
        return await self._account.async_event_picture(self.device.id)

    def subscribe_events(self, callback: EventCallback) -> Unsubscribe:
        self._listeners.append(callback)

        async def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    def fire(self, event: CameraEvent) -> None:
        for listener in list(self._listeners):
            listener(event)


class FurboMedia:
    """A camera's event clips and the account's Doggie Diary timelapses; links fetched on every open."""

    def __init__(self, account: FurboAccount, device_id: str) -> None:
        self._account = account
        self._device_id = device_id

    async def async_items(self) -> Sequence[MediaItem]:
        return await self._account.async_media_items(self._device_id)

    async def async_open(self, item_id: str, *, thumbnail: bool = False) -> MediaBody:
        return await self._account.async_open_media(self._device_id, item_id, thumbnail=thumbnail)
