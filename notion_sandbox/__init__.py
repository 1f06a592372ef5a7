"""A local Notion-compatible server (plus PlanX and planning-data stand-ins) for tests, demos and benchmarks.

It imports nothing from the rest of ``reconcile``: it is the independent referee of the client.
Modules: ``server`` (HTTP, admin API, ``SandboxServer``), ``api`` (routes, check order, handlers), ``store``
(workspace state and schema rules), ``values`` (property values), ``query`` (filters, sorts), ``render`` (JSON
shapes per version), ``faults``, ``ratelimit``, ``requestlog``, ``seed``, ``ids``, ``errors``. See docs/sandbox.md.
"""
