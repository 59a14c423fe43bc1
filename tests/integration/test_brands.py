"""The brand registry's rules: the core never imports a brand, and every brand is complete."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from homeassistant.config_entries import ConfigFlow

from custom_components.camera_hub.config_flow import CameraHubConfigFlow
from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.vendors import BRANDS, BrandFlows

INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN
PACKAGE = f"custom_components.{DOMAIN}"
VENDORS = f"{PACKAGE}.vendors"
# Brand-neutral modules of the vendor room: the protocol, and the registry itself.
NEUTRAL = {"base", "__init__"}


def brand_modules() -> set[str]:
    vendors = INTEGRATION / "vendors"
    return {
        path.stem
        for path in vendors.iterdir()
        if path.stem not in NEUTRAL
        and not path.name.startswith(("_", "."))
        and (path.suffix == ".py" or (path / "__init__.py").exists())
    }


def core_modules() -> list[Path]:
    """Every module outside vendors/: setup, flows, coordinator, entities, platforms, streaming."""
    return sorted(
        path for path in INTEGRATION.rglob("*.py") if "vendors" not in path.relative_to(INTEGRATION).parts
    )


def imported_modules(path: Path) -> set[str]:
    """Absolute names of what `path` imports: modules, and `from X import name` as `X.name`."""
    package = ".".join((PACKAGE, *path.relative_to(INTEGRATION).parent.parts))
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
            module = ".".join([*base, node.module] if node.module else base) if node.level else node.module
            assert module is not None
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_the_import_rule_sees_brands_and_core() -> None:
    assert "tapo" in brand_modules()
    assert INTEGRATION / "__init__.py" in core_modules()
    assert INTEGRATION / "camera.py" in core_modules()
    assert f"{VENDORS}.tapo" in imported_modules(INTEGRATION / "vendors" / "__init__.py")


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(INTEGRATION)))
def test_no_core_module_imports_a_brand(path: Path) -> None:
    """Only vendors/ knows brands: the core imports the registry (`vendors`) and `vendors.base`."""
    brands = {f"{VENDORS}.{brand}" for brand in brand_modules()}
    offending = {
        module
        for module in imported_modules(path)
        if any(module == brand or module.startswith(f"{brand}.") for brand in brands)
    }
    assert not offending, f"{path.name} imports brand modules {sorted(offending)}"


def own_steps(flow: type) -> set[str]:
    """The step methods a brand's mixin adds to ConfigFlow's."""
    steps: set[str] = set()
    for cls in flow.__mro__:
        if cls is ConfigFlow or issubclass(ConfigFlow, cls):
            continue
        steps.update(name for name in vars(cls) if name.startswith("async_step_"))
    return steps


def test_brand_flows_do_not_collide() -> None:
    mixins = [
        base for base in BrandFlows.__mro__[1:] if base is not ConfigFlow and issubclass(base, ConfigFlow)
    ]
    roots = [m for m in mixins if not any(other is not m and issubclass(other, m) for other in mixins)]
    seen: dict[str, str] = {}
    for mixin in roots:
        for step in own_steps(mixin):
            assert step not in seen, f"{mixin.__name__} and {seen[step]} both define {step}"
            seen[step] = mixin.__name__


@pytest.mark.parametrize("key", list(BRANDS))
def test_every_brand_is_complete(key: str) -> None:
    """Its menu entry has a label, its steps exist on the one config flow, its spec is consistent."""
    spec = BRANDS[key]
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    assert spec.key == key
    assert key in strings["config"]["step"]["user"]["menu_options"]
    for step in (key, spec.reauth_step, spec.reconfigure_step):
        if step is not None:
            assert callable(getattr(CameraHubConfigFlow, f"async_step_{step}", None)), step
