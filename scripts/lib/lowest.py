"""The lowest versions the integration's requirement ranges admit, one `name==version` per line.

manifest.json declares ranges where core HA integrations pin other versions of the same library
(tests/test_requirements.py says why); scripts/test installs these into `.lowest/` and runs the
tests that use those libraries again on top of .venv. Exact pins have no other end and are left out.
"""

from __future__ import annotations

import json
from pathlib import Path

from packaging.requirements import Requirement

MANIFEST = Path(__file__).resolve().parents[2] / "custom_components" / "camera_hub" / "manifest.json"


def lowest_pins() -> list[str]:
    pins = []
    for line in json.loads(MANIFEST.read_text())["requirements"]:
        requirement = Requirement(line)
        lower = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        if lower:
            pins.append(f"{requirement.name}=={lower[0]}")
    return pins


if __name__ == "__main__":
    print("\n".join(lowest_pins()))
