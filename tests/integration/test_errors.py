"""Every backend error reaches the user as a translated Home Assistant error, never raw text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.helpers import raise_for
from custom_components.camera_hub.vendors.base import (
    AuthFailed,
    CameraHubError,
    CommandFailed,
    LockedOut,
    NotSupported,
    Unreachable,
)

STRINGS = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN / "strings.json"


@pytest.mark.parametrize(
    ("error", "kind", "key", "placeholders"),
    [
        (NotSupported("no motor"), ServiceValidationError, "not_supported", None),
        (AuthFailed("cloud_password"), HomeAssistantError, "auth_failed", None),
        (LockedOut(125), HomeAssistantError, "locked_out", {"minutes": "2"}),
        (Unreachable("no answer"), HomeAssistantError, "unreachable", None),
        (CommandFailed("error -40210"), HomeAssistantError, "command_failed", {"error": "error -40210"}),
    ],
)
def test_backend_errors_become_translated_ha_errors(
    error: CameraHubError, kind: type[HomeAssistantError], key: str, placeholders: dict[str, str] | None
) -> None:
    with pytest.raises(kind) as caught:
        raise_for(error)
    assert type(caught.value) is kind
    assert caught.value.translation_domain == DOMAIN
    assert caught.value.translation_key == key
    assert caught.value.translation_placeholders == placeholders
    assert caught.value.__cause__ is error
    message = json.loads(STRINGS.read_text())["exceptions"][key]["message"]
    for name in placeholders or {}:
        assert f"{{{name}}}" in message
