"""The oracle itself: a clean apply matches it, and a state that differs does not."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.common import notion, run
from tests.support.reliability import assert_converged, notion_state, write_config


def test_clean_apply_matches_the_oracle_and_a_hand_edit_does_not(sandbox: Any, tmp_path: Any) -> None:
    config = write_config(tmp_path)
    result = run("apply", "-c", str(config), "--auto-approve")
    assert result.exit_code == 0, result.output
    state = assert_converged(sandbox)
    notion(sandbox).pages.update(
        page_id=state.page_ids["lambeth"],
        properties={"Description": {"rich_text": [{"text": {"content": "edited"}}]}},
    )
    with pytest.raises(AssertionError):
        assert_converged(sandbox)
    assert notion_state(sandbox).services["lambeth"]["Description"] == "edited"
