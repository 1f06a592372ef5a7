"""Hostile configs are refused with one line, quickly and in little memory: alias bombs, huge files, deep nesting.

Memory is measured with tracemalloc (the peak of everything Python allocated while loading), and
speed by what was done (the document is refused before it is built), never by the wall clock.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
import yaml

from reconcile.config import load_config, load_config_text
from reconcile.config.yamlload import MAX_CONFIG_BYTES, MAX_VALUES
from reconcile.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """A few hundred bytes that stand for width**levels values (387 million at 9 × 9)."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return "version: 1\n" + "\n".join(lines) + f"\njobs: {{x: {{source: *a{levels}}}}}\n"


def refusal(text: str) -> tuple[str, float]:
    """The one-line refusal of `text`, and the peak memory (MB) Python allocated while loading it."""
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as caught:
            load_config_text(text, {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert "\n" not in message
    return message, peak / MB


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    bomb = billion_laughs()
    assert len(bomb) < 1000
    message, peak_mb = refusal(bomb)
    assert message == (
        "mappings.yaml:6:20: the document holds more than 30,000 values, counting each alias as all it repeats "
        "(an alias bomb?) (a config is far smaller; check the file)"
    )
    assert peak_mb < 5  # the limit is 100 MB; nothing of the expansion was ever built


def test_merge_keys_count_as_what_they_repeat() -> None:
    lines = ["version: 1", "b0: &b0 {" + ", ".join(f"k{i}: v" for i in range(40)) + "}"]
    lines += [f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 40) + "]" for i in range(1, 3)]
    lines += ["jobs: {x: {<<: *b0, y: *b2}}"]
    message, _ = refusal("\n".join(lines) + "\n")
    assert "more than 30,000 values" in message


@pytest.mark.slow
def test_a_document_at_the_limit_loads_and_one_past_it_is_refused() -> None:
    def with_allowlist(n: int) -> str:
        shipped = (REPO / "mappings.yaml").read_text(encoding="utf-8")
        document = yaml.safe_load(shipped)
        document["jobs"]["planx-live-services"]["source"]["allowlist"] = [f"c{i}" for i in range(n)]
        return yaml.safe_dump(document, width=10**6)

    env = {"SERVICES_DB_ID": "1" * 32, "COUNCILS_DB_ID": "2" * 32}
    twelve_thousand = with_allowlist(12_000)  # as large as the largest benchmark
    assert len(load_config_text(twelve_thousand, env).jobs[0].source.allowlist or ()) == 12_000
    message, peak_mb = refusal(with_allowlist(MAX_VALUES))
    assert "more than 30,000 values" in message
    assert peak_mb < 100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\njobs: " + "[" * 40 + "]" * 40 + "\n", "mappings.yaml:2:38: nested more than 32 levels deep"),
        ("version: 1\njobs: &a {x: *a}\n", "mappings.yaml:2:14: an alias refers to a node that contains it "
         "(a recursive alias)"),
    ],
    ids=["deep", "recursive"],
)  # fmt: skip
def test_deep_or_recursive_documents_are_one_line(text: str, message: str) -> None:
    assert refusal(text)[0] == f"{message} (a config is far smaller; check the file)"


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as out:  # sparse: 200 MB that never touch the disk
        out.truncate(200 * MB)
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as caught:
            load_config(huge, {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value) == (
        f"{huge}: 209,715,200 bytes is more than a config may be ({MAX_CONFIG_BYTES:,} bytes) (is this the right file?)"
    )
    assert peak < 1 * MB


def test_text_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    message, _ = refusal("version: 1\n#" + "x" * MAX_CONFIG_BYTES + "\n")
    assert message.startswith("mappings.yaml: 524,301 characters is more than a config may be")


def test_an_unbounded_device_is_read_only_up_to_the_limit() -> None:
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero on this system")
    with pytest.raises(ConfigError, match=r"/dev/zero: 524,289 bytes is more than a config may be"):
        load_config(zero, {})


def test_malformed_yaml_keeps_its_own_message() -> None:
    # The bounds read the events with libyaml; the SafeLoader still reports the mistake itself.
    with pytest.raises(ConfigError) as caught:
        load_config_text("version: 1\njobs:\n  planx: [\n", {})
    assert str(caught.value) == "mappings.yaml:4:1: expected the node content, but found '<stream end>'"
