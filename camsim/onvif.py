"""ONVIF of the simulated Tapo camera: device, media, PTZ and event services over SOAP 1.2.

What a real Tapo camera (C100/C200/C210 family) does, and camsim copies:

- It listens on port 2020. Clients find the device service at the well-known ``/onvif/device_service``;
  GetCapabilities and GetServices then give every service (device, media, PTZ, events) the single
  XAddr ``/onvif/service``, and the camera tells the services apart by the operation's namespace.
- Requests carry a WS-Security UsernameToken (PasswordDigest = Base64(SHA1(nonce + created +
  password))) for the "camera account" also used by RTSP. A bad or missing token gets a SOAP fault
  ``env:Sender / ter:NotAuthorized`` with HTTP 400 (SOAP 1.2's status for Sender faults). The
  operations ONVIF calls pre-authentication (GetSystemDateAndTime, GetCapabilities, GetServices,
  GetServiceCapabilities) answer without one, which clients rely on to learn the camera's clock
  before signing anything.
- Two H.264 profiles, ``mainStream`` (HD) and ``minorStream`` (SD, half of each dimension), whose
  stream URIs are ``rtsp://host:554/stream1`` and ``/stream2``.
- No ONVIF snapshot: the media capabilities say ``SnapshotUri="false"`` and GetSnapshotUri faults,
  so clients (Home Assistant's onvif integration among them) grab a frame from RTSP instead.
- A PTZ service only on models with a motor, with generic pan/tilt spaces, presets and a home position.
- Motion through PullPoint subscriptions: ``tns1:RuleEngine/CellMotionDetector/Motion`` with
  ``IsMotion`` true/false. The subscription's address is on a second port on real cameras
  (``http://ip:1024/event-1024_1024``); camsim keeps one port and serves ``/event-<n>_<port>``.

Simplified: no analytics, imaging, device-IO or recording services, no WS-BaseNotification Subscribe
(webhooks), no WS-Discovery; the token's Created time and nonce are not checked for freshness or
replay; SetPreset cannot overwrite an existing preset. ContinuousMove turns the generic velocity
(-1..1) into `DEGREES_PER_SECOND` of motor travel: one tick of motion immediately (so a move followed
at once by Stop still moves, deterministically), then a tick every `TICK_SECONDS` until Stop, the
request's Timeout (default `DEFAULT_MOVE_TIMEOUT`) or another move. While the device is offline or
rebooting every request gets a bare HTTP 503 and is not counted in `onvif_requests`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import hmac
import itertools
import math
import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web
from lxml import etree

from .device import PAN_RANGE, TILT_RANGE, TapoDevice
from .pacing import response_delay

if TYPE_CHECKING:
    from .servers import AiohttpListener

Element = Any  # lxml.etree._Element; lxml ships no type information

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "ter": "http://www.onvif.org/ver10/error",
    "tt": "http://www.onvif.org/ver10/schema",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tptz": "http://www.onvif.org/ver20/ptz/wsdl",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wstop": "http://docs.oasis-open.org/wsn/t-1",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "tns1": "http://www.onvif.org/ver10/topics",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
SOAP_ENVELOPES = (NS["s"], "http://schemas.xmlsoap.org/soap/envelope/")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CONTENT_TYPE = "application/soap+xml"

DEVICE_PATH = "/onvif/device_service"
SERVICE_PATH = "/onvif/service"
# What the C200 firmware reports as its ONVIF version (ONVIF numbers releases year.month).
ONVIF_VERSION = (20, 6)
HARDWARE_ID = "1.0"
NETWORK_INTERFACE = "wlan0"

PRE_AUTH = {
    (NS["tds"], "GetSystemDateAndTime"),
    (NS["tds"], "GetCapabilities"),
    (NS["tds"], "GetServices"),
    (NS["tds"], "GetServiceCapabilities"),
}

VIDEO_SOURCE = "vsrc"
VIDEO_SOURCE_CONFIG = "vsconf"
PTZ_NODE = "PTZNodeToken"
PTZ_CONFIG = "PTZConfigurationToken"
PAN_TILT_POSITION_SPACE = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"
PAN_TILT_TRANSLATION_SPACE = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/TranslationGenericSpace"
PAN_TILT_VELOCITY_SPACE = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace"
PAN_TILT_SPEED_SPACE = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/GenericSpeedSpace"
MAX_PRESETS = 8

TICK_SECONDS = 0.1
DEGREES_PER_SECOND = (60.0, 30.0)  # full-speed pan and tilt
DEFAULT_MOVE_TIMEOUT = 10.0

MOTION_TOPIC = "tns1:RuleEngine/CellMotionDetector/Motion"
CONCRETE_SET = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
DEFAULT_SUBSCRIPTION_SECONDS = 60.0
MAX_PULL_TIMEOUT = 300.0
QUEUED_MESSAGES = 64  # per subscription; the oldest are dropped when a client stops pulling


# --- XML ----------------------------------------------------------------------------------------


def _qname(tag: str) -> str:
    prefix, _, local = tag.partition(":")
    return f"{{{NS[prefix]}}}{local}"


def E(tag: str, *content: Element | str | None, **attrib: str) -> Element:
    """An element `prefix:Name` with text and/or children; lxml escapes the text and attributes."""
    element = etree.Element(_qname(tag), attrib)
    for item in content:
        if item is None:
            continue
        if isinstance(item, str):
            element.text = item
        else:
            element.append(item)
    return element


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _number(value: float) -> str:
    return f"{value:.4g}"


def _xml_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def envelope(body: Element) -> bytes:
    root = etree.Element(_qname("s:Envelope"), nsmap=NS)
    etree.SubElement(root, _qname("s:Header"))
    etree.SubElement(root, _qname("s:Body")).append(body)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> float:
    """Seconds in an xs:duration without years or months (ONVIF never sends those)."""
    match = _DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "PT"):
        raise SoapFault.invalid_argument(f"not a duration: {text!r}")
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    return dt.timedelta(**parts).total_seconds()


def parse_termination_time(text: str | None, now: dt.datetime) -> float:
    """Seconds from now until a WS-N termination time, which is a duration or an absolute time."""
    if not text:
        return DEFAULT_SUBSCRIPTION_SECONDS
    text = text.strip()
    if text.startswith("P"):
        return parse_duration(text)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise SoapFault.invalid_argument(f"not a termination time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return (moment - now).total_seconds()


# --- faults -------------------------------------------------------------------------------------


class SoapFault(Exception):
    """A SOAP 1.2 fault; `Sender` faults are the client's fault (HTTP 400), `Receiver` ours (500)."""

    def __init__(self, code: Literal["Sender", "Receiver"], subcodes: tuple[str, ...], reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.subcodes = subcodes
        self.reason = reason

    @classmethod
    def not_authorized(cls) -> SoapFault:
        return cls("Sender", ("ter:NotAuthorized",), "Sender not Authorized")

    @classmethod
    def action_not_supported(cls) -> SoapFault:
        return cls("Receiver", ("ter:ActionNotSupported",), "Optional Action Not Implemented")

    @classmethod
    def invalid_argument(cls, reason: str, subcode: str | None = None) -> SoapFault:
        subcodes = ("ter:InvalidArgVal", subcode) if subcode else ("ter:InvalidArgVal",)
        return cls("Sender", subcodes, reason)

    @property
    def http_status(self) -> int:
        return 400 if self.code == "Sender" else 500

    def to_xml(self) -> Element:
        code = E("s:Code", E("s:Value", f"s:{self.code}"))
        parent = code
        for subcode in self.subcodes:
            nested = E("s:Subcode", E("s:Value", subcode))
            parent.append(nested)
            parent = nested
        return E("s:Fault", code, E("s:Reason", E("s:Text", self.reason, **{XML_LANG: "en"})))


# --- request ------------------------------------------------------------------------------------

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True, huge_tree=False)


