"""What Home Assistant's hassfest and HACS would reject in this custom integration, found before CI does.

CI runs the real tools (`home-assistant/actions/hassfest` and `hacs/action`, .github/workflows/ci.yml);
they need GitHub, so these checks restate their rules for the local test run and for every commit before
a push. Each function returns the problems it finds as sentences (empty: accepted). Written from the
sources, not copied: Home Assistant core's script/hassfest (manifest.py, json.py, dependencies.py,
translations.py, services.py, requirements.py, config_schema.py as they validate one custom integration
with `--integration-path`), HACS's
validate.py (hacs.json and its integration manifest schema) and home-assistant/brands' image
specification, which HA 2026.3+ applies to a custom integration's own brand/ folder.

Covered:
- manifest.json: required keys (domain, name, documentation, codeowners; version, issue_tracker for
  HACS), no unknown keys, value types, https documentation and issue-tracker URLs, codeowners as
  @handles, a valid version (CalVer, SemVer, SimpleVer, BuildVer or PEP 440), domain = folder name and
  not a core integration's domain, iot_class and integration_type from the allowed sets, DHCP matchers
  (upper-case MAC with a wildcard, lower-case host name), a dependency not also an after-dependency,
  dependencies that exist in Home Assistant, and the key order (domain, name, then alphabetical).
- requirements (requirements.py's validate_requirements_format, the part hassfest runs without
  installing anything): no spaces, the package pattern, and each version part parseable (hassfest parses
  versions of core integrations only; applied here too). Beyond hassfest: each requirement parses as
  PEP 508, as HA's package installer needs.
- config_schema: an `__init__.py` with `async_setup` or `setup` assigns or imports CONFIG_SCHEMA,
  PLATFORM_SCHEMA or PLATFORM_SCHEMA_BASE at its top level (for a custom integration hassfest reports
  this as a warning, not an error).
- dependencies: every `homeassistant.components.X` the code imports (outside TYPE_CHECKING) is a
  dependency, an after-dependency, an entity platform, one of the integrations hassfest lets anyone
  import, or a platform file of this integration.
- json: every .json file in the integration parses to an object.
- strings.json and translations/en.json: only known top-level sections; every text without HTML,
  leading/trailing spaces, single-quoted placeholders or combined references; translation keys
  (entity, state, state attribute, device, selector option, service and field keys) lower-case
  [a-z0-9-_] not starting or ending with - or _; each flow step's data_description keys also in its
  data; each issue with a title and exactly one of description and fix_flow; each service with a name
  and description and each field too. en.json is what HA loads for a custom integration: it has no
  unresolved `[%key:…%]` reference and equals strings.json.
- services.yaml: action names are slugs; only the keys hassfest allows a custom integration (name,
  description, target, fields; per field example, default, required, advanced, selector, filter, name,
  description; sections); targets and selectors valid by HA's own selector schemas; no field twice
  across sections; every action, field and section named and described, inline or in en.json; a select
  selector's translation_key present. tests/release/test_hassfest_rules.py also checks that the
  actions HA registers are exactly those in services.yaml.
- icons.json: only known sections; every icon an `mdi:` name without HTML; entity icons under
  translation keys with only default/state/state_attributes/range, no state icon equal to its default;
  action icons as HA 2026.10 reads them (a string or {service, sections}). Beyond hassfest (which
  requires action icons of core integrations only): every action has an icon, and no icon names an
  action services.yaml lacks.
- brand/: only the file names HA's brands proxy serves, icon.png present, PNG files, icons square
  256×256 (@2x 512×512), logos' shortest side 128–256 (@2x 256–512).
- hacs.json: only HACS's keys with their types, name required, zip_release only with a .zip filename,
  a minimum Home Assistant version no newer than the one tested; one integration under
  custom_components/; a README.

Not covered here (CI's real hassfest and HACS runs see them): config_flow.py's
presence rules, quality_scale.yaml rules, the rules hassfest applies to core integrations only
(requirements pinned with `==`, installed and checked for forbidden or conflicting dependencies; the
quality scale's presence), requirement availability on Home Assistant's wheel server, and HACS's
GitHub-side checks (repository description, topics, issues enabled, archived, brands repo).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import probatio
from awesomeversion import AwesomeVersion, AwesomeVersionException, AwesomeVersionStrategy
from homeassistant.components.brands.const import ALLOWED_IMAGES
from homeassistant.const import Platform
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import selector
from packaging.requirements import InvalidRequirement, Requirement
from PIL import Image

# Keys hassfest's custom-integration manifest schema accepts, with the type each value must have.
MANIFEST_KEYS: dict[str, type] = {
    "domain": str,
    "name": str,
    "after_dependencies": list,
    "bluetooth": list,
    "codeowners": list,
    "config_flow": bool,
    "dependencies": list,
    "dhcp": list,
    "disabled": str,
    "documentation": str,
    "homekit": dict,
    "import_executor": bool,
    "integration_type": str,
    "iot_class": str,
    "issue_tracker": str,
    "loggers": list,
    "mqtt": list,
    "quality_scale": str,
    "requirements": list,
    "single_config_entry": bool,
    "ssdp": list,
    "usb": list,
    "version": str,
    "zeroconf": list,
}
# hassfest requires the first four, HACS the last two as well.
MANIFEST_REQUIRED = ("domain", "name", "documentation", "codeowners", "issue_tracker", "version")
IOT_CLASSES = {"assumed_state", "calculated", "cloud_polling", "cloud_push", "local_polling", "local_push"}
INTEGRATION_TYPES = {"device", "entity", "hardware", "helper", "hub", "service", "system"}
VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]
DHCP_KEYS = {"macaddress", "hostname", "registered_devices"}
# hassfest's requirements.py: PACKAGE_REGEX and PIP_VERSION_RANGE_SEPARATOR.
REQUIREMENT_RE = re.compile(
    r"^(?:--.+\s)?(?P<package>[-_,\.\w\d\[\]]+)(==|>=|<=|~=|!=|<|>|===)*(?P<version>.*)$"
)
VERSION_PART_RE = re.compile(r"^(==|>=|<=|~=|!=|<|>|===)?(.*)$")
SETUP_SCHEMAS = {"CONFIG_SCHEMA", "PLATFORM_SCHEMA", "PLATFORM_SCHEMA_BASE"}

# Integrations hassfest lets any integration import without declaring them (internal ones that are
# always there or register things without being set up), besides every entity platform.
IMPORTABLE_WITHOUT_DEPENDENCY = {
    *(platform.value for platform in Platform),
    "alert", "automation", "conversation", "default_config", "device_automation", "frontend", "group",
    "homeassistant", "input_boolean", "input_button", "input_datetime", "input_number", "input_select",
    "input_text", "media_source", "onboarding", "panel_custom", "persistent_notification", "person",
    "script", "shopping_list", "sun", "system_health", "system_log", "timer", "webhook", "websocket_api",
    "zone", "mjpeg", "stream",
}  # fmt: skip

STRINGS_SECTIONS = {
    "title", "config", "options", "selector", "device_automation", "system_health", "config_panel",
    "application_credentials", "issues", "entity_component", "device", "entity", "exceptions",
    "services", "conversation", "common",
}  # fmt: skip
TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
COMBINED_REFERENCE = re.compile(r"(.+\[%)|(%\].+)")
QUOTED_PLACEHOLDER = re.compile(r"'\{\w+\}'")
FLOW_STEP_KEYS = {"title", "description", "data", "data_description", "menu_options", "submit", "sections"}

SERVICE_KEYS = {"name", "description", "target", "fields"}
FIELD_KEYS = {"example", "default", "required", "advanced", "selector", "filter", "name", "description"}
SECTION_KEYS = {"name", "description", "collapsed", "fields"}

HACS_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "content_in_root": bool,
    "country": (str, list),
    "filename": str,
    "hacs": str,
    "hide_default_branch": bool,
    "homeassistant": str,
    "persistent_directory": str,
    "render_readme": bool,
    "zip_release": bool,
}


def _valid(validator: Callable[[Any], Any], value: Any) -> str | None:
    """None when HA's validator accepts `value`, else its message."""
    try:
        validator(value)
    except probatio.Invalid as err:
        return str(err)
    return None


