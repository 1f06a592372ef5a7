"""Renderers: each reads the plan's JSON form (reconcile.planfile.plan_to_dict) and presents it.

render_text      a terminal, Terraform-style, optionally coloured, optionally redacted
render_markdown  a pull-request comment or GitHub job summary; split_markdown fits GitHub's limit
render_json      the JSON form itself, stable bytes
"""

from __future__ import annotations

from reconcile.render.json import render_json
from reconcile.render.markdown import render_markdown
from reconcile.render.split import split_markdown
from reconcile.render.text import render_text

__all__ = ["render_json", "render_markdown", "render_text", "split_markdown"]
