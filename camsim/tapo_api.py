"""The camera API every control transport carries, once the transport has unwrapped it.

Real Tapo cameras run the same request/response API behind each login scheme: pytapo and
python-kasa's smartcam modules send `multipleRequest` batches of `{"method", "params"}`, and a
few calls still use the older top-level form `{"method": "get" | "set" | "do", <module>: {…}}`
(python-kasa's pan/tilt, pytapo's motor capability and alarm). KLAP firmware additionally
answers the SMART-device names pytapo switches to for KLAP cameras (`get_device_info`, …).

Method names and payload shapes follow what those clients send; answers carry the fields they
read. State lives in `TapoDevice`, so ONVIF and RTSP see the same camera.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from .device import TapoDevice

Params = dict[str, Any]
Result = dict[str, Any]

# Error codes as real cameras answer them (pytapo const.ERROR_CODES, python-kasa SmartErrorCode).
UNSUPPORTED_METHOD = -40106
PARAMS_ERROR = -40101
PRESET_NOT_FOUND = -64302

# How far one `movestep` turns the motor, in the control API's degrees.
STEP_DEGREES = 10

HW_VERSION = "2.0"
TIMEZONE = {"timezone": "UTC+00:00", "zone_id": "UTC", "timing_mode": "ntp"}


class ApiError(Exception):
    """A method failed with the error code a real camera answers."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def _section(params: Params, module: str, section: str) -> Params:
    try:
        value = params[module][section]
    except (KeyError, TypeError) as err:
        raise ApiError(PARAMS_ERROR) from err
    if not isinstance(value, dict):
        raise ApiError(PARAMS_ERROR)
    return value


def _enabled(params: Params, module: str, section: str) -> bool | None:
    value = _section(params, module, section).get("enabled")
    return None if value is None else value == "on"


# --- identity -------------------------------------------------------------------------------


def _basic_info(device: TapoDevice) -> Result:
    model = device.config.model
    return {
        "device_type": "SMART.IPCAMERA",
        "device_model": model,
        "device_name": model,
        "device_info": f"{model} {HW_VERSION} IPC",
        "device_alias": f"Tapo {model}",
        "hw_version": HW_VERSION,
        "sw_version": device.firmware_version,
        "mac": device.mac,
        "dev_id": device.device_id,
        "hw_id": device.device_id[:32],
        "oem_id": device.device_id[-32:],
        "features": 3,
        "region": "EU",
        "manufacturer_name": "TP-LINK",
        "is_cal": True,
        "ffs": False,
        "latitude": -1,
        "longitude": -1,
        "has_set_location_info": 0,
        "avatar": f"camera {model.lower()}",
    }


def get_device_info(device: TapoDevice, _: Params) -> Result:
    return {"device_info": {"basic_info": _basic_info(device)}}


def get_smart_device_info(device: TapoDevice, _: Params) -> Result:
    """KLAP firmware answers the SMART-device form; pytapo reads `type` from it."""
    info = _basic_info(device)
    info.pop("device_info")  # the camera form's description; a SMART answer has no such key
    return {**info, "type": info["device_type"], "model": info["device_model"], "device_id": info["dev_id"]}


def _components(device: TapoDevice) -> list[Params]:
    names = ["video", "led", "lensMask", "detection", "personDetection", "nightVisionMode", "msgAlarm"]
    if device.has_motor:
        names += ["ptz", "preset"]
    return [{"name": name, "version": 1} for name in names]


def get_app_component_list(device: TapoDevice, _: Params) -> Result:
    return {"app_component": {"app_component_list": _components(device)}}


def get_connection_type(_device: TapoDevice, _: Params) -> Result:
    return {"link_type": "wifi", "rssi": "4", "rssiValue": -45, "ssid": "Y2Ftc2lt"}


def get_device_ip_address(device: TapoDevice, _: Params) -> Result:
    """The `wan` section of the network module (pytapo's getDeviceIpAddress): the camera's own
    address on the LAN, with DHCP as the app sets cameras up; the router is the subnet's .1."""
    host = device.config.host
    gateway = ".".join([*host.split(".")[:3], "1"])
    wan = {
        "ipaddr": host,
        "netmask": "255.255.255.0",
        "gateway": gateway,
        "proto": "dhcp",
        "dns1": gateway,
        "dns2": "0.0.0.0",  # what the firmware shows for "no second DNS server"
        "mac": device.mac,
        "link_status": "up",
    }
    return {"network": {"wan": wan}}