def _is_https_url(value: Any) -> bool:
    parsed = urlparse(value) if isinstance(value, str) else None
    return parsed is not None and parsed.scheme == "https" and bool(parsed.netloc)


def _is_core_integration(domain: str) -> bool:
    return importlib.util.find_spec(f"homeassistant.components.{domain}") is not None


def manifest_problems(manifest: dict[str, Any], folder: str) -> list[str]:
    problems = [f"missing required key {key!r}" for key in MANIFEST_REQUIRED if key not in manifest]
    for key, value in manifest.items():
        if key not in MANIFEST_KEYS:
            problems.append(f"unknown key {key!r}")
        elif not isinstance(value, MANIFEST_KEYS[key]):
            problems.append(f"{key!r} must be a {MANIFEST_KEYS[key].__name__}")
    problems += _manifest_value_problems(manifest, folder)
    keys = list(manifest)
    expected = sorted(keys, key=lambda key: {"domain": "0", "name": "1"}.get(key, f"2{key}"))
    if keys != expected:
        problems.append(f"keys are not sorted (domain, name, then alphabetical): expected {expected}")
    return problems


def _manifest_value_problems(manifest: dict[str, Any], folder: str) -> list[str]:
    problems = []
    domain = manifest.get("domain")
    if domain != folder:
        problems.append(f"domain {domain!r} does not match the folder name {folder!r}")
    if isinstance(domain, str) and _is_core_integration(domain):
        problems.append(f"domain {domain!r} collides with a built-in integration")
    for key in ("documentation", "issue_tracker"):
        if key in manifest and not _is_https_url(manifest[key]):
            problems.append(f"{key!r} must be an https URL")
    if not all(isinstance(owner, str) and owner.startswith("@") for owner in manifest.get("codeowners", [])):
        problems.append("codeowners must be GitHub @handles")
    try:
        AwesomeVersion(str(manifest.get("version")), ensure_strategy=VERSION_STRATEGIES)
    except AwesomeVersionException:
        problems.append(f"version {manifest.get('version')!r} is not a valid version")
    if manifest.get("iot_class") not in IOT_CLASSES:
        problems.append(f"iot_class must be one of {sorted(IOT_CLASSES)}")
    if manifest.get("integration_type", "hub") not in INTEGRATION_TYPES:
        problems.append(f"integration_type must be one of {sorted(INTEGRATION_TYPES)}")
    dependencies = manifest.get("dependencies", [])
    problems += [
        f"dependency {dep!r} is also an after_dependency"
        for dep in dependencies
        if dep in manifest.get("after_dependencies", [])
    ]
    problems += [
        f"dependency {dep!r} is no Home Assistant integration"
        for dep in dependencies
        if not _is_core_integration(dep)
    ]
    for matcher in manifest.get("dhcp", []):
        problems += _dhcp_problems(matcher)
    return problems


