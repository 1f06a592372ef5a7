"""`reconcile demo`: the PlanX job end to end on this machine, with no Notion account.

Starts the Notion-compatible sandbox in-process (seeded with the PlanX databases and councils, and
the bundled PlanX snapshot behind its GraphQL stand-in), runs the embedded default mappings.yaml
against it (plan, apply, plan again), and says where everything went. The environment comes only
from the sandbox: a real NOTION_TOKEN in the shell is never used or sent anywhere.

The demo's run log is `.reconcile/demo/runs.jsonl` under the working directory, apart from the
real run log, so `reconcile history --run-log .reconcile/demo/runs.jsonl` shows the demo's runs.
"""

from __future__ import annotations

import dataclasses
import os
import textwrap
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from importlib import resources
from typing import Any

import click

from reconcile.commands.common import apply_progress
from reconcile.model import Config, Plan

__all__ = ["DEMO_RUN_LOG", "demo", "embedded_mappings_text"]

DEMO_RUN_LOG = ".reconcile/demo/runs.jsonl"
EMBEDDED_NAME = "mappings.yaml (embedded default)"
# The sandbox is local and not rate limited: the demo need not pace itself like real Notion.
DEMO_RATE_LIMIT = 50.0


def embedded_mappings_text() -> str:
    """The repository's mappings.yaml as shipped inside the package (reconcile/data)."""
    return resources.files("reconcile").joinpath("data/mappings.yaml").read_text(encoding="utf-8")