@dataclass(frozen=True)
class Call:
    """One parsed SOAP request: the operation element, the header and the subscription it targets."""

    operation: Element
    header: Element | None
    subscription_id: str | None

    @classmethod
    def parse(cls, payload: bytes, subscription_id: str | None) -> Call:
        try:
            root = etree.fromstring(payload, _PARSER)
        except etree.XMLSyntaxError:
            raise SoapFault("Sender", ("ter:WellFormed",), "Malformed XML") from None
        namespace = etree.QName(root).namespace
        if namespace not in SOAP_ENVELOPES or etree.QName(root).localname != "Envelope":
            raise SoapFault("Sender", ("ter:WellFormed",), "Not a SOAP envelope")
        body = root.find(f"{{{namespace}}}Body")
        operation = body[0] if body is not None and len(body) else None
        if operation is None:
            raise SoapFault("Sender", ("ter:WellFormed",), "Empty SOAP body")
        return cls(operation, root.find(f"{{{namespace}}}Header"), subscription_id)

    @property
    def key(self) -> tuple[str, str]:
        name = etree.QName(self.operation)
        return name.namespace or "", name.localname

    def text(self, path: str) -> str | None:
        """Text at `path` (prefixes from NS) below the operation element, stripped."""
        value = self.operation.findtext(path, namespaces=NS)
        return value.strip() if value is not None else None

    def integer(self, path: str, default: int) -> int:
        text = self.text(path)
        try:
            return int(text) if text else default
        except ValueError:
            raise SoapFault.invalid_argument(f"not an integer: {text!r}") from None

    def find(self, path: str) -> Element | None:
        return self.operation.find(path, NS)

    def vector(self, path: str) -> tuple[float, float] | None:
        """The x/y attributes of a tt:Vector2D such as a PanTilt velocity."""
        node = self.find(path)
        if node is None:
            return None
        try:
            return float(node.get("x", "0")), float(node.get("y", "0"))
        except ValueError:
            raise SoapFault.invalid_argument("x and y must be numbers") from None


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """WS-Security UsernameToken Profile 1.0: Base64(SHA1(nonce + created + password))."""
    digest = hashlib.sha1(nonce + created.encode() + password.encode()).digest()  # noqa: S324 - the spec's
    return base64.b64encode(digest).decode()


def is_authorized(header: Element | None, username: str, password: str) -> bool:
    token = header.find("wsse:Security/wsse:UsernameToken", NS) if header is not None else None
    if token is None or token.findtext("wsse:Username", namespaces=NS) != username:
        return False
    supplied = token.find("wsse:Password", NS)
    if supplied is None:
        return False
    if supplied.get("Type", "").endswith("#PasswordText"):
        expected = password
    else:
        try:
            nonce = base64.b64decode(token.findtext("wsse:Nonce", "", NS), validate=True)
        except binascii.Error:
            return False
        expected = password_digest(nonce, token.findtext("wsu:Created", "", NS).strip(), password)
    return hmac.compare_digest((supplied.text or "").strip().encode(), expected.encode())


# --- motor --------------------------------------------------------------------------------------


class Motor:
    """Drives the shared device's pan/tilt at an ONVIF generic velocity until stopped."""

    def __init__(self, device: TapoDevice) -> None:
        self._device = device
        self._task: asyncio.Task[None] | None = None
        # Sub-degree travel kept between ticks, since the device's motor positions are whole degrees.
        self._carry = (0.0, 0.0)

    @property
    def moving(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, velocity: tuple[float, float], duration: float) -> None:
        self._cancel()
        self._device.moving = velocity
        self._tick(velocity)
        self._task = asyncio.get_running_loop().create_task(self._run(velocity, duration))

    def stop(self) -> None:
        self._cancel()
        self._device.moving = (0.0, 0.0)
        self._carry = (0.0, 0.0)

    async def close(self) -> None:
        task = self._task
        self.stop()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self, velocity: tuple[float, float], duration: float) -> None:
        for _ in range(math.ceil(duration / TICK_SECONDS) - 1):
            await asyncio.sleep(TICK_SECONDS)
            self._tick(velocity)
        self._device.moving = (0.0, 0.0)

    def _tick(self, velocity: tuple[float, float]) -> None:
        travel_x = self._carry[0] + velocity[0] * DEGREES_PER_SECOND[0] * TICK_SECONDS
        travel_y = self._carry[1] + velocity[1] * DEGREES_PER_SECOND[1] * TICK_SECONDS
        whole_x, whole_y = math.trunc(travel_x), math.trunc(travel_y)
        self._carry = (travel_x - whole_x, travel_y - whole_y)
        self._device.move_by(whole_x, whole_y)