def requirements_problems(manifest: dict[str, Any]) -> list[str]:
    """hassfest's validate_requirements_format (requirements.py), plus what HA's installer needs."""
    problems = []
    for requirement in manifest.get("requirements", []):
        if not isinstance(requirement, str):
            problems.append(f"requirement {requirement!r} is not a string")
            continue
        if " " in requirement:
            problems.append(f"requirement {requirement!r} contains a space")
            continue
        if not (match := REQUIREMENT_RE.match(requirement)):
            problems.append(f"requirement {requirement!r} does not match hassfest's package pattern")
            continue
        # hassfest parses each version of a core integration's requirement; a custom one's too here.
        for part in match["version"].split(";", 1)[0].split(","):
            version = VERSION_PART_RE.match(part)
            if (
                version
                and version[2]
                and AwesomeVersion(version[2]).strategy == AwesomeVersionStrategy.UNKNOWN
            ):
                problems.append(f"requirement {requirement!r}: cannot parse the version {version[2]!r}")
        try:
            Requirement(requirement)
        except InvalidRequirement as err:
            problems.append(f"requirement {requirement!r} is not a PEP 508 requirement: {err}")
    return problems


def _top_level_names(module: ast.Module) -> set[str]:
    """Names a module's top level assigns or imports (hassfest's config_schema.py looks no deeper)."""
    names: set[str] = set()
    for item in module.body:
        if isinstance(item, ast.Assign):
            names.update(target.id for target in item.targets if isinstance(target, ast.Name))
        elif isinstance(item, ast.AnnAssign | ast.AugAssign) and isinstance(item.target, ast.Name):
            names.add(item.target.id)
        elif isinstance(item, ast.Import | ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in item.names)
    return names


