"""`reconcile sandbox ...` commands (the sandbox owns this module)."""

from __future__ import annotations

import click

from notion_sandbox.seed import SEEDS

SERVE_EXAMPLE = """Run a local Notion-compatible server (plus the PlanX GraphQL and planning-data stand-ins).

\b
Example:
  reconcile sandbox serve --seed planx --port 8787 --state sandbox.json
  reconcile sandbox serve --seed empty --rate-limit 0 --latency-ms 50

The admin API lives under /_sandbox/ (see docs/sandbox.md).
"""


@click.group()
def sandbox() -> None:
    """Run the local Notion-compatible sandbox and PlanX stand-in.

    \b
    Example:
      reconcile sandbox serve --seed planx --port 8787
    """


@sandbox.command("serve", help=SERVE_EXAMPLE)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (loopback by default).")
@click.option("--port", default=8787, show_default=True, type=int, help="Port (0 = any free port).")
@click.option("--state", "state_file", type=click.Path(dir_okay=False), help="Keep the state in this JSON file.")
@click.option("--seed", type=click.Choice(SEEDS), default="planx", show_default=True, help="Initial content.")
@click.option("--rate-limit", type=float, default=3.0, show_default=True, help="Average requests/s; 0 = off.")
@click.option("--burst", type=int, default=3, show_default=True, help="Requests allowed in a burst.")
@click.option("--latency-ms", type=int, default=0, show_default=True, help="Delay added to every Notion request.")
@click.option("--token", "tokens", multiple=True, help="Accepted integration token (repeatable).")
@click.option("--query-cap", type=int, default=10000, show_default=True, help="Results per query before truncation.")
@click.option("--print-env-only", is_flag=True, help="Print the exports and exit without serving.")
def serve(
    host: str,
    port: int,
    state_file: str | None,
    seed: str,
    rate_limit: float,
    burst: int,
    latency_ms: int,
    tokens: tuple[str, ...],
    query_cap: int,
    print_env_only: bool,
) -> None:
    from notion_sandbox.server import SandboxServer

    server = SandboxServer(
        host=host,
        port=port,
        seed=seed,
        rate_limit=rate_limit or None,
        burst=burst,
        latency_ms=latency_ms,
        state_file=state_file,
        tokens=tokens or ("ntn_sandbox",),
        query_cap=query_cap,
    )
    try:
        server.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    click.echo(f"# Notion sandbox listening on {server.url} (Ctrl-C to stop)")
    for name, value in server.seed_info["env"].items():
        click.echo(f"export {name}={value}")
    if print_env_only:
        server.stop()
        return
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("# stopped")
