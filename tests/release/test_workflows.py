"""The GitHub workflows parse and do what docs/releasing.md promises. They cannot run here; the commands
their steps run can, and are tested beside this file (release.py, the zip, the installed wheel)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.lib.hass import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
RELEASE_COMMANDS = {"version", "prepare", "check-tag", "notes", "zip"}


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema (requirements/dev.txt) with a schema it ships: SchemaStore's, nothing fetched."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_workflows_and_dependabot_follow_githubs_schemas() -> None:
    workflows = check_jsonschema("vendor.github-workflows", *sorted(WORKFLOWS.glob("*.yml")))
    assert workflows.returncode == 0, workflows.stdout + workflows.stderr
    dependabot = check_jsonschema("vendor.dependabot", ROOT / ".github" / "dependabot.yml")
    assert dependabot.returncode == 0, dependabot.stdout + dependabot.stderr


def test_the_schema_check_refuses_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "ci.yml"
    broken.write_text((WORKFLOWS / "ci.yml").read_text().replace("runs-on:", "run-on:", 1))
    refused = check_jsonschema("vendor.github-workflows", broken)
    assert refused.returncode == 1
    assert "Schema validation errors" in refused.stdout


def load(name: str) -> dict[str, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean true.
    return {("on" if key is True else key): value for key, value in loaded.items()}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = job.get("steps", [])
    return found


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in steps(job) if "uses" in step]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step["run"] for step in steps(job) if "run" in step)


# Actions whose maintainers publish them on a branch, and tell users to follow it; every other action is
# named by its major-version tag. None is pinned to a commit: a moved tag or branch changes what runs.
BRANCH_ACTIONS = {
    "home-assistant/actions/hassfest": "master",
    "hacs/action": "main",
    "pypa/gh-action-pypi-publish": "release/v1",
}


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_workflow_is_read_only_by_default_with_versioned_actions(path: Path) -> None:
    workflow = load(path.name)
    assert workflow["permissions"] == {"contents": "read"}
    for job_id, job in workflow["jobs"].items():
        assert "runs-on" in job or "uses" in job, job_id
        for action in uses(job):
            name, _, ref = action.partition("@")
            assert re.fullmatch(r"[\w.-]+/[\w./-]+", name), (job_id, action)
            assert ref == BRANCH_ACTIONS.get(name) or re.fullmatch(r"v\d+", ref), (job_id, action)
        for command in re.findall(r"release\.py (\S+)", runs(job)):
            assert command in RELEASE_COMMANDS, (job_id, command)


def test_ci_runs_the_tests_hassfest_and_hacs_on_push_and_pull_request() -> None:
    ci = load("ci.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(ci["on"])
    jobs = ci["jobs"]
    assert ".ci/run" in runs(jobs["tests"])
    assert "\nscripts/test " in (ROOT / ".ci" / "run").read_text()  # .ci/run is scripts/test plus a guard
    assert any(action.startswith("home-assistant/actions/hassfest@") for action in uses(jobs["hassfest"]))
    (hacs,) = [step for step in steps(jobs["hacs"]) if step.get("uses", "").startswith("hacs/action@")]
    assert hacs["with"]["category"] == "integration"


def test_a_version_tag_checks_tests_builds_publishes_and_releases_in_order() -> None:
    workflow = load("release.yml")
    assert workflow["on"] == {"push": {"tags": ["v*"]}}
    jobs = workflow["jobs"]
    assert 'release.py check-tag "$GITHUB_REF_NAME"' in runs(jobs["check"])
    assert jobs["ci"] == {"name": "CI", "needs": "check", "uses": "./.github/workflows/ci.yml"}

    build = jobs["build"]
    assert build["needs"] == "ci"
    hacs_zip = json.loads((ROOT / "hacs.json").read_text())["filename"]
    for command in (
        "uv build --out-dir dist",
        "twine check --strict dist/*",
        f"release.py zip release/{hacs_zip}",
    ):
        assert command in runs(build)
    assert "release.py notes" in runs(build)

    pypi = jobs["pypi"]
    assert pypi["needs"] == "build"
    assert pypi["permissions"] == {"id-token": "write"}  # trusted publishing, no token
    assert pypi["environment"]["name"] == "pypi"
    assert any(action.startswith("pypa/gh-action-pypi-publish@") for action in uses(pypi))

    github = jobs["github-release"]
    assert set(github["needs"]) == {"build", "pypi"}
    assert github["permissions"] == {"contents": "write"}
    assert f"release/{hacs_zip}" in runs(github)
    assert "--notes-file release/notes.md" in runs(github)