def config_schema_problems(init_source: str) -> list[str]:
    """An integration with (async_)setup must say what YAML it takes: CONFIG_SCHEMA or a PLATFORM_SCHEMA."""
    module = ast.parse(init_source)
    sets_up = any(
        (isinstance(item, ast.AsyncFunctionDef) and item.name == "async_setup")
        or (isinstance(item, ast.FunctionDef) and item.name == "setup")
        for item in module.body
    )
    if not sets_up or _top_level_names(module) & SETUP_SCHEMAS:
        return []
    return [
        "__init__.py defines async_setup or setup but no CONFIG_SCHEMA, PLATFORM_SCHEMA or "
        "PLATFORM_SCHEMA_BASE (with no YAML options: cv.config_entry_only_config_schema(DOMAIN))"
    ]


def _dhcp_problems(matcher: dict[str, Any]) -> list[str]:
    problems = [f"dhcp matcher has unknown key {key!r}" for key in matcher if key not in DHCP_KEYS]
    mac = matcher.get("macaddress")
    if mac is not None and (mac != mac.upper() or "*" not in mac):
        problems.append(f"dhcp macaddress {mac!r} must be upper case with a wildcard")
    host = matcher.get("hostname")
    if host is not None and host != host.lower():
        problems.append(f"dhcp hostname {host!r} must be lower case")
    if "registered_devices" in matcher and not isinstance(matcher["registered_devices"], bool):
        problems.append("dhcp registered_devices must be true or false")
    return problems


def _signs_paths_only(module: str, node: ast.ImportFrom) -> bool:
    """http's path signing may be imported without depending on http (hassfest's one exception)."""
    return module == "homeassistant.components.http.auth" and [a.name for a in node.names] == [
        "async_sign_path"
    ]


class _ComponentImports(ast.NodeVisitor):
    """The Home Assistant integrations a module imports, outside `if TYPE_CHECKING:` blocks."""

    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module == "homeassistant.components":
            self.found.update(alias.name for alias in node.names)
        elif module.startswith("homeassistant.components.") and not _signs_paths_only(module, node):
            self.found.add(module.split(".")[2])

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.startswith("homeassistant.components."):
                self.found.add(alias.name.split(".")[2])


def dependency_problems(integration: Path, manifest: dict[str, Any]) -> list[str]:
    declared = set(manifest.get("dependencies", [])) | set(manifest.get("after_dependencies", []))
    problems = []
    for module in sorted(integration.rglob("*.py")):
        collector = _ComponentImports()
        collector.visit(ast.parse(module.read_text(), str(module)))
        for used in sorted(collector.found):
            own_platform = (integration / f"{used}.py").is_file() or (integration / used).is_dir()
            allowed = used in declared or used in IMPORTABLE_WITHOUT_DEPENDENCY or own_platform
            if not allowed and used != manifest.get("domain"):
                where = module.relative_to(integration)
                problems.append(f"{where} uses {used!r}, which is not in dependencies or after_dependencies")
    return problems