# --- switches -------------------------------------------------------------------------------


def get_lens_mask(device: TapoDevice, _: Params) -> Result:
    return {"lens_mask": {"lens_mask_info": {"enabled": _on_off(device.privacy)}}}


def set_lens_mask(device: TapoDevice, params: Params) -> Result:
    if (enabled := _enabled(params, "lens_mask", "lens_mask_info")) is not None:
        device.privacy = enabled
    return {}


def get_motion_detection(device: TapoDevice, _: Params) -> Result:
    config = {
        "enabled": _on_off(device.motion_detection),
        "digital_sensitivity": "50",
        "sensitivity": "medium",
    }
    return {"motion_detection": {"motion_det": config}}


def set_motion_detection(device: TapoDevice, params: Params) -> Result:
    if (enabled := _enabled(params, "motion_detection", "motion_det")) is not None:
        device.motion_detection = enabled
    return {}


def get_person_detection(device: TapoDevice, _: Params) -> Result:
    return {
        "people_detection": {"detection": {"enabled": _on_off(device.person_detection), "sensitivity": "50"}}
    }


def set_person_detection(device: TapoDevice, params: Params) -> Result:
    if (enabled := _enabled(params, "people_detection", "detection")) is not None:
        device.person_detection = enabled
    return {}


def get_led(device: TapoDevice, _: Params) -> Result:
    return {"led": {"config": {"enabled": _on_off(device.led)}}}


def set_led(device: TapoDevice, params: Params) -> Result:
    if (enabled := _enabled(params, "led", "config")) is not None:
        device.led = enabled
    return {}


def set_led_off(device: TapoDevice, params: Params) -> Result:
    """KLAP firmware's SMART-device form: `{"led_off": 0 | 1}`."""
    device.led = not params.get("led_off")
    return {}


# Night vision: pytapo reads `inf_type` (on/off/auto) from the image "common" section, and
# the NightVisionModeConfig names the same setting with the app's mode names.
NIGHT_VISION_MODES = {"on": "inf_night_vision", "off": "wtl_night_vision", "auto": "md_night_vision"}


def get_image_common(device: TapoDevice, _: Params) -> Result:
    return {"image": {"common": {"inf_type": device.night_vision, "light_freq_mode": "auto"}}}


def set_day_night_mode(device: TapoDevice, params: Params) -> Result:
    mode = _section(params, "image", "common").get("inf_type")
    if mode not in NIGHT_VISION_MODES:
        raise ApiError(PARAMS_ERROR)
    device.night_vision = mode
    return {}


def get_night_vision_mode(device: TapoDevice, _: Params) -> Result:
    return {"image": {"switch": {"night_vision_mode": NIGHT_VISION_MODES[device.night_vision]}}}


def set_night_vision_mode(device: TapoDevice, params: Params) -> Result:
    by_app_name = {app: mode for mode, app in NIGHT_VISION_MODES.items()}
    mode = by_app_name.get(_section(params, "image", "switch").get("night_vision_mode", ""))
    if mode is None:
        raise ApiError(PARAMS_ERROR)
    device.night_vision = mode
    return {}


# --- alarm ----------------------------------------------------------------------------------


def _alarm_info(device: TapoDevice) -> Params:
    return {
        "enabled": _on_off(device.alarm),
        "alarm_type": "0",
        "light_type": "0",
        "alarm_mode": ["sound", "light"],
    }


def get_alarm_config(device: TapoDevice, _: Params) -> Result:
    return {"msg_alarm": _alarm_info(device)}


def set_alarm_config(device: TapoDevice, params: Params) -> Result:
    """Both the flat form and the older `chn1_msg_alarm_info` section set the siren."""
    settings = params.get("msg_alarm")
    if not isinstance(settings, dict):
        raise ApiError(PARAMS_ERROR)
    settings = settings.get("chn1_msg_alarm_info", settings)
    if "enabled" in settings:
        device.alarm = settings["enabled"] == "on"
    return {}


def get_last_alarm_info(device: TapoDevice, params: Params) -> Result:
    # pytapo asks the msg_alarm module for the siren; python-kasa asks the system module
    # for the last detection, which this camera never records.
    if "msg_alarm" in params:
        return {"msg_alarm": {"chn1_msg_alarm_info": _alarm_info(device)}}
    return {"system": {"last_alarm_info": {"last_alarm_time": "0", "last_alarm_type": ""}}}


