"""Fail any test in which Home Assistant reports a deprecated call.

HA reports deprecated usage by logging, not by raising: `homeassistant.helpers.frame` logs
"Detected that custom integration … calls …", `homeassistant.helpers.deprecation` logs
"The deprecated … was used/called" on the deprecated object's module logger, and entity platforms
log "… will stop working in Home Assistant <version>" about an entity. A test passes
only if neither was logged while it ran (setup, call and teardown).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

FRAME_LOGGER = "homeassistant.helpers.frame"
DEPRECATION_PREFIXES = ("The deprecated ", "Detected that ", "Detected code that ")
# Entity-level deprecations (e.g. a doorbell event entity without the "ring" type) name the entity and
# the version, not the integration: "… This will stop working in Home Assistant 2027.4, …".
STOPS_WORKING = "stop working in Home Assistant"


class DeprecationCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if (
            record.name == FRAME_LOGGER
            or message.startswith(DEPRECATION_PREFIXES)
            or (record.name.startswith("homeassistant.") and STOPS_WORKING in message)
        ):
            self.reports.append(f"{record.name}: {message}")


@pytest.fixture(autouse=True)
def fail_on_ha_deprecations() -> Iterator[None]:
    collector = DeprecationCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield
    finally:
        root.removeHandler(collector)
    if collector.reports:
        pytest.fail(
            "Home Assistant reported deprecated usage:\n" + "\n".join(collector.reports), pytrace=False
        )