def _to_generic(value: int, bounds: tuple[int, int]) -> float:
    return value / bounds[1]


def _from_generic(value: float, bounds: tuple[int, int]) -> float:
    return max(-1.0, min(1.0, value)) * bounds[1]


# --- events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MotionMessage:
    at: dt.datetime
    is_motion: bool
    # "Initialized" tells a new subscriber the current state, "Changed" reports a change.
    operation: Literal["Initialized", "Changed"]


@dataclass
class PullPoint:
    """One PullPoint subscription: queued messages, a wake-up for long polls, and its expiry timer."""

    id: str
    terminates_at: dt.datetime
    messages: deque[MotionMessage] = field(default_factory=lambda: deque(maxlen=QUEUED_MESSAGES))
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    expiry: asyncio.TimerHandle | None = None

    def push(self, message: MotionMessage) -> None:
        self.messages.append(message)
        self.arrived.set()

    def take(self, limit: int) -> list[MotionMessage]:
        taken = [self.messages.popleft() for _ in range(min(limit, len(self.messages)))]
        if not self.messages:
            self.arrived.clear()
        return taken

    def seconds_left(self, now: dt.datetime) -> float:
        return max(0.0, (self.terminates_at - now).total_seconds())


def motion_notification(message: MotionMessage) -> Element:
    return E(
        "wsnt:NotificationMessage",
        E("wsnt:Topic", MOTION_TOPIC, Dialect=CONCRETE_SET),
        E(
            "wsnt:Message",
            E(
                "tt:Message",
                E(
                    "tt:Source",
                    E("tt:SimpleItem", Name="VideoSourceConfigurationToken", Value=VIDEO_SOURCE_CONFIG),
                    E("tt:SimpleItem", Name="VideoAnalyticsConfigurationToken", Value="VideoAnalyticsToken"),
                    E("tt:SimpleItem", Name="Rule", Value="MyMotionDetectorRule"),
                ),
                E("tt:Data", E("tt:SimpleItem", Name="IsMotion", Value=_bool(message.is_motion))),
                UtcTime=_xml_time(message.at),
                PropertyOperation=message.operation,
            ),
        ),
    )


def motion_topic_set() -> Element:
    def description(item_type: str, name: str) -> Element:
        return E("tt:SimpleItemDescription", Name=name, Type=item_type)

    motion = E(
        "tt:MessageDescription",
        E(
            "tt:Source",
            description("tt:ReferenceToken", "VideoSourceConfigurationToken"),
            description("tt:ReferenceToken", "VideoAnalyticsConfigurationToken"),
            description("xsd:string", "Rule"),
        ),
        E("tt:Data", description("xsd:boolean", "IsMotion")),
        IsProperty="true",
    )
    # Topic children below the root live in no namespace, as in the ONVIF topic namespace document.
    leaf = etree.Element("Motion", {_qname("wstop:topic"): "true"})
    leaf.append(motion)
    detector = etree.Element("CellMotionDetector")
    detector.append(leaf)
    return E("wstop:TopicSet", E("tns1:RuleEngine", detector))


# --- profiles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamProfile:
    token: str
    name: str
    encoder: str
    path: str
    width: int
    height: int
    bitrate: int


# --- server -------------------------------------------------------------------------------------

Handler = Callable[[Call], Awaitable[Element]]


