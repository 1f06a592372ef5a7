"""`reconcile demo`: the PlanX job end to end on this machine, with no Notion account.

Starts the Notion-compatible sandbox in-process (seeded with the PlanX databases and councils, and
the bundled PlanX snapshot behind its GraphQL stand-in), runs the embedded default mappings.yaml
against it (plan, apply, a person's body edit set back, plan again), and says where everything
went. The environment comes only from the sandbox: a real NOTION_TOKEN in the shell is never used
or sent anywhere.

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
from datetime import datetime
from importlib import resources
from typing import Any

import click
import notion_client

from notion_sandbox.server import SandboxServer
from reconcile.commands.common import EXIT_ERROR, Abort, apply_progress, http_logger, render, use_color
from reconcile.config import load_config_text
from reconcile.model import Config, Plan
from reconcile.ports import Gateway
from reconcile.run import apply_run, now_utc, open_gateway, plan_run

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
    """Run the PlanX job against a local sandbox: plan, apply, set back an edit, plan again. No account needed.

    \b
    Example:
      reconcile demo
      reconcile demo --state demo-notion.json --keep-running
    """
    with ExitStack() as stack:
        sb = stack.enter_context(SandboxServer(port=0, seed="planx", rate_limit=None, state_file=state))
        env = demo_environment(sb.seed_info["env"])
        config = demo_config(env, sb.url)
        click.echo(f"Started a local Notion sandbox at {sb.url} (seeded with the PlanX Councils database).")
        click.echo(f"Config: {EMBEDDED_NAME}, {len(config.jobs[0].source.allowlist or ())} allowlisted councils.")
        second = run_job(config, sb)
        where_it_went(sb, state, second)
        if keep_running:
            serve_until_interrupted(sb, wait_until_interrupted)


def run_job(config: Config, sb: SandboxServer) -> Plan:
    """Plan, apply, set back a person's edit of a page body, and plan again; the last plan (which
    should have no changes)."""
    gateway = open_gateway(config, logger=http_logger())
    heading("1. reconcile plan: what would change")
    started = now_utc()
    first = plan_run(config, gateway, now=started)
    click.echo(render(first, "text", color=use_color()), nl=False)
    heading("2. reconcile apply --auto-approve (a sandbox: no need to ask)")
    failed = apply_and_report(config, gateway, first, started)
    heading(f"3. Someone edits the {EDITED_KEY} snapshot's body in Notion: the plan shows it")
    edit_a_body_by_hand(sb, config)
    started = now_utc()
    gateway = open_gateway(config, logger=http_logger())
    drift = plan_run(config, gateway, now=started)
    # Its warnings were shown by the first plan: only the change to set back is shown again.
    click.echo(render(dataclasses.replace(drift, diagnostics=()), "text", color=use_color()), nl=False)
    failed += apply_and_report(config, gateway, drift, started)
    heading("4. reconcile plan again: nothing left to do")
    second = plan_run(config, open_gateway(config, logger=http_logger()), now=now_utc())
    click.echo(summary_only(render(second, "text", color=use_color())))
    if failed:
        raise Abort(EXIT_ERROR)
    return second


def apply_and_report(config: Config, gateway: Gateway, plan: Plan, started: datetime) -> int:
    """Apply a plan and say how it went; how many writes failed."""
    record = apply_run(config, gateway, plan, started=started, command="demo", progress=apply_progress)
    failed = record.result.failed
    click.echo(
        f"Apply complete: {record.result.written} written, {len(failed)} failed. Run recorded in {config.run_log}."
    )
    for o in failed:
        click.echo(f"error: {o.action} {o.resource} {o.key!r} failed: {o.message}", err=True)
    return len(failed)


EDITED_KEY = "barnet"
HAND_WRITTEN = "Pre-application advice (typed in by hand)"


def edit_a_body_by_hand(sb: SandboxServer, config: Config) -> None:
    """A person adds a line to a snapshot page's body, as they would in the Notion app: through the
    API, then recorded as that person's edit (the sandbox's admin state), which Notion shows by itself."""
    env = sb.seed_info["env"]
    client = notion_client.Client(auth=env["NOTION_TOKEN"], base_url=sb.url)
    found: dict[str, Any] = client.data_sources.query(  # type: ignore[assignment]  # a sync client
        data_source_id=sb.seed_info["databases"]["services"]["data_source_id"],
        filter={"property": "ExternalCustomerID", "rich_text": {"equals": EDITED_KEY}},
    )
    pages = found["results"]
    if not pages:
        return
    page_id = pages[0]["id"]
    item = {"bulleted_list_item": {"rich_text": [{"type": "text", "text": {"content": HAND_WRITTEN}}]}}
    client.blocks.children.append(block_id=page_id, children=[item])
    state = sb.admin.state()
    state["pages"][page_id]["last_edited_by"] = sb.admin.users()[0]["id"]
    sb.admin.put_state(state)
    click.echo(f"Added \"{HAND_WRITTEN}\" to the body of the {EDITED_KEY} page (a person's edit, not the source's).")


def summary_only(rendered: str) -> str:
    """The plan's last line ("No changes. ..."); its warnings were shown by the first plan."""
    lines = [line for line in rendered.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def unlinked(plan: Plan) -> list[str]:
    return sorted({d.key for d in plan.diagnostics if d.code == "relation_target_missing" and d.key})


def where_it_went(sb: SandboxServer, state: str | None, second: Plan) -> None:
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


def serve_until_interrupted(sb: SandboxServer, wait: Callable[[], None]) -> None:
    heading("The sandbox keeps running")
    click.echo("In another shell:")
    for name, value in sb.seed_info["env"].items():
        click.echo(f"  export {name}={value}")
    click.echo("Press Ctrl-C to stop it.")
    try:
        wait()
    except KeyboardInterrupt:
        click.echo("\nSandbox stopped.")
