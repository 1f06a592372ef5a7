"""The distribution: its name and command, every dependency pinned for CI, a wheel that carries its data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
DISTRIBUTION = "notion-reconcile"
CONSTRAINTS = REPO / "constraints.txt"
# A Python warning line ("...: SomeWarning: ...") or a distutils one ("warning: ..."); pip's own
# "WARNING:" lines about this machine's package sources are not the build's.
BUILD_WARNING = re.compile(r"\w*Warning: |^\s*warning: ", re.M)


def pinned() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def requirements_of(name: str, extras: frozenset[str]) -> list[Requirement]:
    wanted = []
    for text in metadata.requires(name) or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras | {""}):
            wanted.append(requirement)
    return wanted


def installed_closure(root: str, extras: frozenset[str]) -> set[str]:
    """Every distribution that installing `root[extras]` brings in on this platform, `root` excepted."""
    seen: set[str] = set()
    todo = [(root, extras)]
    while todo:
        name, wanted_extras = todo.pop()
        for requirement in requirements_of(name, wanted_extras):
            key = canonicalize_name(requirement.name)
            if key not in seen:
                seen.add(key)
                todo.append((requirement.name, frozenset(requirement.extras)))
    return seen


def test_the_distribution_installs_the_reconcile_command() -> None:
    scripts = {
        e.name: e.value for e in metadata.distribution(DISTRIBUTION).entry_points if e.group == "console_scripts"
    }
    assert scripts == {"reconcile": "reconcile.cli:main"}


def test_the_sandbox_reports_the_version_of_the_distribution_it_ships_in() -> None:
    from notion_sandbox.admin import package_version

    assert package_version() == metadata.version(DISTRIBUTION)


def test_every_dependency_ci_installs_is_pinned() -> None:
    missing = sorted(installed_closure(DISTRIBUTION, frozenset({"test"})) - set(pinned()))
    assert not missing, f"not in constraints.txt: {missing}; run `bash .ci/refresh-constraints`"


def test_the_build_backend_is_pinned_too() -> None:
    build_requires = re.findall(r'"([A-Za-z0-9_.-]+)', (REPO / "pyproject.toml").read_text(encoding="utf-8"))
    backends = {canonicalize_name(r) for r in build_requires if r != "setuptools.build_meta"}
    assert backends == {"setuptools", "wheel"}
    assert backends <= set(pinned())


def test_the_licence_is_the_mit_licence_setup_cfg_declares() -> None:
    assert "license = MIT" in (REPO / "setup.cfg").read_text(encoding="utf-8")
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "the reconcile authors" in licence


@pytest.mark.slow
def test_the_wheel_builds_without_warnings_and_carries_both_packages_data(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # its notice is not ours
    env["PIP_CONSTRAINT"] = str(CONSTRAINTS)  # the pinned setuptools, as CI installs it
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--wheel-dir", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    output = built.stdout + built.stderr
    assert built.returncode == 0, output[-3000:]
    assert not BUILD_WARNING.findall(output), [line for line in output.splitlines() if BUILD_WARNING.search(line)]
    [wheel] = tmp_path.glob("notion_reconcile-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = [
        "reconcile/py.typed",
        "reconcile/data/mappings.yaml",
        "notion_sandbox/py.typed",
        *(f"reconcile/schemas/{p.name}" for p in (REPO / "schemas").glob("*.json")),
        *(f"notion_sandbox/data/{p.name}" for p in (REPO / "notion_sandbox" / "data").iterdir()),
    ]
    assert sorted(set(data) - names) == []
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {
        "reconcile",
        "notion_sandbox",
    }