# --- time and system ------------------------------------------------------------------------


def get_clock_status(_device: TapoDevice, _: Params) -> Result:
    now = int(time.time())
    local = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now))
    return {"system": {"clock_status": {"seconds_from_1970": now, "local_time": local}}}


def get_timezone(_device: TapoDevice, _: Params) -> Result:
    return {"system": {"basic": dict(TIMEZONE)}}


def get_smart_device_time(_device: TapoDevice, _: Params) -> Result:
    return {"timestamp": int(time.time()), "time_diff": 0, "region": TIMEZONE["zone_id"]}


def reboot(device: TapoDevice, _: Params) -> Result:
    device.reboot()
    return {}


# --- motor and presets ----------------------------------------------------------------------


def _require_motor(device: TapoDevice) -> None:
    # Fixed cameras (C100, C110, …) have no motor service at all.
    if not device.has_motor:
        raise ApiError(UNSUPPORTED_METHOD)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as err:
        raise ApiError(PARAMS_ERROR) from err


def get_motor_capability(device: TapoDevice, _: Params) -> Result:
    _require_motor(device)
    capability = {"absolute_move_supported": "1", "calibrate_supported": "1", "limit_supported": "0"}
    return {"motor": {"capability": capability}}


def motor_move(device: TapoDevice, params: Params) -> Result:
    """`move` turns the motor by the given coordinates, relative to where it points now."""
    _require_motor(device)
    move = _section(params, "motor", "move")
    device.move_by(_number(move.get("x_coord")), _number(move.get("y_coord")))
    return {}


def motor_step(device: TapoDevice, params: Params) -> Result:
    """`movestep` turns one step towards a direction in degrees: 0 right, 90 up, 180 left."""
    _require_motor(device)
    angle = math.radians(_number(_section(params, "motor", "movestep").get("direction")))
    device.move_by(round(STEP_DEGREES * math.cos(angle)), round(STEP_DEGREES * math.sin(angle)))
    return {}


def motor_calibrate(device: TapoDevice, _: Params) -> Result:
    _require_motor(device)
    device.calibrate()
    return {}


def get_presets(device: TapoDevice, _: Params) -> Result:
    _require_motor(device)
    ids = sorted(device.presets, key=int)
    preset = {"id": ids, "name": [device.presets[i] for i in ids]}
    return {"preset": {"preset": preset}}


def add_preset(device: TapoDevice, params: Params) -> Result:
    _require_motor(device)
    name = _section(params, "preset", "set_preset").get("name")
    if not name:
        raise ApiError(PARAMS_ERROR)
    return {"id": device.save_preset(str(name))}


def goto_preset(device: TapoDevice, params: Params) -> Result:
    _require_motor(device)
    if not device.goto_preset(str(_section(params, "preset", "goto_preset").get("id"))):
        raise ApiError(PRESET_NOT_FOUND)
    return {}


def remove_preset(device: TapoDevice, params: Params) -> Result:
    _require_motor(device)
    ids = _section(params, "preset", "remove_preset").get("id", [])
    ids = ids if isinstance(ids, list) else [ids]
    if not all(device.delete_preset(str(preset_id)) for preset_id in ids):
        raise ApiError(PRESET_NOT_FOUND)
    return {}


Handler = Callable[[TapoDevice, Params], Result]

