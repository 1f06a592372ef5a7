"""A local Notion-compatible server (plus PlanX and planning-data stand-ins) for tests, demos and benchmarks.

Strict as Notion by default, unreliable as Notion on demand (indexing lag, late commits, seeded chaos, workspace
throttling, token capabilities and sharing). It imports nothing from ``reconcile``: it is the independent referee
of the client. Start with ``notion_sandbox.server.SandboxServer``; docs/sandbox.md maps the modules and lists every
rule with its source.
"""
