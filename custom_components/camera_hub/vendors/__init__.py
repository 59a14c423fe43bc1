"""The brand registry: every brand Camera Hub speaks, and the one place the core learns of them.

A brand is a package in this folder (its backend, connection and config-flow steps, speaking the
protocols of base.py) plus two lines here: its `BrandSpec` in `BRANDS`, and its flow mixin among
`BrandFlows`' bases. No platform, coordinator or flow file changes for a new brand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..const import CONF_BRAND
from .base import BrandSpec
from .furbo import FURBO, FurboFlow
from .ring import RING, RingFlow
from .tapo import TAPO, TapoFlow
from .usb import USB, UsbFlow

# In the order the config flow's brand menu shows them.
BRANDS: dict[str, BrandSpec] = {spec.key: spec for spec in (TAPO, USB, RING, FURBO)}


class BrandFlows(TapoFlow, UsbFlow, RingFlow, FurboFlow):
    """Every brand's config-flow steps, composed into the one config flow (config_flow.py).

    Each brand's mixin subclasses ConfigFlow and names its steps so that they cannot collide:
    `async_step_<brand>` opens it, further steps carry the brand's prefix (Tapo's older step ids
    are kept for compatibility). tests/integration/test_brands.py checks that no two collide.
    """


def brand_of(data: Mapping[str, Any]) -> BrandSpec | None:
    """The brand of an entry's data; None for a brand this version does not know."""
    return BRANDS.get(data.get(CONF_BRAND, ""))
