""".github/scripts/release.py as a module: the workflows run it as a script, the tests call its functions."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from scripts.lib.hass import ROOT

RELEASE_SCRIPT = ROOT / ".github" / "scripts" / "release.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("camera_hub_release", RELEASE_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


release = load()