class OnvifServer:
    """Answers SOAP requests from the shared `TapoDevice`; one per camsim process."""

    def __init__(self, device: TapoDevice, rtsp_port: int) -> None:
        self.device = device
        self.rtsp_port = rtsp_port
        self.port = 0  # known once the listener is bound
        self.motor = Motor(device)
        self.pullpoints: dict[str, PullPoint] = {}
        self._pullpoint_ids = itertools.count(1)
        self._motion = False
        self._stop_listening = device.add_motion_listener(self._on_motion)
        self.handlers = self._handler_table()

    # --- plumbing ---------------------------------------------------------------------------

    def _handler_table(self) -> dict[tuple[str, str], Handler]:
        tds, trt, tptz, tev, wsnt = NS["tds"], NS["trt"], NS["tptz"], NS["tev"], NS["wsnt"]
        table: dict[tuple[str, str], Handler] = {
            (tds, "GetSystemDateAndTime"): self.get_system_date_and_time,
            (tds, "GetDeviceInformation"): self.get_device_information,
            (tds, "GetCapabilities"): self.get_capabilities,
            (tds, "GetServices"): self.get_services,
            (tds, "GetServiceCapabilities"): self.get_device_service_capabilities,
            (tds, "GetNetworkInterfaces"): self.get_network_interfaces,
            (tds, "GetScopes"): self.get_scopes,
            (tds, "GetHostname"): self.get_hostname,
            (trt, "GetServiceCapabilities"): self.get_media_service_capabilities,
            (trt, "GetProfiles"): self.get_profiles,
            (trt, "GetProfile"): self.get_profile,
            (trt, "GetVideoSources"): self.get_video_sources,
            (trt, "GetStreamUri"): self.get_stream_uri,
            (tev, "GetServiceCapabilities"): self.get_events_service_capabilities,
            (tev, "GetEventProperties"): self.get_event_properties,
            (tev, "CreatePullPointSubscription"): self.create_pull_point_subscription,
            (tev, "PullMessages"): self.pull_messages,
            (tev, "SetSynchronizationPoint"): self.set_synchronization_point,
            (wsnt, "Renew"): self.renew,
            (wsnt, "Unsubscribe"): self.unsubscribe,
        }
        if self.device.has_motor:
            table |= {
                (tptz, "GetServiceCapabilities"): self.get_ptz_service_capabilities,
                (tptz, "GetNodes"): self.get_nodes,
                (tptz, "GetNode"): self.get_node,
                (tptz, "GetConfigurations"): self.get_ptz_configurations,
                (tptz, "GetConfiguration"): self.get_ptz_configuration,
                (tptz, "GetConfigurationOptions"): self.get_ptz_configuration_options,
                (tptz, "GetStatus"): self.get_status,
                (tptz, "ContinuousMove"): self.continuous_move,
                (tptz, "RelativeMove"): self.relative_move,
                (tptz, "AbsoluteMove"): self.absolute_move,
                (tptz, "Stop"): self.stop,
                (tptz, "GetPresets"): self.get_presets,
                (tptz, "SetPreset"): self.set_preset,
                (tptz, "GotoPreset"): self.goto_preset,
                (tptz, "RemovePreset"): self.remove_preset,
                (tptz, "GotoHomePosition"): self.goto_home_position,
            }
        return table

    def app(self) -> web.Application:
        app = web.Application(middlewares=[response_delay(self.device)])
        for path in (DEVICE_PATH, SERVICE_PATH, "/event-{subscription}"):
            app.router.add_post(path, self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        if not self.device.online:
            # An unreachable or rebooting camera serves nothing; it is not an ONVIF-level error.
            self.device.count_offline_request()
            return web.Response(status=503)
        self.device.counters.onvif_requests += 1
        if self.device.faults.onvif_delay > 0:
            await asyncio.sleep(self.device.faults.onvif_delay)
        try:
            call = Call.parse(await request.read(), request.match_info.get("subscription"))
            body = await self.dispatch(call)
        except SoapFault as fault:
            return self._reply(fault.to_xml(), fault.http_status)
        return self._reply(body, 200)

    async def dispatch(self, call: Call) -> Element:
        config = self.device.config
        if call.key not in PRE_AUTH and not is_authorized(call.header, config.username, config.password):
            raise SoapFault.not_authorized()
        handler = self.handlers.get(call.key)
        if handler is None:
            raise SoapFault.action_not_supported()
        return await handler(call)

    @staticmethod
    def _reply(body: Element, status: int) -> web.Response:
        return web.Response(body=envelope(body), status=status, content_type=CONTENT_TYPE, charset="utf-8")

    async def close(self) -> None:
        self._stop_listening()
        for pullpoint_id in list(self.pullpoints):
            self._drop_pullpoint(pullpoint_id)
        await self.motor.close()

    def address(self, path: str) -> str:
        host = self.device.config.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}{path}"

    # --- device service ---------------------------------------------------------------------

    async def get_system_date_and_time(self, _: Call) -> Element:
        now = _utcnow()
        return E(
            "tds:GetSystemDateAndTimeResponse",
            E(
                "tds:SystemDateAndTime",
                E("tt:DateTimeType", "NTP"),
                E("tt:DaylightSavings", "false"),
                E("tt:TimeZone", E("tt:TZ", "UTC0")),
                _date_time("tt:UTCDateTime", now),
                _date_time("tt:LocalDateTime", now),
            ),
        )

    async def get_device_information(self, _: Call) -> Element:
        return E(
            "tds:GetDeviceInformationResponse",
            E("tds:Manufacturer", "tp-link"),
            E("tds:Model", self.device.config.model),
            E("tds:FirmwareVersion", self.device.firmware_version),
            E("tds:SerialNumber", self.device.device_id),
            E("tds:HardwareId", HARDWARE_ID),
        )

    async def get_capabilities(self, call: Call) -> Element:
        asked = call.operation.iterfind("tds:Category", NS)
        categories = {category.text.strip() for category in asked if category.text} or {"All"}
        offered = {"Device", "Events", "Media"} | ({"PTZ"} if self.device.has_motor else set())
        if not categories <= offered | {"All"}:
            raise SoapFault("Receiver", ("ter:ActionNotSupported", "ter:NoSuchService"), "No such service")
        wanted = offered if "All" in categories else categories
        return E("tds:GetCapabilitiesResponse", E("tds:Capabilities", *self._capabilities(wanted)))

    def _capabilities(self, wanted: set[str]) -> list[Element]:
        builders: dict[str, Callable[[], Element]] = {
            "Device": self._device_capabilities,
            "Events": self._events_capabilities,
            "Media": self._media_capabilities,
            "PTZ": self._ptz_capabilities,
        }
        # Schema order: Analytics, Device, Events, Imaging, Media, PTZ.
        return [builders[name]() for name in ("Device", "Events", "Media", "PTZ") if name in wanted]

    def _ptz_capabilities(self) -> Element:
        return E("tt:PTZ", E("tt:XAddr", self.address(SERVICE_PATH)))

    def _device_capabilities(self) -> Element:
        network = E(
            "tt:Network",
            E("tt:IPFilter", "false"),
            E("tt:ZeroConfiguration", "false"),
            E("tt:IPVersion6", "false"),
            E("tt:DynDNS", "false"),
        )
        system = E(
            "tt:System",
            *(
                E(f"tt:{name}", "false")
                for name in (
                    "DiscoveryResolve",
                    "DiscoveryBye",
                    "RemoteDiscovery",
                    "SystemBackup",
                    "SystemLogging",
                    "FirmwareUpgrade",
                )
            ),
            _version("tt:SupportedVersions"),
        )
        security = E(
            "tt:Security",
            *(
                E(f"tt:{name}", "false")
                for name in (
                    "TLS1.1",
                    "TLS1.2",
                    "OnboardKeyGeneration",
                    "AccessPolicyConfig",
                    "X.509Token",
                    "SAMLToken",
                    "KerberosToken",
                    "RELToken",
                )
            ),
        )
        return E("tt:Device", E("tt:XAddr", self.address(SERVICE_PATH)), network, system, security)

    def _events_capabilities(self) -> Element:
        return E(
            "tt:Events",
            E("tt:XAddr", self.address(SERVICE_PATH)),
            E("tt:WSSubscriptionPolicySupport", "false"),
            E("tt:WSPullPointSupport", "true"),
            E("tt:WSPausableSubscriptionManagerInterfaceSupport", "false"),
        )

    def _media_capabilities(self) -> Element:
        return E(
            "tt:Media",
            E("tt:XAddr", self.address(SERVICE_PATH)),
            E(
                "tt:StreamingCapabilities",
                E("tt:RTPMulticast", "false"),
                E("tt:RTP_TCP", "true"),
                E("tt:RTP_RTSP_TCP", "true"),
            ),
        )

    async def get_services(self, call: Call) -> Element:
        include_capability = call.text("tds:IncludeCapability") == "true"
        services: list[tuple[str, str, Callable[[], Element]]] = [
            (NS["tds"], SERVICE_PATH, self._device_service_capabilities),
            (NS["trt"], SERVICE_PATH, self._media_service_capabilities),
            (NS["tev"], SERVICE_PATH, self._events_service_capabilities),
        ]
        if self.device.has_motor:
            services.append((NS["tptz"], SERVICE_PATH, self._ptz_service_capabilities))
        return E(
            "tds:GetServicesResponse",
            *(
                E(
                    "tds:Service",
                    E("tds:Namespace", namespace),
                    E("tds:XAddr", self.address(path)),
                    E("tds:Capabilities", capabilities()) if include_capability else None,
                    _version("tds:Version"),
                )
                for namespace, path, capabilities in services
            ),
        )

    async def get_device_service_capabilities(self, _: Call) -> Element:
        return E("tds:GetServiceCapabilitiesResponse", self._device_service_capabilities())

    def _device_service_capabilities(self) -> Element:
        return E(
            "tds:Capabilities",
            E("tds:Network", IPFilter="false", ZeroConfiguration="false", IPVersion6="false", DynDNS="false"),
            E("tds:Security", UsernameToken="true", HttpDigest="false"),
            E("tds:System", DiscoveryResolve="false", DiscoveryBye="false", FirmwareUpgrade="false"),
        )

    async def get_network_interfaces(self, _: Call) -> Element:
        mac = self.device.mac.replace("-", ":").lower()
        return E(
            "tds:GetNetworkInterfacesResponse",
            E(
                "tds:NetworkInterfaces",
                E("tt:Enabled", "true"),
                E("tt:Info", E("tt:Name", NETWORK_INTERFACE), E("tt:HwAddress", mac), E("tt:MTU", "1500")),
                E(
                    "tt:IPv4",
                    E("tt:Enabled", "true"),
                    E(
                        "tt:Config",
                        E(
                            "tt:FromDHCP",
                            E("tt:Address", self.device.config.host),
                            E("tt:PrefixLength", "24"),
                        ),
                        E("tt:DHCP", "true"),
                    ),
                ),
                token=NETWORK_INTERFACE,
            ),
        )

    async def get_scopes(self, _: Call) -> Element:
        model = self.device.config.model
        items = [
            "onvif://www.onvif.org/type/NetworkVideoTransmitter",
            "onvif://www.onvif.org/Profile/Streaming",
            f"onvif://www.onvif.org/name/{model}",
            f"onvif://www.onvif.org/hardware/{model}",
        ]
        return E(
            "tds:GetScopesResponse",
            *(E("tds:Scopes", E("tt:ScopeDef", "Fixed"), E("tt:ScopeItem", item)) for item in items),
        )

    async def get_hostname(self, _: Call) -> Element:
        return E(
            "tds:GetHostnameResponse",
            E("tds:HostnameInformation", E("tt:FromDHCP", "false"), E("tt:Name", self.device.config.model)),
        )

    # --- media service ----------------------------------------------------------------------

    def profiles(self) -> tuple[StreamProfile, ...]:
        width, height = self.device.config.width, self.device.config.height
        return (
            StreamProfile("profile_1", "mainStream", "main", "/stream1", width, height, 1024),
            StreamProfile("profile_2", "minorStream", "minor", "/stream2", width // 2, height // 2, 256),
        )

    def profile(self, token: str | None) -> StreamProfile:
        for profile in self.profiles():
            if profile.token == token:
                return profile
        raise SoapFault.invalid_argument("No such profile", "ter:NoProfile")

    async def get_media_service_capabilities(self, _: Call) -> Element:
        return E("trt:GetServiceCapabilitiesResponse", self._media_service_capabilities())

    def _media_service_capabilities(self) -> Element:
        return E(
            "trt:Capabilities",
            E("trt:ProfileCapabilities", MaximumNumberOfProfiles=str(len(self.profiles()))),
            E("trt:StreamingCapabilities", RTPMulticast="false", RTP_TCP="true", RTP_RTSP_TCP="true"),
            SnapshotUri="false",
            Rotation="false",
            VideoSourceMode="false",
            OSD="false",
        )

    async def get_profiles(self, _: Call) -> Element:
        return E("trt:GetProfilesResponse", *(self._profile_xml("trt:Profiles", p) for p in self.profiles()))

    async def get_profile(self, call: Call) -> Element:
        profile = self.profile(call.text("trt:ProfileToken"))
        return E("trt:GetProfileResponse", self._profile_xml("trt:Profile", profile))

    def _profile_xml(self, tag: str, profile: StreamProfile) -> Element:
        return E(
            tag,
            E("tt:Name", profile.name),
            self._video_source_configuration(),
            self._video_encoder_configuration(profile),
            self._ptz_configuration() if self.device.has_motor else None,
            token=profile.token,
            fixed="true",
        )

    def _video_source_configuration(self) -> Element:
        config = self.device.config
        return E(
            "tt:VideoSourceConfiguration",
            E("tt:Name", "VideoSourceConfig"),
            E("tt:UseCount", str(len(self.profiles()))),
            E("tt:SourceToken", VIDEO_SOURCE),
            E("tt:Bounds", x="0", y="0", width=str(config.width), height=str(config.height)),
            token=VIDEO_SOURCE_CONFIG,
        )

    def _video_encoder_configuration(self, profile: StreamProfile) -> Element:
        fps = self.device.config.fps
        return E(
            "tt:VideoEncoderConfiguration",
            E("tt:Name", profile.encoder),
            E("tt:UseCount", "1"),
            E("tt:Encoding", "H264"),
            E("tt:Resolution", E("tt:Width", str(profile.width)), E("tt:Height", str(profile.height))),
            E("tt:Quality", "3"),
            E(
                "tt:RateControl",
                E("tt:FrameRateLimit", str(fps)),
                E("tt:EncodingInterval", "1"),
                E("tt:BitrateLimit", str(profile.bitrate)),
            ),
            E(
                "tt:H264",
                E("tt:GovLength", str(round(self.device.config.gop * fps))),
                E("tt:H264Profile", "Main"),
            ),
            E(
                "tt:Multicast",
                E("tt:Address", E("tt:Type", "IPv4"), E("tt:IPv4Address", "0.0.0.0")),
                E("tt:Port", "0"),
                E("tt:TTL", "0"),
                E("tt:AutoStart", "false"),
            ),
            E("tt:SessionTimeout", "PT60S"),
            token=profile.encoder,
        )

    async def get_video_sources(self, _: Call) -> Element:
        config = self.device.config
        return E(
            "trt:GetVideoSourcesResponse",
            E(
                "trt:VideoSources",
                E("tt:Framerate", str(config.fps)),
                E("tt:Resolution", E("tt:Width", str(config.width)), E("tt:Height", str(config.height))),
                token=VIDEO_SOURCE,
            ),
        )

    async def get_stream_uri(self, call: Call) -> Element:
        profile = self.profile(call.text("trt:ProfileToken"))
        self.device.counters.get_stream_uri += 1
        uri = f"rtsp://{self.device.config.host}:{self.rtsp_port}{profile.path}"
        return E(
            "trt:GetStreamUriResponse",
            E(
                "trt:MediaUri",
                E("tt:Uri", uri),
                E("tt:InvalidAfterConnect", "false"),
                E("tt:InvalidAfterReboot", "false"),
                E("tt:Timeout", "PT0S"),
            ),
        )

    # --- PTZ service ------------------------------------------------------------------------

    async def get_ptz_service_capabilities(self, _: Call) -> Element:
        return E("tptz:GetServiceCapabilitiesResponse", self._ptz_service_capabilities())

    def _ptz_service_capabilities(self) -> Element:
        return E("tptz:Capabilities", EFlip="false", Reverse="false", GetCompatibleConfigurations="false")

    def _ptz_configuration(self, tag: str = "tt:PTZConfiguration") -> Element:
        return E(
            tag,
            E("tt:Name", "PTZConfiguration"),
            E("tt:UseCount", str(len(self.profiles()))),
            E("tt:NodeToken", PTZ_NODE),
            E("tt:DefaultAbsolutePantTiltPositionSpace", PAN_TILT_POSITION_SPACE),
            E("tt:DefaultRelativePanTiltTranslationSpace", PAN_TILT_TRANSLATION_SPACE),
            E("tt:DefaultContinuousPanTiltVelocitySpace", PAN_TILT_VELOCITY_SPACE),
            E("tt:DefaultPTZSpeed", E("tt:PanTilt", x="1", y="1", space=PAN_TILT_SPEED_SPACE)),
            E("tt:DefaultPTZTimeout", f"PT{DEFAULT_MOVE_TIMEOUT:g}S"),
            token=PTZ_CONFIG,
        )

    def _ptz_spaces(self, tag: str) -> Element:
        def space(space_tag: str, uri: str) -> Element:
            return E(space_tag, E("tt:URI", uri), _range("tt:XRange", -1, 1), _range("tt:YRange", -1, 1))

        return E(
            tag,
            space("tt:AbsolutePanTiltPositionSpace", PAN_TILT_POSITION_SPACE),
            space("tt:RelativePanTiltTranslationSpace", PAN_TILT_TRANSLATION_SPACE),
            space("tt:ContinuousPanTiltVelocitySpace", PAN_TILT_VELOCITY_SPACE),
            E("tt:PanTiltSpeedSpace", E("tt:URI", PAN_TILT_SPEED_SPACE), _range("tt:XRange", 0, 1)),
        )

    def _ptz_node(self, tag: str) -> Element:
        return E(
            tag,
            E("tt:Name", "PTZ"),
            self._ptz_spaces("tt:SupportedPTZSpaces"),
            E("tt:MaximumNumberOfPresets", str(MAX_PRESETS)),
            E("tt:HomeSupported", "true"),
            token=PTZ_NODE,
            FixedHomePosition="true",
        )

    def _require_ptz_token(self, call: Call, path: str, expected: str, subcode: str) -> None:
        if call.text(path) != expected:
            raise SoapFault.invalid_argument("No such token", subcode)

    async def get_nodes(self, _: Call) -> Element:
        return E("tptz:GetNodesResponse", self._ptz_node("tptz:PTZNode"))

    async def get_node(self, call: Call) -> Element:
        self._require_ptz_token(call, "tptz:NodeToken", PTZ_NODE, "ter:NoEntity")
        return E("tptz:GetNodeResponse", self._ptz_node("tptz:PTZNode"))

    async def get_ptz_configurations(self, _: Call) -> Element:
        return E("tptz:GetConfigurationsResponse", self._ptz_configuration("tptz:PTZConfiguration"))

    async def get_ptz_configuration(self, call: Call) -> Element:
        self._require_ptz_token(call, "tptz:PTZConfigurationToken", PTZ_CONFIG, "ter:NoConfig")
        return E("tptz:GetConfigurationResponse", self._ptz_configuration("tptz:PTZConfiguration"))

    async def get_ptz_configuration_options(self, call: Call) -> Element:
        self._require_ptz_token(call, "tptz:ConfigurationToken", PTZ_CONFIG, "ter:NoConfig")
        return E(
            "tptz:GetConfigurationOptionsResponse",
            E(
                "tptz:PTZConfigurationOptions",
                self._ptz_spaces("tt:Spaces"),
                E("tt:PTZTimeout", E("tt:Min", "PT1S"), E("tt:Max", "PT60S")),
            ),
        )

    async def get_status(self, call: Call) -> Element:
        self.profile(call.text("tptz:ProfileToken"))
        state = "MOVING" if self.motor.moving else "IDLE"
        return E(
            "tptz:GetStatusResponse",
            E(
                "tptz:PTZStatus",
                E("tt:Position", E("tt:PanTilt", **self._position())),
                E("tt:MoveStatus", E("tt:PanTilt", state)),
                E("tt:UtcTime", _xml_time(_utcnow())),
            ),
        )

    def _position(self) -> dict[str, str]:
        return {
            "x": _number(_to_generic(self.device.pan, PAN_RANGE)),
            "y": _number(_to_generic(self.device.tilt, TILT_RANGE)),
            "space": PAN_TILT_POSITION_SPACE,
        }

    async def continuous_move(self, call: Call) -> Element:
        self.profile(call.text("tptz:ProfileToken"))
        velocity = call.vector("tptz:Velocity/tt:PanTilt") or (0.0, 0.0)
        timeout_text = call.text("tptz:Timeout")
        timeout = parse_duration(timeout_text) if timeout_text else DEFAULT_MOVE_TIMEOUT
        clamped = (max(-1.0, min(1.0, velocity[0])), max(-1.0, min(1.0, velocity[1])))
        if clamped == (0.0, 0.0):
            self.motor.stop()
        else:
            self.motor.start(clamped, min(timeout, 60.0))
        return E("tptz:ContinuousMoveResponse")

    async def relative_move(self, call: Call) -> Element:
        self.profile(call.text("tptz:ProfileToken"))
        x, y = call.vector("tptz:Translation/tt:PanTilt") or (0.0, 0.0)
        self.motor.stop()
        self.device.move_by(_from_generic(x, PAN_RANGE), _from_generic(y, TILT_RANGE))
        return E("tptz:RelativeMoveResponse")

    async def absolute_move(self, call: Call) -> Element:
        self.profile(call.text("tptz:ProfileToken"))
        position = call.vector("tptz:Position/tt:PanTilt")
        if position is None:
            raise SoapFault.invalid_argument("Position/PanTilt is required")
        x, y = position
        self.motor.stop()
        self.device.move_to(_from_generic(x, PAN_RANGE), _from_generic(y, TILT_RANGE))
        return E("tptz:AbsoluteMoveResponse")

    async def stop(self, call: Call) -> Element:
        self.profile(call.text("tptz:ProfileToken"))
        if call.text("tptz:PanTilt") != "false":
            self.motor.stop()
        return E("tptz:StopResponse")

    async def get_presets(self, call: Call) -> Element:
        self.profile(call.text("tptz:ProfileToken"))
        return E(
            "tptz:GetPresetsResponse",
            *(
                E("tptz:Preset", E("tt:Name", name), token=token)
                for token, name in sorted(self.device.presets.items(), key=lambda item: int(item[0]))
            ),
        )

    async def set_preset(self, call: Call) -> Element:
        self.profile(call.text("tptz:ProfileToken"))
        if call.text("tptz:PresetToken"):
            raise SoapFault.invalid_argument("Overwriting a preset is not supported", "ter:NoToken")
        if len(self.device.presets) >= MAX_PRESETS:
            raise SoapFault("Receiver", ("ter:Action", "ter:TooManyPresets"), "Too many presets")
        name = call.text("tptz:PresetName") or f"Preset {len(self.device.presets) + 1}"
        if name in self.device.presets.values():
            raise SoapFault.invalid_argument("Preset name already exists", "ter:PresetExist")
        self.motor.stop()
        return E("tptz:SetPresetResponse", E("tptz:PresetToken", self.device.save_preset(name)))

    async def goto_preset(self, call: Call) -> Element:
        self.profile(call.text("tptz:ProfileToken"))
        self.motor.stop()
        if not self.device.goto_preset(call.text("tptz:PresetToken") or ""):
            raise SoapFault.invalid_argument("No such preset", "ter:NoToken")
        return E("tptz:GotoPresetResponse")

    async def remove_preset(self, call: Call) -> Element:
        self.profile(call.text("tptz:ProfileToken"))
        if not self.device.delete_preset(call.text("tptz:PresetToken") or ""):
            raise SoapFault.invalid_argument("No such preset", "ter:NoToken")
        return E("tptz:RemovePresetResponse")

    async def goto_home_position(self, call: Call) -> Element:
        self.profile(call.text("tptz:ProfileToken"))
        self.motor.stop()
        self.device.move_to(0, 0)
        return E("tptz:GotoHomePositionResponse")

    # --- event service ----------------------------------------------------------------------

    async def get_events_service_capabilities(self, _: Call) -> Element:
        return E("tev:GetServiceCapabilitiesResponse", self._events_service_capabilities())

    def _events_service_capabilities(self) -> Element:
        return E(
            "tev:Capabilities",
            WSSubscriptionPolicySupport="false",
            WSPullPointSupport="true",
            WSPausableSubscriptionManagerInterfaceSupport="false",
            MaxNotificationProducers="0",
            MaxPullPoints="2",
            PersistentNotificationStorage="false",
        )

    async def get_event_properties(self, _: Call) -> Element:
        return E(
            "tev:GetEventPropertiesResponse",
            E("tev:TopicNamespaceLocation", "http://www.onvif.org/onvif/ver10/topics/topicns.xml"),
            E("wsnt:FixedTopicSet", "true"),
            motion_topic_set(),
            E("wsnt:TopicExpressionDialect", "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"),
            E("wsnt:TopicExpressionDialect", "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete"),
            E(
                "tev:MessageContentFilterDialect",
                "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter",
            ),
            E("tev:MessageContentSchemaLocation", "http://www.onvif.org/onvif/ver10/schema/onvif.xsd"),
        )

    async def create_pull_point_subscription(self, call: Call) -> Element:
        now = _utcnow()
        lifetime = parse_termination_time(call.text("tev:InitialTerminationTime"), now)
        pullpoint = PullPoint(f"{next(self._pullpoint_ids)}_{self.port}", now)
        self._extend(pullpoint, now, lifetime)
        self.pullpoints[pullpoint.id] = pullpoint
        self.device.counters.pullpoints_open = len(self.pullpoints)
        pullpoint.push(MotionMessage(now, self._motion, "Initialized"))
        return E(
            "tev:CreatePullPointSubscriptionResponse",
            E("tev:SubscriptionReference", E("wsa:Address", self.address(f"/event-{pullpoint.id}"))),
            E("wsnt:CurrentTime", _xml_time(now)),
            E("wsnt:TerminationTime", _xml_time(pullpoint.terminates_at)),
        )

    async def pull_messages(self, call: Call) -> Element:
        pullpoint = self._pullpoint(call)
        timeout = parse_duration(call.text("tev:Timeout") or "PT0S")
        limit = call.integer("tev:MessageLimit", default=1)
        if not pullpoint.messages:
            # Long poll: answer as soon as a message arrives, at the latest after the timeout.
            wait = min(timeout, MAX_PULL_TIMEOUT, pullpoint.seconds_left(_utcnow()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await pullpoint.arrived.wait()
        messages = pullpoint.take(max(limit, 1))
        return E(
            "tev:PullMessagesResponse",
            E("tev:CurrentTime", _xml_time(_utcnow())),
            E("tev:TerminationTime", _xml_time(pullpoint.terminates_at)),
            *(motion_notification(message) for message in messages),
        )

    async def set_synchronization_point(self, call: Call) -> Element:
        self._pullpoint(call).push(MotionMessage(_utcnow(), self._motion, "Initialized"))
        return E("tev:SetSynchronizationPointResponse")

    async def renew(self, call: Call) -> Element:
        pullpoint = self._pullpoint(call)
        now = _utcnow()
        self._extend(pullpoint, now, parse_termination_time(call.text("wsnt:TerminationTime"), now))
        return E(
            "wsnt:RenewResponse",
            E("wsnt:TerminationTime", _xml_time(pullpoint.terminates_at)),
            E("wsnt:CurrentTime", _xml_time(now)),
        )

    async def unsubscribe(self, call: Call) -> Element:
        self._drop_pullpoint(self._pullpoint(call).id)
        return E("wsnt:UnsubscribeResponse")

    def _pullpoint(self, call: Call) -> PullPoint:
        pullpoint = self.pullpoints.get(call.subscription_id or "")
        if pullpoint is None:
            raise SoapFault.invalid_argument("No such subscription")
        return pullpoint

    def _extend(self, pullpoint: PullPoint, now: dt.datetime, seconds: float) -> None:
        if seconds <= 0:
            raise SoapFault.invalid_argument("Termination time is in the past")
        pullpoint.terminates_at = now + dt.timedelta(seconds=seconds)
        if pullpoint.expiry is not None:
            pullpoint.expiry.cancel()
        pullpoint.expiry = asyncio.get_running_loop().call_later(seconds, self._drop_pullpoint, pullpoint.id)

    def _drop_pullpoint(self, pullpoint_id: str) -> None:
        pullpoint = self.pullpoints.pop(pullpoint_id, None)
        if pullpoint is None:
            return
        self.device.counters.pullpoints_open = len(self.pullpoints)
        if pullpoint.expiry is not None:
            pullpoint.expiry.cancel()
        # Wake a pending long poll so it answers (empty) instead of holding the connection.
        pullpoint.arrived.set()

    def _on_motion(self, active: bool) -> None:
        self._motion = active
        message = MotionMessage(_utcnow(), active, "Changed")
        for pullpoint in self.pullpoints.values():
            pullpoint.push(message)


def _range(tag: str, low: float, high: float) -> Element:
    return E(tag, E("tt:Min", _number(low)), E("tt:Max", _number(high)))


def _version(tag: str) -> Element:
    return E(tag, E("tt:Major", str(ONVIF_VERSION[0])), E("tt:Minor", str(ONVIF_VERSION[1])))


def _date_time(tag: str, moment: dt.datetime) -> Element:
    return E(
        tag,
        E(
            "tt:Time",
            E("tt:Hour", str(moment.hour)),
            E("tt:Minute", str(moment.minute)),
            E("tt:Second", str(moment.second)),
        ),
        E(
            "tt:Date",
            E("tt:Year", str(moment.year)),
            E("tt:Month", str(moment.month)),
            E("tt:Day", str(moment.day)),
        ),
    )


# --- listener -----------------------------------------------------------------------------------


@dataclass
class OnvifListener:
    server: OnvifServer
    http: AiohttpListener
    port: int

    async def stop(self) -> None:
        # Subscriptions first: their long polls must answer before aiohttp waits for open requests.
        await self.server.close()
        await self.http.stop()


async def start(device: TapoDevice, host: str, port: int, *, rtsp_port: int = 554) -> OnvifListener:
    """Serve the camera's ONVIF services on `host:port` (0 = any free port)."""
    from .servers import AiohttpListener  # noqa: PLC0415 - servers imports this module

    server = OnvifServer(device, rtsp_port)
    try:
        http = await AiohttpListener.start(server.app(), host, port)
    except BaseException:
        await server.close()
        raise
    server.port = http.port
    return OnvifListener(server, http, http.port)
