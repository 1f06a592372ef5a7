"""`reconcile sandbox ...`: the sandbox's own commands (notion_sandbox/cli.py), loaded only when asked for.

With the demo, the one place the client side imports notion_sandbox.
"""

from __future__ import annotations

from notion_sandbox.cli import sandbox

__all__ = ["sandbox"]
