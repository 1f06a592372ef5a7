"""`reconcile sandbox ...` commands (the sandbox owns this module)."""

from __future__ import annotations

import click

from notion_sandbox.admin import ADMIN_TOKEN_ENV
from notion_sandbox.seed import SEEDS

SERVE_HELP = f"""Run a local Notion-compatible server (plus the PlanX GraphQL and planning-data stand-ins).

It is as strict as Notion by default (UTF-16 lengths, value shapes, ISO 8601 dates, lifecycle rules) and as
reliable as you ask: the realism switches below add Notion's indexing lag, late commits, spontaneous faults,
workspace throttling, and tokens with limited capabilities or sharing. Every switch is also a setting of the admin
API (PATCH /_sandbox/settings) and a keyword of SandboxServer(...); see docs/sandbox.md.

\b
Examples:
  reconcile sandbox serve --seed planx --port 8787 --state sandbox.json
  reconcile sandbox serve --seed empty --rate-limit 0 --latency-ms 50
  # queries and search see writes 2 s late; 5% of requests fail like Notion does, the same way every run:
  reconcile sandbox serve --query-lag-ms 2000 --chaos 0.05 --chaos-seed 7
  # Retry-After of chaos 429s at most 3 s; chaos late commits land 1.5 s after their 504:
  reconcile sandbox serve --chaos 0.05 --chaos-max-retry-after 3 --chaos-commit-delay-ms 1500
  # a busy workspace: 120 requests per minute for everyone, then 429 until the minute is over:
  reconcile sandbox serve --workspace-rpm 120
  # a read-only token, and one that sees only the Councils data source:
  reconcile sandbox serve --token ntn_sandbox --token ntn_reader:read \\
      --token ntn_councils:read,update,insert:c0c11c00-0000-4000-8000-000000000002
  # reachable from other machines: the admin API then needs the admin token
  {ADMIN_TOKEN_ENV}=s3cret reconcile sandbox serve --host 0.0.0.0

\b
Notion routes served (Notion-Version 2025-09-03, the 2022-06-28 database routes, 2026-03-11):
  databases: GET/PATCH /v1/databases/{{id}}, POST /v1/databases (icon, cover)
  data sources: GET/PATCH /v1/data_sources/{{id}} (schema: add, rename, options, retype, remove),
    POST /v1/data_sources, POST /v1/data_sources/{{id}}/query
  pages: POST /v1/pages (properties, children blocks, icon, cover), GET/PATCH /v1/pages/{{id}},
    GET /v1/pages/{{id}}/properties/{{property_id}}
  page content: GET/PATCH/DELETE /v1/blocks/{{id}}, GET /v1/blocks/{{id}}/children (paged),
    PATCH /v1/blocks/{{id}}/children (at most 100 blocks, two levels of nesting, after/position)
  users: GET /v1/users (seeded people and the bot, paged), GET /v1/users/{{id}}, GET /v1/users/me
  search: POST /v1/search

Late commits are fault rules: {{"commit_then": 504, "commit_delay_ms": 3000}} (POST /_sandbox/faults).
The admin API lives under /_sandbox/ (PUT /_sandbox/users replaces the people; see docs/sandbox.md).
"""


@click.group()
def sandbox() -> None:
    """Run the local Notion-compatible sandbox and PlanX stand-in.

    \b
    Example:
      reconcile sandbox serve --seed planx --port 8787
    """


@sandbox.command("serve", help=SERVE_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (loopback by default).")
@click.option("--port", default=8787, show_default=True, type=int, help="Port (0 = any free port).")
@click.option("--state", "state_file", type=click.Path(dir_okay=False), help="Keep the state in this JSON file.")
@click.option("--seed", type=click.Choice(SEEDS), default="planx", show_default=True, help="Initial content.")
@click.option("--rate-limit", type=float, default=3.0, show_default=True, help="Average requests/s per token; 0 = off.")
@click.option("--burst", type=int, default=3, show_default=True, help="Requests allowed in a burst.")
@click.option("--latency-ms", type=int, default=0, show_default=True, help="Delay added to every Notion request.")
@click.option(
    "--token",
    "tokens",
    multiple=True,
    metavar="TOKEN[:CAPS[:IDS]]",
    help="Accepted integration token (repeatable); CAPS from read,update,insert (default all); IDS the pages, "
    "databases or data sources shared with it (default the whole workspace).",
)
@click.option("--query-cap", type=int, default=10000, show_default=True, help="Results per query before truncation.")
@click.option(
    "--admin-token",
    envvar=ADMIN_TOKEN_ENV,
    show_envvar=True,
    help="Require 'Authorization: Bearer <this>' on every admin call; needed when --host is not loopback.",
)
@click.option(
    "--query-lag-ms",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Queries and search see a created, updated, trashed or restored page only this much later.",
)
@click.option(
    "--chaos",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fraction of Notion requests that get a spontaneous fault (429, HTML 502, 504, commit-then-504); "
    "overlapping writes to one object get 409.",
)
@click.option("--chaos-seed", type=int, default=0, show_default=True, help="Seed of the chaos draws.")
@click.option(
    "--chaos-max-retry-after",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="Longest Retry-After (s) of a chaos 429.",
)
@click.option(
    "--chaos-commit-delay-ms",
    type=click.IntRange(min=0),
    default=2000,
    show_default=True,
    help="How long after its 504 a chaos commit-then-504 write lands.",
)
@click.option(
    "--workspace-rpm",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Requests per minute the whole workspace may make (every token); then 429 until the minute ends. 0 = off.",
)
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
    admin_token: str | None,
    query_lag_ms: int,
    chaos: float,
    chaos_seed: int,
    chaos_max_retry_after: int,
    chaos_commit_delay_ms: int,
    workspace_rpm: int,
    print_env_only: bool,
) -> None:
    from notion_sandbox.server import SandboxServer

    try:
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
            admin_token=admin_token,
            query_lag_ms=query_lag_ms,
            chaos=chaos,
            chaos_seed=chaos_seed,
            chaos_max_retry_after=chaos_max_retry_after,
            chaos_commit_delay_ms=chaos_commit_delay_ms,
            workspace_rpm=workspace_rpm,
        )
        server.start()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    click.echo(f"# Notion sandbox listening on {server.url} (Ctrl-C to stop)")
    if admin_token:
        click.echo("# the admin API (/_sandbox/) needs the admin token")
    for name, value in server.seed_info["env"].items():
        click.echo(f"export {name}={value}")
    if print_env_only:
        server.stop()
        return
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("# stopped")
