"""The USB webcam config-flow steps: pick a webcam found on this host, then its capture mode.

Every webcam joins the one USB entry of this host (a second one is added to it, and the entry
reloads). Before anything is saved the chosen mode is tried for one frame, so a webcam another
program holds is reported with that program's name. Reconfigure changes a webcam's mode or removes it.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Mapping
from typing import Any

import av
import probatio as vol
from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
from homeassistant.helpers.service_info.usb import UsbServiceInfo

from ...const import CONF_BRAND, DOMAIN
from ...streaming.capture import probe_capture
from ..base import CaptureVideo
from .backend import UsbCamera, camera_id, mode_label
from .connection import configured_cameras
from .const import BRAND, CONF_CAMERAS, ENTRY_TITLE, ENTRY_UNIQUE_ID, PROBE_TIMEOUT
from .discovery import CaptureDevice, CaptureMode, Scan, capture_modes, preferred_mode
from .holders import describe, holders
from .host import scan_host

_LOGGER = logging.getLogger(__name__)

CONF_DEVICE = "device"
CONF_MODE = "mode"
CONF_CAMERA = "camera"
REMOVE = "remove"


def mode_key(mode: CaptureMode) -> str:
    return f"{mode.fourcc}:{mode.width}x{mode.height}@{mode.fps}"


def device_label(device: CaptureDevice) -> str:
    """ "HD Pro Webcam C920 — MJPEG up to 1920×1080 at 30 fps, H.264 …" """
    offers = []
    for fmt in device.formats:
        sizes = [size for size in fmt.sizes if size.rates]
        if sizes:
            best = sizes[0]  # largest first
            offers.append(
                f"{fmt.description} up to {best.width}×{best.height} at {float(max(best.rates)):g} fps"
            )
    return f"{device.name} — {', '.join(offers) or 'no formats reported'}"


def _nothing_found(found: Scan, configured: set[str]) -> tuple[str, dict[str, str]]:
    """The error (and its placeholders) that says why there is no webcam to add."""
    if found.unreadable:
        nodes = ", ".join(node.node for node in found.unreadable)
        return "usb_unreadable", {"nodes": nodes, "error": found.unreadable[0].error}
    if any(camera_id(device) in configured for device in found.devices):
        return "usb_all_added", {}
    if found.not_in_dev:
        nodes = ", ".join(f"/dev/{name}" for name in found.not_in_dev)
        return "usb_not_in_dev", {"nodes": nodes}
    return "usb_none", {}


def _probe(device: CaptureDevice, mode: CaptureMode) -> tuple[str, dict[str, str]] | None:
    """Try the mode for one frame (blocking); None when it works, else an error and its placeholders."""
    video = CaptureVideo(
        device=device.path,
        input_format=mode.input_format,
        width=mode.width,
        height=mode.height,
        fps=float(mode.fps),
    )
    try:
        probe_capture(video, PROBE_TIMEOUT)
    except (av.error.FFmpegError, OSError, TimeoutError) as err:
        _LOGGER.debug("trying %s on %s failed: %r", mode_label(mode), device.path, err)
        if found := holders(device.path):
            return "usb_busy", {"holder": describe(found)}
        code = getattr(err, "errno", None)
        if code == errno.EBUSY:
            return "usb_busy_unnamed", {}
        if code in (errno.EACCES, errno.EPERM):
            return "usb_unreadable", {"nodes": device.node, "error": str(err)}
        if code == errno.ENOENT:
            return "usb_gone", {}
        if isinstance(err, TimeoutError):
            return "usb_no_frames", {"seconds": f"{PROBE_TIMEOUT:g}"}
        return "usb_cannot_open", {"error": str(err)}
    return None


class UsbFlow(ConfigFlow):
    """Add a USB webcam of this host; change its mode or remove it (reconfigure)."""

    def __init__(self) -> None:
        super().__init__()
        self._usb_devices: dict[str, CaptureDevice] = {}  # stable path → device, from the latest scan
        self._usb_device: CaptureDevice | None = None
        self._usb_reconfigure_id: str | None = None

    def _usb_entry(self) -> ConfigEntry[Any] | None:
        return self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, ENTRY_UNIQUE_ID)

    async def async_step_usb(
        self, user_input: dict[str, Any] | UsbServiceInfo | None = None
    ) -> ConfigFlowResult:
        """The capture devices found on this host, by name with what each offers.

        The brand key `usb` makes this also HA's USB-discovery step; the manifest asks for no USB
        discovery, but should one arrive it only opens this list.
        """
        if isinstance(user_input, UsbServiceInfo):
            user_input = None
        if user_input is not None and (device := self._usb_devices.get(user_input.get(CONF_DEVICE, ""))):
            self._usb_device = device
            return await self.async_step_usb_mode()
        found = await self.hass.async_add_executor_job(scan_host)
        entry = self._usb_entry()
        configured = set(entry.data.get(CONF_CAMERAS, {})) if entry else set()
        addable = [d for d in found.devices if camera_id(d) not in configured and capture_modes(d)]
        self._usb_devices = {device.path: device for device in addable}
        if not addable:
            # A form without fields: plug the webcam in (or pass it through), then submit to look again.
            error, placeholders = _nothing_found(found, configured)
            return self.async_show_form(
                step_id="usb_none", errors={"base": error}, description_placeholders=placeholders
            )
        options = [SelectOptionDict(value=device.path, label=device_label(device)) for device in addable]
        schema = vol.Schema(
            {
                vol.Required(CONF_DEVICE, default=addable[0].path): SelectSelector(
                    SelectSelectorConfig(options=options, mode=SelectSelectorMode.LIST)
                )
            }
        )
        return self.async_show_form(step_id="usb", data_schema=schema)

    async def async_step_usb_none(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Nothing was found: submitting looks again."""
        return await self.async_step_usb()

    async def async_step_usb_mode(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Format, size and rate; the preferred one (MJPEG, 1280×720 at 30 fps where offered) first."""
        device = self._usb_device
        assert device is not None
        modes = {mode_key(mode): mode for mode in capture_modes(device)}
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"name": device.name}
        if user_input is not None and (mode := modes.get(user_input[CONF_MODE])) is not None:
            problem = await self.hass.async_add_executor_job(_probe, device, mode)
            if problem is None:
                return self._usb_add(UsbCamera.from_device(device, mode))
            errors["base"], extra = problem
            placeholders.update(extra)
        return self.async_show_form(
            step_id="usb_mode",
            data_schema=self._usb_mode_schema(modes, preferred_mode(device), removable=False),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _usb_mode_schema(
        self, modes: Mapping[str, CaptureMode], default: CaptureMode | None, *, removable: bool
    ) -> vol.Schema:
        options = [SelectOptionDict(value=key, label=mode_label(mode)) for key, mode in modes.items()]
        if removable:
            options.append(SelectOptionDict(value=REMOVE, label="Remove this webcam"))
        default_key = next(iter(modes))
        if default is not None and mode_key(default) in modes:
            default_key = mode_key(default)
        return vol.Schema(
            {
                vol.Required(CONF_MODE, default=default_key): SelectSelector(
                    SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN)
                )
            }
        )

    def _usb_add(self, camera: UsbCamera) -> ConfigFlowResult:
        """Into the host's USB entry: a new entry for the first webcam, the existing one after."""
        entry = self._usb_entry()
        if entry is None:
            self.context["unique_id"] = ENTRY_UNIQUE_ID
            return self.async_create_entry(
                title=ENTRY_TITLE, data={CONF_BRAND: BRAND, CONF_CAMERAS: {camera.id: camera.to_data()}}
            )
        cameras = {**entry.data.get(CONF_CAMERAS, {}), camera.id: camera.to_data()}
        self.hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_CAMERAS: cameras})
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_abort(reason="usb_added", description_placeholders={"name": camera.name})

    # --- reconfigure: a webcam's mode, or removing it ------------------------------------------

    async def async_step_usb_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Which webcam to change (the registry's `reconfigure_step`)."""
        entry = self._get_reconfigure_entry()
        cameras = configured_cameras(entry.data)
        if user_input is not None and user_input.get(CONF_CAMERA) in cameras:
            self._usb_reconfigure_id = user_input[CONF_CAMERA]
            return await self.async_step_usb_camera()
        options = [
            SelectOptionDict(value=camera.id, label=f"{camera.name} — {mode_label(camera.mode)}")
            for camera in cameras.values()
        ]
        schema = vol.Schema(
            {
                vol.Required(CONF_CAMERA, default=next(iter(cameras))): SelectSelector(
                    SelectSelectorConfig(options=options, mode=SelectSelectorMode.LIST)
                )
            }
        )
        return self.async_show_form(step_id="usb_reconfigure", data_schema=schema)

    async def async_step_usb_camera(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The chosen webcam's mode (from what it offers now), or remove it."""
        entry = self._get_reconfigure_entry()
        cameras = configured_cameras(entry.data)
        assert self._usb_reconfigure_id is not None
        camera = cameras[self._usb_reconfigure_id]
        removable = len(cameras) > 1
        if user_input is not None and user_input.get(CONF_MODE) == REMOVE and removable:
            remaining = {k: v for k, v in entry.data[CONF_CAMERAS].items() if k != camera.id}
            return self.async_update_reload_and_abort(entry, data={**entry.data, CONF_CAMERAS: remaining})
        found = await self.hass.async_add_executor_job(scan_host)
        device = next((d for d in found.devices if camera_id(d) == camera.id), None)
        # Unplugged: only its stored mode (or removal) can be chosen.
        offered = capture_modes(device) if device is not None else [camera.mode]
        modes = {mode_key(mode): mode for mode in offered}
        if user_input is not None and (mode := modes.get(user_input.get(CONF_MODE, ""))) is not None:
            return self._usb_save_mode(UsbCamera(id=camera.id, path=camera.path, name=camera.name, mode=mode))
        return self.async_show_form(
            step_id="usb_camera",
            data_schema=self._usb_mode_schema(modes, camera.mode, removable=removable),
            description_placeholders={"name": camera.name},
        )

    def _usb_save_mode(self, camera: UsbCamera) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        cameras = {**entry.data[CONF_CAMERAS], camera.id: camera.to_data()}
        return self.async_update_reload_and_abort(entry, data={**entry.data, CONF_CAMERAS: cameras})