def json_problems(integration: Path) -> list[str]:
    problems = []
    for path in sorted(integration.rglob("*.json")):
        try:
            loaded = json.loads(path.read_text())
        except ValueError as err:
            problems.append(f"{path.relative_to(integration)} is not valid JSON: {err}")
            continue
        if not isinstance(loaded, dict):
            problems.append(f"{path.relative_to(integration)} is not a JSON object")
    return problems


def _texts(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a strings file with its dotted path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _texts(value, f"{path}.{key}" if path else str(key))
    else:
        yield path, node


def _text_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "is not a string"
    if (html := _valid(cv.string_with_no_html, value)) is not None:
        return html
    if value != value.strip():
        return "has leading or trailing spaces"
    if QUOTED_PLACEHOLDER.search(value):
        return "has a placeholder inside single quotes"
    if COMBINED_REFERENCE.search(value):
        return "combines a reference with other text"
    return None


def _translation_keys(strings: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, key) for every key that hassfest requires to be a translation key."""
    for platform, entities in strings.get("entity", {}).items():
        for key, entity in entities.items():
            yield f"entity.{platform}", key
            yield from ((f"entity.{platform}.{key}.state", k) for k in entity.get("state", {}))
            for attr, attribute in entity.get("state_attributes", {}).items():
                yield f"entity.{platform}.{key}.state_attributes", attr
                yield from (
                    (f"entity.{platform}.{key}.state_attributes.{attr}.state", k)
                    for k in attribute.get("state", {})
                )
    yield from (("device", key) for key in strings.get("device", {}))
    for name, sel in strings.get("selector", {}).items():
        yield from ((f"selector.{name}.options", key) for key in sel.get("options", {}))
    for name, service in strings.get("services", {}).items():
        yield "services", name
        yield from ((f"services.{name}.fields", key) for key in service.get("fields", {}))


def _flow_problems(where: str, flow: dict[str, Any]) -> list[str]:
    problems = []
    if "step" not in flow:
        problems.append(f"{where} has no 'step'")
    for step_id, step in flow.get("step", {}).items():
        problems += [
            f"{where}.step.{step_id} has unknown key {key!r}" for key in step if key not in FLOW_STEP_KEYS
        ]
        problems += [
            f"{where}.step.{step_id}.data_description.{key} describes a field not in data"
            for key in step.get("data_description", {})
            if key not in step.get("data", {})
        ]
    return problems


def strings_problems(strings: dict[str, Any]) -> list[str]:
    problems = [f"unknown section {key!r}" for key in strings if key not in STRINGS_SECTIONS]
    for path, value in _texts(strings):
        if (problem := _text_problem(value)) is not None:
            problems.append(f"{path} {problem}")
    for where, key in _translation_keys(strings):
        if not TRANSLATION_KEY.match(key):
            problems.append(
                f"{where}: {key!r} is not a translation key ([a-z0-9-_], no leading/trailing -/_)"
            )
    for section in ("config", "options"):
        if section in strings:
            problems += _flow_problems(section, strings[section])
    for issue_id, issue in strings.get("issues", {}).items():
        if "title" not in issue:
            problems.append(f"issues.{issue_id} has no title")
        if ("description" in issue) == ("fix_flow" in issue):
            problems.append(f"issues.{issue_id} needs exactly one of description and fix_flow")
        if "fix_flow" in issue:
            problems += _flow_problems(f"issues.{issue_id}.fix_flow", issue["fix_flow"])
    for name, service in strings.get("services", {}).items():
        problems += [f"services.{name} has no {key}" for key in ("name", "description") if key not in service]
        for field, texts in service.get("fields", {}).items():
            problems += [
                f"services.{name}.fields.{field} has no {key}"
                for key in ("name", "description")
                if key not in texts
            ]
    return problems


def english_problems(strings_json: str, en_json: str) -> list[str]:
    """A custom integration's HA loads translations/en.json as it is: nothing may be left to resolve."""
    problems = ["translations/en.json has an unresolved [%key:…%] reference"] if "[%key:" in en_json else []
    if json.loads(strings_json) != json.loads(en_json):
        problems.append("translations/en.json differs from strings.json")
    return problems


def _fields(fields: dict[str, Any]) -> Iterator[tuple[str | None, str, Any]]:
    """(section or None, field name, field) of a service's fields, sections unfolded."""
    for name, field in fields.items():
        if isinstance(field, dict) and "fields" in field:
            yield from ((name, inner, value) for inner, value in field["fields"].items())
        else:
            yield None, name, field


def _field_problems(where: str, field: Any) -> list[str]:
    if field is None:
        return []
    if not isinstance(field, dict):
        return [f"{where} must be a mapping"]
    problems = [f"{where} has unknown key {key!r}" for key in field if key not in FIELD_KEYS]
    if "selector" in field and (error := _valid(selector.validate_selector, field["selector"])):
        problems.append(f"{where} has an invalid selector: {error}")
    return problems


def _service_schema_problems(name: str, service: dict[str, Any]) -> list[str]:
    problems = [f"{name} has unknown key {key!r}" for key in service if key not in SERVICE_KEYS]
    target = service.get("target")
    if target is not None and (error := _valid(selector.TargetSelector.CONFIG_SCHEMA, target)):
        problems.append(f"{name} has an invalid target: {error}")
    seen: set[str] = set()
    for section_name, section in service.get("fields", {}).items():
        if isinstance(section, dict) and "fields" in section:
            problems += [
                f"{name}.{section_name} has unknown key {key!r}" for key in section if key not in SECTION_KEYS
            ]
    for section_name, field_name, field in _fields(service.get("fields", {})):
        where = f"{name}.{section_name + '.' if section_name else ''}{field_name}"
        if field_name in seen:
            problems.append(f"{name} uses field {field_name!r} twice")
        seen.add(field_name)
        problems += _field_problems(where, field)
    return problems


def _service_text_problems(name: str, service: dict[str, Any], english: dict[str, Any]) -> list[str]:
    texts = english.get("services", {}).get(name, {})
    problems = [
        f"{name} has no {key} and is not in the translations file"
        for key in ("name", "description")
        if key not in service and key not in texts
    ]
    for section_name, section in service.get("fields", {}).items():
        is_section = isinstance(section, dict) and "fields" in section
        section_texts = texts.get("sections", {}).get(section_name, {})
        if is_section and "name" not in section and "name" not in section_texts:
            problems.append(f"{name} has a section {section_name} with no name")
    for _, field_name, field in _fields(service.get("fields", {})):
        field_texts = texts.get("fields", {}).get(field_name, {})
        problems += [
            f"{name} has a field {field_name} with no {key} and is not in the translations file"
            for key in ("name", "description")
            if key not in (field or {}) and key not in field_texts
        ]
        key = ((field or {}).get("selector") or {}).get("select", {}) or {}
        if (translation_key := key.get("translation_key")) and translation_key not in english.get(
            "selector", {}
        ):
            problems.append(
                f"{name}.{field_name}'s selector translation key {translation_key!r} is not translated"
            )
    return problems


def services_problems(services: Any, english: dict[str, Any]) -> list[str]:
    if not isinstance(services, dict):
        return ["services.yaml must be a mapping of actions"]
    problems = []
    for name, service in services.items():
        if (error := _valid(cv.slug, name)) is not None:
            problems.append(f"action name {name!r} is not a slug: {error}")
        if service is None:
            continue
        if not isinstance(service, dict):
            problems.append(f"{name} must be a mapping")
            continue
        problems += _service_schema_problems(name, service)
        problems += _service_text_problems(name, service, english)
    return problems


ICON_SECTIONS = {"entity", "services", "config", "options", "issues"}
ENTITY_ICON_KEYS = {"default", "state", "state_attributes", "range"}


def _icon_problem(where: str, value: Any) -> str | None:
    if not isinstance(value, str) or _valid(cv.string_with_no_html, value) is not None:
        return f"{where} is not a plain icon name"
    if not value.startswith("mdi:"):
        return f"{where} {value!r} is not a Material Design icon (mdi:…)"
    return None


def _entity_icon_problems(platform: str, key: str, icons: dict[str, Any]) -> list[str]:
    where = f"entity.{platform}.{key}"
    problems = [] if TRANSLATION_KEY.match(key) else [f"{where}: {key!r} is not a translation key"]
    problems += [f"{where} has unknown key {name!r}" for name in icons if name not in ENTITY_ICON_KEYS]
    if "default" in icons and (problem := _icon_problem(f"{where}.default", icons["default"])):
        problems.append(problem)
    for state, icon in icons.get("state", {}).items():
        if (problem := _icon_problem(f"{where}.state.{state}", icon)) is not None:
            problems.append(problem)
        if icon == icons.get("default"):
            problems.append(f"{where}.state.{state} repeats the default icon")
    return problems


def icons_problems(icons: dict[str, Any], services: dict[str, Any]) -> list[str]:
    problems = [f"icons.json has unknown section {key!r}" for key in icons if key not in ICON_SECTIONS]
    for platform, entities in icons.get("entity", {}).items():
        for key, entity_icons in entities.items():
            problems += _entity_icon_problems(platform, key, entity_icons)
    action_icons = icons.get("services", {})
    for action, icon in action_icons.items():
        value = icon.get("service") if isinstance(icon, dict) else icon
        if (problem := _icon_problem(f"services.{action}", value)) is not None:
            problems.append(problem)
        if action not in services:
            problems.append(f"icons.json has an icon for {action!r}, which services.yaml does not define")
    problems += [
        f"action {action!r} has no icon in icons.json" for action in services if action not in action_icons
    ]
    return problems


def _size_problem(name: str, width: int, height: int) -> str | None:
    scale = 2 if "@2x" in name else 1
    if "icon" in name:
        if (width, height) != (256 * scale, 256 * scale):
            return f"{name} is {width}×{height}, not {256 * scale}×{256 * scale}"
    elif not 128 * scale <= min(width, height) <= 256 * scale:
        return f"{name}'s shortest side is {min(width, height)}, not {128 * scale}–{256 * scale}"
    return None


def brand_problems(brand: Path) -> list[str]:
    names = {path.name for path in brand.iterdir()}
    problems = [f"brand/{name} is not an image HA serves" for name in sorted(names - ALLOWED_IMAGES)]
    if "icon.png" not in names:
        problems.append("brand/icon.png is missing")
    for name in sorted(names & ALLOWED_IMAGES):
        with Image.open(brand / name) as image:
            if image.format != "PNG":
                problems.append(f"brand/{name} is {image.format}, not PNG")
            if (problem := _size_problem(name, *image.size)) is not None:
                problems.append(f"brand/{problem}")
    return problems


def hacs_problems(hacs: dict[str, Any], root: Path) -> list[str]:
    problems = [] if "name" in hacs else ["hacs.json has no name"]
    for key, value in hacs.items():
        if key not in HACS_KEYS:
            problems.append(f"hacs.json has unknown key {key!r}")
        elif not isinstance(value, HACS_KEYS[key]):
            problems.append(f"hacs.json {key!r} has the wrong type")
    if hacs.get("zip_release") and not str(hacs.get("filename", "")).endswith(".zip"):
        problems.append("hacs.json: zip_release needs a filename ending in .zip")
    if "homeassistant" in hacs:
        try:
            if AwesomeVersion(hacs["homeassistant"]) > AwesomeVersion(HA_VERSION):
                problems.append(
                    f"hacs.json asks for Home Assistant {hacs['homeassistant']}, newer than {HA_VERSION}"
                )
        except AwesomeVersionException:
            problems.append(f"hacs.json homeassistant {hacs['homeassistant']!r} is not a version")
    integrations = [
        p for p in (root / "custom_components").iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    ]
    if len(integrations) != 1:
        problems.append(
            f"HACS manages one integration per repository, custom_components/ has {len(integrations)}"
        )
    if not (root / "README.md").is_file():
        problems.append("no README.md (HACS shows it as the repository's information)")
    return problems
