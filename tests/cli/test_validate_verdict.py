"""`reconcile validate` prints one verdict for the config and the live schemas together: a schema
problem is the only line (exit 1), never after a "valid"; a property the declared schema will add
is not a problem."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.common import run

pytestmark = pytest.mark.slow

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def planx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        yield sb


def config(tmp_path: Path, schema: dict[str, Any] | None) -> str:
    document = yaml.safe_load((REPO / "mappings.yaml").read_text(encoding="utf-8"))
    services = document["jobs"]["planx-live-services"]["resources"]["services"]
    services["properties"]["Stage"] = '`"Live"`'
    if schema is not None:
        services["schema"] = schema
    path = tmp_path / "mappings.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return str(path)


def test_a_missing_property_is_the_one_verdict(planx: Any, tmp_path: Path) -> None:
    result = run("validate", "-c", config(tmp_path, None))
    assert result.exit_code == 1
    assert "valid" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "property 'Stage' not found" in errors[0]


def test_a_property_the_declared_schema_adds_is_valid_in_one_line(planx: Any, tmp_path: Path) -> None:
    schema = {"properties": {"Stage": {"type": "select", "options": ["Live"]}}}
    result = run("validate", "-c", config(tmp_path, schema))
    assert result.exit_code == 0, result.output
    verdicts = [line for line in result.output.splitlines() if "valid (" in line]
    assert len(verdicts) == 1 and "Notion: every mapped property exists" in verdicts[0]
    assert planx.admin.requests()["by_route"].get("PATCH /v1/data_sources/{id}", 0) == 0