METHODS: dict[str, Handler] = {
    "getDeviceInfo": get_device_info,
    "getAppComponentList": get_app_component_list,
    "getConnectionType": get_connection_type,
    "getDeviceIpAddress": get_device_ip_address,
    "getLensMaskConfig": get_lens_mask,
    "setLensMaskConfig": set_lens_mask,
    "getDetectionConfig": get_motion_detection,
    "setDetectionConfig": set_motion_detection,
    "getPersonDetectionConfig": get_person_detection,
    "setPersonDetectionConfig": set_person_detection,
    "getLedStatus": get_led,
    "setLedStatus": set_led,
    "getLightFrequencyInfo": get_image_common,
    "setDayNightModeConfig": set_day_night_mode,
    "getNightVisionModeConfig": get_night_vision_mode,
    "setNightVisionModeConfig": set_night_vision_mode,
    "getAlarmConfig": get_alarm_config,
    "setAlarmConfig": set_alarm_config,
    "getLastAlarmInfo": get_last_alarm_info,
    "getClockStatus": get_clock_status,
    "getTimezone": get_timezone,
    "rebootDevice": reboot,
    "getMotorCapability": get_motor_capability,
    "motorMove": motor_move,
    "relativeMove": motor_step,
    "manualCalibrate": motor_calibrate,
    "getPresetConfig": get_presets,
    "addMotorPostion": add_preset,  # sic: the firmware's spelling
    "motorMoveToPreset": goto_preset,
    "deletePreset": remove_preset,
    # the SMART-device names pytapo uses once it has chosen KLAP
    "get_device_info": get_smart_device_info,
    "set_led_off": set_led_off,
    "device_reboot": reboot,
    "get_device_time": get_smart_device_time,
}

# The older top-level form names a module and a section instead of a method.
TOP_LEVEL_ACTIONS = ("get", "set", "do")
TOP_LEVEL: dict[tuple[str, str, str], str] = {
    ("do", "motor", "move"): "motorMove",
    ("do", "motor", "movestep"): "relativeMove",
    ("do", "motor", "manual_cali"): "manualCalibrate",
    ("do", "preset", "goto_preset"): "motorMoveToPreset",
    ("do", "preset", "set_preset"): "addMotorPostion",
    ("do", "preset", "remove_preset"): "deletePreset",
    ("do", "system", "reboot"): "rebootDevice",
    ("get", "motor", "capability"): "getMotorCapability",
    ("get", "msg_alarm", "chn1_msg_alarm_info"): "getLastAlarmInfo",
    ("set", "msg_alarm", "chn1_msg_alarm_info"): "setAlarmConfig",
    ("set", "lens_mask", "lens_mask_info"): "setLensMaskConfig",
    ("set", "led", "config"): "setLedStatus",
}


def _run(device: TapoDevice, method: str, params: Params) -> tuple[Result, int]:
    handler = METHODS.get(method)
    if handler is None:
        device.count_unknown_method(method)
        return {}, UNSUPPORTED_METHOD
    try:
        return handler(device, params), 0
    except ApiError as err:
        return {}, err.code


def _multiple(device: TapoDevice, params: Params) -> Result:
    responses = []
    for request in params.get("requests", []):
        method = str(request.get("method", ""))
        if method in TOP_LEVEL_ACTIONS:
            # TPAP's channel wraps even the older top-level form in a batch.
            result = _top_level(device, request)
            code = result.pop("error_code")
        else:
            result, code = _run(device, method, request.get("params") or {})
        responses.append({"method": method, "result": result, "error_code": code})
    return {"error_code": 0, "result": {"responses": responses}}


def _top_level(device: TapoDevice, request: Params) -> Result:
    action = request["method"]
    module, body = next(((k, v) for k, v in request.items() if k != "method"), ("", {}))
    if not isinstance(body, dict):
        return {"error_code": PARAMS_ERROR}
    # A get names its sections in "name"; a set or do carries them as keys.
    sections = body.get("name", []) if action == "get" else list(body)
    sections = sections if isinstance(sections, list) else [sections]
    answer: Result = {}
    for section in sections:
        method = TOP_LEVEL.get((action, module, section))
        if method is None:
            device.count_unknown_method(f"{action} {module}.{section}")
            return {"error_code": UNSUPPORTED_METHOD}
        params = {module: {section: body.get(section, {}) if action != "get" else {}}}
        result, code = _run(device, method, params)
        if code:
            return {"error_code": code}
        for key, value in result.get(module, {}).items() if action == "get" else ():
            answer.setdefault(module, {})[key] = value
    # python-kasa reads the section from the first key of a get's answer.
    return {**answer, "error_code": 0}


def call(device: TapoDevice, request: dict[str, Any]) -> dict[str, Any]:
    """Answer one decrypted control request the way the camera's API does."""
    method = request.get("method")
    if method == "multipleRequest":
        return _multiple(device, request.get("params") or {})
    if method in TOP_LEVEL_ACTIONS:
        return _top_level(device, request)
    result, code = _run(device, str(method), request.get("params") or {})
    return {"error_code": code, "result": result} if code == 0 else {"error_code": code}