def demo_environment(seed_env: Mapping[str, str]) -> dict[str, str]:
    """The shell's environment without anything Notion's, plus the sandbox's."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("NOTION_")}
    return {**kept, **seed_env}


def demo_config(env: Mapping[str, str], base_url: str) -> Config:
    from reconcile.config import load_config_text

    config = load_config_text(embedded_mappings_text(), env, path=EMBEDDED_NAME)
    notion = dataclasses.replace(
        config.notion,
        base_url=base_url,
        rate_limit=max(config.notion.rate_limit, DEMO_RATE_LIMIT),
        burst=max(config.notion.burst, 10),
    )
    return dataclasses.replace(config, notion=notion, run_log=DEMO_RUN_LOG)


def heading(text: str) -> None:
    click.echo("\n" + click.style(f"── {text} ", bold=True) + "─" * max(0, 70 - len(text)))


def wait_until_interrupted() -> None:
    while True:
        time.sleep(3600)


@click.command()
@click.option("--state", type=click.Path(dir_okay=False), help="Keep the sandbox's data in this JSON file.")
@click.option("--keep-running", is_flag=True, help="Keep the sandbox serving afterwards (Ctrl-C stops it).")
def demo(state: str | None, keep_running: bool) -> None:
    """Run the PlanX job against a local sandbox: plan, apply, plan again. No Notion account needed.

    \b
    Example:
      reconcile demo
      reconcile demo --state demo-notion.json --keep-running
    """
    from notion_sandbox.server import SandboxServer

    with ExitStack() as stack:
        sb = stack.enter_context(SandboxServer(port=0, seed="planx", rate_limit=None, state_file=state))
        env = demo_environment(sb.seed_info["env"])
        config = demo_config(env, sb.url)
        click.echo(f"Started a local Notion sandbox at {sb.url} (seeded with the PlanX Councils database).")
        click.echo(f"Config: {EMBEDDED_NAME}, {len(config.jobs[0].source.allowlist or ())} allowlisted councils.")
        second = run_job(config, env)
        where_it_went(sb, state, second)
        if keep_running:
            serve_until_interrupted(sb, wait_until_interrupted)


def run_job(config: Config, env: Mapping[str, str]) -> Plan:
    """Plan, apply and plan again; the second plan (which should have no changes)."""
    from reconcile import cli as app
    from reconcile.pipeline import execute, make_plan

    gateway = open_demo_gateway(app, config, env)
    heading("1. reconcile plan: what would change")
    started = app.now_utc()
    run = make_plan(config, gateway, now=started)
    click.echo(app.render(run.plan, "text", color=app.use_color()), nl=False)
    heading("2. reconcile apply --auto-approve (a sandbox: no need to ask)")
    with apply_progress(len(run.plan.actions)) as progress:
        result = execute(run.plan, gateway, workers=config.notion.workers, progress=progress)
    record_demo_run(app, config, run.plan, result, gateway, started)
    ok = sum(1 for o in result.outcomes if o.status == "ok")
    click.echo(f"Apply complete: {ok} written, {len(result.failed)} failed. Run recorded in {config.run_log}.")
    for o in result.failed:
        click.echo(f"error: {o.action} {o.resource} {o.key!r} failed: {o.message}", err=True)
    heading("3. reconcile plan again: nothing left to do")
    second = make_plan(config, open_demo_gateway(app, config, env), now=app.now_utc()).plan
    click.echo(summary_only(app.render(second, "text", color=app.use_color())))
    if result.failed:
        raise app.Abort(app.EXIT_ERROR)
    return second


def open_demo_gateway(app: Any, config: Config, env: Mapping[str, str]) -> Any:
    from reconcile.notion.gateway import NotionGateway

    return NotionGateway(env["NOTION_TOKEN"], config.notion, logger=app.http_logger())


def record_demo_run(app: Any, config: Config, plan: Plan, result: Any, gateway: Any, started: Any) -> None:
    from reconcile.runlog import record_run

    record_run(
        config,
        plan,
        result,
        api_calls=gateway.counter.snapshot(),
        started=started,
        finished=app.now_utc(),
        command="demo",
    )


def summary_only(rendered: str) -> str:
    """The plan's last line ("No changes. ..."); its warnings were shown by the first plan."""
    lines = [line for line in rendered.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def unlinked(plan: Plan) -> list[str]:
    return sorted({d.key for d in plan.diagnostics if d.code == "relation_target_missing" and d.key})


def where_it_went(sb: Any, state: str | None, second: Plan) -> None:
    env = sb.seed_info["env"]
    heading("Where the data went")
    lifetime = f"its data is kept in {state}" if state else "in memory; it stops when the demo ends"
    click.echo(f"Notion sandbox:      {sb.url} ({lifetime})")
    click.echo(f"  Councils            database {env['COUNCILS_DB_ID']}")
    click.echo(f"  PlanX Live Services database {env['SERVICES_DB_ID']}")
    click.echo(f"Sandbox state file:  {state or '(none; pass --state FILE to keep the data)'}")
    click.echo(f"Run log:             {DEMO_RUN_LOG}")
    missing = unlinked(second)
    if missing:
        click.echo(f"Still unlinked:      {len(missing)} key(s) that no related page carries yet:")
        indent = " " * 21
        listed = textwrap.fill(
            ", ".join(missing), width=100, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
        )
        click.echo(listed)
    heading("Next steps")
    click.echo(f"  reconcile history --run-log {DEMO_RUN_LOG}")
    click.echo(f"  reconcile report --html demo-report.html --run-log {DEMO_RUN_LOG}")
    click.echo("  reconcile demo --keep-running   # then, in another shell, the printed exports and:")
    click.echo("      reconcile suggest-links      # propose the missing ExternalCustomerIDs")
    click.echo("  Your own workspace: create an integration, share both databases with it, set NOTION_TOKEN,")
    click.echo("  COUNCILS_DB_ID and SERVICES_DB_ID, then `reconcile plan` (see docs/operator.md).")


def serve_until_interrupted(sb: Any, wait: Callable[[], None]) -> None:
    heading("The sandbox keeps running")
    click.echo("In another shell:")
    for name, value in sb.seed_info["env"].items():
        click.echo(f"  export {name}={value}")
    click.echo("Press Ctrl-C to stop it.")
    try:
        wait()
    except KeyboardInterrupt:
        click.echo("\nSandbox stopped.")
