"""The integration passes the hassfest and HACS rules of tests/release/hassfest_rules.py, and each rule
refuses a file that breaks it (so a green run means the rule looked, not that it was blind).
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from PIL import Image

from custom_components.camera_hub.const import DOMAIN
from scripts.lib.hass import ROOT
from tests.release import hassfest_rules as rules

INTEGRATION = ROOT / "custom_components" / DOMAIN


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((INTEGRATION / "manifest.json").read_text())
    return loaded


def english() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((INTEGRATION / "translations" / "en.json").read_text())
    return loaded


def services_yaml() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    return loaded


def icons() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((INTEGRATION / "icons.json").read_text())
    return loaded


def test_the_integration_passes_every_rule() -> None:
    found = {
        "manifest": rules.manifest_problems(manifest(), INTEGRATION.name),
        "requirements": rules.requirements_problems(manifest()),
        "config_schema": rules.config_schema_problems((INTEGRATION / "__init__.py").read_text()),
        "dependencies": rules.dependency_problems(INTEGRATION, manifest()),
        "json": rules.json_problems(INTEGRATION),
        "strings.json": rules.strings_problems(json.loads((INTEGRATION / "strings.json").read_text())),
        "en.json": rules.strings_problems(english()),
        "en.json vs strings.json": rules.english_problems(
            (INTEGRATION / "strings.json").read_text(), (INTEGRATION / "translations" / "en.json").read_text()
        ),
        "services.yaml": rules.services_problems(services_yaml(), english()),
        "icons.json": rules.icons_problems(icons(), services_yaml()),
        "brand": rules.brand_problems(INTEGRATION / "brand"),
        "hacs.json": rules.hacs_problems(json.loads((ROOT / "hacs.json").read_text()), ROOT),
    }
    assert found == {name: [] for name in found}


def _moved_to_end(key: str) -> Callable[[dict[str, Any]], None]:
    def move(m: dict[str, Any]) -> None:
        m[key] = m.pop(key)

    return move


MANIFEST_BREAKS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "unsorted keys": (_moved_to_end("config_flow"), "not sorted"),
    "name after the others": (_moved_to_end("name"), "not sorted"),
    "no version": (lambda m: m.pop("version"), "missing required key 'version'"),
    "no issue tracker": (lambda m: m.pop("issue_tracker"), "missing required key 'issue_tracker'"),
    "unknown key": (lambda m: m.update(zversion="1"), "unknown key 'zversion'"),
    "bad version": (lambda m: m.update(version="one"), "not a valid version"),
    "http docs": (lambda m: m.update(documentation="http://example.com"), "https URL"),
    "bad iot_class": (lambda m: m.update(iot_class="local"), "iot_class"),
    "bad owner": (lambda m: m.update(codeowners=["camera-hub"]), "@handles"),
    "core domain": (lambda m: m.update(domain="camera"), "collides with a built-in"),
    "wrong type": (lambda m: m.update(config_flow="yes"), "'config_flow' must be a bool"),
    "lower-case MAC": (lambda m: m["dhcp"].append({"macaddress": "3c52a1*"}), "upper case"),
    "MAC without wildcard": (lambda m: m["dhcp"].append({"macaddress": "3C52A1"}), "wildcard"),
    "upper-case host": (lambda m: m["dhcp"].append({"hostname": "Tapo*"}), "lower case"),
    "unknown dependency": (
        lambda m: m["dependencies"].append("no_such_thing"),
        "no Home Assistant integration",
    ),
    "dependency twice": (lambda m: m.update(after_dependencies=["http"]), "also an after_dependency"),
}


@pytest.mark.parametrize("name", MANIFEST_BREAKS)
def test_manifest_rule_refuses(name: str) -> None:
    change, expected = MANIFEST_BREAKS[name]
    broken = manifest()
    change(broken)
    problems = rules.manifest_problems(broken, INTEGRATION.name)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("pytapo == 3.4.30", "contains a space"),
        (">=1.0", "does not match hassfest's package pattern"),
        ("pytapo==three", "cannot parse the version 'three'"),
        ("python-kasa>=0.11,<zero", "cannot parse the version 'zero'"),
        ("pytapo>=", "not a PEP 508 requirement"),
        (3, "is not a string"),
    ],
)
def test_requirements_rule_refuses(requirement: Any, expected: str) -> None:
    broken = manifest()
    broken["requirements"] = [*broken["requirements"], requirement]
    problems = rules.requirements_problems(broken)
    assert problems
    assert all(repr(requirement) in problem for problem in problems), problems
    assert any(expected in problem for problem in problems), problems


def test_requirements_rule_admits_ranges_and_markers() -> None:
    admitted = [
        "python-kasa>=0.11.0.1,<0.13",
        "ring-doorbell[listen]==0.9.14",
        "aiortc==1.16.0;python_version>'3'",
    ]
    assert rules.requirements_problems({"requirements": admitted}) == []


def _without_line(source: str, starts: str) -> str:
    lines = source.splitlines()
    assert any(line.startswith(starts) for line in lines), starts
    return "\n".join(line for line in lines if not line.startswith(starts))


def test_config_schema_rule_refuses_setup_without_a_schema() -> None:
    source = (INTEGRATION / "__init__.py").read_text()
    without = _without_line(source, "CONFIG_SCHEMA = ")
    (problem,) = rules.config_schema_problems(without)
    assert "defines async_setup or setup but no CONFIG_SCHEMA" in problem
    # Imported under that name, a platform schema, or no async_setup at all: accepted, as hassfest does.
    imported = f"{without}\nfrom homeassistant.helpers.config_validation import x as CONFIG_SCHEMA\n"
    assert rules.config_schema_problems(imported) == []
    assert rules.config_schema_problems(f"{without}\nPLATFORM_SCHEMA: object = None\n") == []
    no_setup = without.replace("async def async_setup(", "async def async_setup_later(")
    assert rules.config_schema_problems(no_setup) == []
    assert rules.config_schema_problems(f"{without}\ndef setup(hass, config):\n    return True\n") != []


def test_an_import_of_an_undeclared_integration_is_refused(tmp_path: Path) -> None:
    integration = tmp_path / DOMAIN
    integration.mkdir()
    (integration / "helpers.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from homeassistant.components import zeroconf\n"
        "from homeassistant.components.http.auth import async_sign_path\n"
        "import homeassistant.components.sensor\n"
        "if TYPE_CHECKING:\n"
        "    from homeassistant.components.recorder import Recorder\n"
    )
    problems = rules.dependency_problems(integration, {"domain": DOMAIN, "dependencies": []})
    assert problems == ["helpers.py uses 'zeroconf', which is not in dependencies or after_dependencies"]
    assert (
        rules.dependency_problems(integration, {"domain": DOMAIN, "after_dependencies": ["zeroconf"]}) == []
    )


def test_a_file_that_is_no_json_object_is_refused(tmp_path: Path) -> None:
    (tmp_path / "icons.json").write_text("{")
    (tmp_path / "manifest.json").write_text("[]")
    assert len(rules.json_problems(tmp_path)) == 2


STRINGS_BREAKS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "HTML": (lambda s: s["services"]["ptz_stop"].update(name="<b>Stop</b>"), "services.ptz_stop.name"),
    "trailing space": (lambda s: s["services"]["ptz_stop"].update(name="Stop "), "leading or trailing"),
    "quoted placeholder": (
        lambda s: s["issues"]["control_refused"].update(title="'{name}' refused"),
        "quotes",
    ),
    "combined reference": (
        lambda s: s["services"]["ptz_stop"].update(name="Stop [%key:common::x%]"),
        "combines",
    ),
    "entity key": (lambda s: s["entity"].setdefault("switch", {}).update({"Bad_": {"name": "x"}}), "'Bad_'"),
    "unknown section": (lambda s: s.update(servicez={}), "unknown section 'servicez'"),
    "issue with both": (
        lambda s: s["issues"]["control_refused"].update(description="x"),
        "exactly one of description and fix_flow",
    ),
    "described field not in data": (
        lambda s: (
            next(iter(s["config"]["step"].values())).setdefault("data_description", {}).update(ghost="x")
        ),
        "describes a field not in data",
    ),
    "service without description": (
        lambda s: s["services"]["ptz_stop"].pop("description"),
        "has no description",
    ),
}


@pytest.mark.parametrize("name", STRINGS_BREAKS)
def test_strings_rule_refuses(name: str) -> None:
    change, expected = STRINGS_BREAKS[name]
    broken = english()
    change(broken)
    problems = rules.strings_problems(broken)
    assert any(expected in problem for problem in problems), problems


def test_english_must_be_resolved_and_equal_strings() -> None:
    strings = (INTEGRATION / "strings.json").read_text()
    changed = english()
    changed["services"]["ptz_stop"]["name"] = "[%key:common::action::stop%]"
    problems = rules.english_problems(strings, json.dumps(changed))
    assert problems == [
        "translations/en.json has an unresolved [%key:…%] reference",
        "translations/en.json differs from strings.json",
    ]


SERVICES_BREAKS: dict[str, tuple[Callable[[dict[str, Any], dict[str, Any]], None], str]] = {
    "unknown service key": (lambda y, e: y["ptz_stop"].update(icon="mdi:stop"), "unknown key 'icon'"),
    "unknown field key": (lambda y, e: y["ptz_move"]["fields"]["step"].update(min=1), "unknown key 'min'"),
    "bad selector": (
        lambda y, e: y["ptz_move"]["fields"]["step"].update(selector={"nope": {}}),
        "invalid selector",
    ),
    "bad target": (lambda y, e: y["ptz_stop"].update(target={"entity": {"colour": "red"}}), "invalid target"),
    "not a slug": (lambda y, e: y.update({"Go-Home": None}), "not a slug"),
    "untranslated action": (lambda y, e: e["services"].pop("ptz_home"), "ptz_home has no name"),
    "untranslated field": (
        lambda y, e: e["services"]["ptz_move"]["fields"].pop("step"),
        "field step with no name",
    ),
    "field twice": (
        lambda y, e: y["ptz_move"]["fields"].update(more={"fields": {"step": {"selector": {"text": None}}}}),
        "uses field 'step' twice",
    ),
    "untranslated selector": (
        lambda y, e: y["ptz_move"]["fields"]["direction"]["selector"]["select"].update(translation_key="dir"),
        "translation key 'dir'",
    ),
}


@pytest.mark.parametrize("name", SERVICES_BREAKS)
def test_services_rule_refuses(name: str) -> None:
    change, expected = SERVICES_BREAKS[name]
    broken_yaml, broken_english = copy.deepcopy(services_yaml()), english()
    change(broken_yaml, broken_english)
    problems = rules.services_problems(broken_yaml, broken_english)
    assert any(expected in problem for problem in problems), problems


ICONS_BREAKS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "not mdi": (
        lambda i: i["entity"]["switch"]["privacy"].update(default="fa:eye"),
        "not a Material Design icon",
    ),
    "state repeats default": (
        lambda i: i["entity"]["switch"]["privacy"]["state"].update(off="mdi:eye"),
        "repeats the default icon",
    ),
    "unknown entity key": (
        lambda i: i["entity"]["switch"]["privacy"].update(color="red"),
        "unknown key 'color'",
    ),
    "bad translation key": (
        lambda i: i["entity"]["switch"].update({"Privacy": {"default": "mdi:eye"}}),
        "'Privacy'",
    ),
    "icon for no action": (lambda i: i["services"].update(fly={"service": "mdi:airplane"}), "'fly'"),
    "action without icon": (lambda i: i["services"].pop("ptz_stop"), "'ptz_stop' has no icon"),
    "unknown section": (lambda i: i.update(entities={}), "unknown section 'entities'"),
}


@pytest.mark.parametrize("name", ICONS_BREAKS)
def test_icons_rule_refuses(name: str) -> None:
    change, expected = ICONS_BREAKS[name]
    broken = icons()
    change(broken)
    problems = rules.icons_problems(broken, services_yaml())
    assert any(expected in problem for problem in problems), problems


@pytest.mark.usefixtures("enable_custom_integrations")
async def test_registered_actions_are_exactly_those_in_services_yaml(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    registered = set(hass.services.async_services_for_domain(DOMAIN))
    assert registered == set(services_yaml())


def _png(path: Path, size: tuple[int, int], image_format: str = "PNG") -> None:
    Image.new("RGBA" if image_format == "PNG" else "RGB", size).save(path, image_format)


@pytest.mark.parametrize(
    ("file", "size", "image_format", "expected"),
    [
        ("icon.png", (255, 256), "PNG", "icon.png is 255×256, not 256×256"),
        ("icon@2x.png", (256, 256), "PNG", "not 512×512"),
        ("logo.png", (675, 100), "PNG", "shortest side is 100, not 128–256"),
        ("logo@2x.png", (1343, 600), "PNG", "shortest side is 600, not 256–512"),
        ("dark_icon.png", (256, 256), "JPEG", "is JPEG, not PNG"),
        ("banner.png", (256, 256), "PNG", "not an image HA serves"),
    ],
)
def test_brand_rule_refuses(
    tmp_path: Path, file: str, size: tuple[int, int], image_format: str, expected: str
) -> None:
    brand = tmp_path / "brand"
    shutil.copytree(INTEGRATION / "brand", brand)
    _png(brand / file, size, image_format)
    problems = rules.brand_problems(brand)
    assert any(expected in problem for problem in problems), problems


def test_brand_rule_wants_an_icon(tmp_path: Path) -> None:
    brand = tmp_path / "brand"
    shutil.copytree(INTEGRATION / "brand", brand)
    (brand / "icon.png").unlink()
    assert "brand/icon.png is missing" in rules.brand_problems(brand)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"zip": True}, "unknown key 'zip'"),
        ({"filename": None}, "zip_release needs a filename"),
        ({"render_readme": "yes"}, "'render_readme' has the wrong type"),
        ({"homeassistant": "2099.1.0"}, "newer than"),
        ({"name": None}, "hacs.json has no name"),
    ],
)
def test_hacs_rule_refuses(change: dict[str, Any], expected: str) -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    hacs.update(change)
    hacs = {key: value for key, value in hacs.items() if value is not None}
    problems = rules.hacs_problems(hacs, ROOT)
    assert any(expected in problem for problem in problems), problems


def test_hacs_wants_one_integration(tmp_path: Path) -> None:
    for domain in ("camera_hub", "other"):
        (tmp_path / "custom_components" / domain).mkdir(parents=True)
    (tmp_path / "README.md").write_text("# x\n")
    problems = rules.hacs_problems({"name": "Camera Hub"}, tmp_path)
    assert problems == ["HACS manages one integration per repository, custom_components/ has 2"]
