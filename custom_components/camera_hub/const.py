"""Constants shared by the Camera Hub integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "camera_hub"

# Config-flow menu entries, one per supported vendor, in the order the menu shows them.
# A vendor appears here together with its `async_step_<vendor>` and its module in vendors/.
VENDOR_STEPS: Final[tuple[str, ...]] = ("tapo",)
