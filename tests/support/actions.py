"""Run a GitHub Actions workflow's shell steps on this machine, as the runner would.

Each `run:` script is executed with `bash --noprofile --norc -eo pipefail` (the runner's default
shell) in a workspace directory, with the job's and the step's `env:` (their `${{ }}` expressions
evaluated against the secrets, variables and event the test gives), `$GITHUB_OUTPUT`,
`$GITHUB_STEP_SUMMARY` and a step's `if:` honoured. `uses:` steps (checkout, setup-python,
upload-artifact) are the test's business: it prepares the workspace itself.

`gh` is replaced by a fake on PATH that records every call and keeps the pull request's comments
in a JSON file, answering the REST routes the workflows use (list, create, edit, delete).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
STEP_TIMEOUT_S = 120


class Context(dict[str, Any]):
    """An expression context: `a.b.c` reads nested keys; a missing one is '' (GitHub's null compares so)."""

    def __getattr__(self, name: str) -> Any:
        value = self.get(name, "")
        return Context(value) if isinstance(value, dict) else value


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """The subset of GitHub's expression language the workflows use: paths, '', ||, &&, ==, !=, always()."""
    python = expression.replace("&&", " and ").replace("||", " or ").replace("!", " not ").replace(" not =", " !=")
    python = re.sub(r"\b(always|success|failure|cancelled)\(\)", r"__\1", python)
    names = {key: Context(value) if isinstance(value, dict) else value for key, value in context.items()}
    return eval(python, {"__builtins__": {}}, names)  # the workflows in this repository only


def interpolate(text: str, context: dict[str, Any]) -> str:
    return EXPRESSION.sub(lambda m: str(evaluate(m.group(1), context)), text)


@dataclass
class StepResult:
    name: str
    ran: bool
    code: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobResult:
    steps: list[StepResult]
    summary: str

    @property
    def failed(self) -> bool:
        return any(s.ran and s.code != 0 for s in self.steps)

    def step(self, prefix: str) -> StepResult:
        [found] = [s for s in self.steps if s.name.startswith(prefix)]
        return found

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps)


@dataclass
class Runner:
    """One job of a workflow file, run in `workspace` with `bin_dir` first on PATH."""

    workflow: Path
    workspace: Path
    bin_dir: Path
    secrets: dict[str, str] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    github: dict[str, Any] = field(default_factory=dict)
    base_env: dict[str, str] = field(default_factory=dict)
    skip_install: bool = True

    def run(self) -> JobResult:
        document = yaml.safe_load(self.workflow.read_text(encoding="utf-8"))
        [job] = document["jobs"].values()
        context: dict[str, Any] = {"secrets": self.secrets, "vars": self.vars, "github": self.github, "steps": {}}
        job_env = {k: interpolate(str(v), context) for k, v in (job.get("env") or {}).items()}
        summary = self.workspace / "step-summary.md"
        summary.write_text("", encoding="utf-8")
        results: list[StepResult] = []
        for index, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or f"step {index}"
            if "run" not in step or (self.skip_install and "pip install" in step["run"]):
                results.append(StepResult(name, ran=False))
                continue
            failed = any(r.ran and r.code != 0 for r in results)
            condition = str(step.get("if", "success()")).replace("${{", "").replace("}}", "")
            context["__always"] = True
            context["__success"] = not failed
            context["__failure"] = failed
            context["__cancelled"] = False
            if not evaluate(condition, context):
                results.append(StepResult(name, ran=False))
                continue
            step_env = {k: interpolate(str(v), context) for k, v in (step.get("env") or {}).items()}
            result = self.run_script(name, step["run"], {**job_env, **step_env}, summary)
            results.append(result)
            if "id" in step:
                outcome = "failure" if result.code else "success"
                context["steps"][step["id"]] = {"outputs": result.outputs, "outcome": outcome}
        return JobResult(results, summary.read_text(encoding="utf-8"))

    def run_script(self, name: str, script: str, env: dict[str, str], summary: Path) -> StepResult:
        outputs = self.workspace / ".github-output"
        outputs.write_text("", encoding="utf-8")
        script_path = self.workspace / ".step.sh"
        script_path.write_text(script, encoding="utf-8")
        full_env = {
            **self.base_env,
            "PATH": f"{self.bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.workspace.parent),
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(outputs),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_REPOSITORY": str(self.github.get("repository", "")),
            "GITHUB_RUN_ID": str(self.github.get("run_id", "")),
            **env,
        }
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_path)],
            cwd=self.workspace,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_S,
        )
        return StepResult(name, True, proc.returncode, proc.stdout, proc.stderr, read_outputs(outputs))


def read_outputs(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)
    return {k: v for k, v in pairs}


# ── the fake `gh` ────────────────────────────────────────────────────────────────────────────────

GH_FAKE = textwrap.dedent(
    '''\
    #!{python}
    """A fake `gh api` for the workflow tests: records the call, answers from comments.json."""
    import json, re, sys
    from pathlib import Path

    state_dir = Path({state_dir!r})
    args = sys.argv[1:]
    record = {{"args": args}}
    body = None
    for i, a in enumerate(args):
        if a in ("-F", "--field") and args[i + 1].startswith("body=@"):
            body = Path(args[i + 1][len("body=@"):]).read_text(encoding="utf-8")
    record["body"] = body
    with (state_dir / "gh-calls.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\\n")
    if not args or args[0] != "api":
        sys.exit("fake gh: only `gh api` is supported, got " + " ".join(args))
    method = "GET"
    if "--method" in args:
        method = args[args.index("--method") + 1]
    path = next(a for a in args[1:] if a.startswith("repos/"))
    store = state_dir / "comments.json"
    comments = json.loads(store.read_text(encoding="utf-8")) if store.exists() else []
    listing = re.fullmatch(r"repos/[^/]+/[^/]+/issues/(\\d+)/comments(\\?.*)?", path)
    one = re.fullmatch(r"repos/[^/]+/[^/]+/issues/comments/(\\d+)", path)
    if listing and method == "GET":
        print(json.dumps(comments))
    elif listing and method == "POST":
        new_id = max([c["id"] for c in comments] + [1000]) + 1
        comments.append({{"id": new_id, "body": body, "user": {{"login": "github-actions[bot]", "type": "Bot"}}}})
        print(json.dumps(comments[-1]))
    elif one and method == "PATCH":
        [c] = [c for c in comments if c["id"] == int(one.group(1))]
        c["body"] = body
        print(json.dumps(c))
    elif one and method == "DELETE":
        comments = [c for c in comments if c["id"] != int(one.group(1))]
    else:
        sys.exit(f"fake gh: no route {{method}} {{path}}")
    store.write_text(json.dumps(comments), encoding="utf-8")
    '''
)


@dataclass
class FakeGitHub:
    state_dir: Path

    def install(self, bin_dir: Path) -> None:
        gh = bin_dir / "gh"
        gh.write_text(GH_FAKE.format(python=sys.executable, state_dir=str(self.state_dir)), encoding="utf-8")
        gh.chmod(0o755)

    def comments(self) -> list[dict[str, Any]]:
        store = self.state_dir / "comments.json"
        return json.loads(store.read_text(encoding="utf-8")) if store.exists() else []

    def set_comments(self, comments: list[dict[str, Any]]) -> None:
        (self.state_dir / "comments.json").write_text(json.dumps(comments), encoding="utf-8")

    def calls(self) -> list[dict[str, Any]]:
        log = self.state_dir / "gh-calls.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]

    def methods(self) -> list[str]:
        """The HTTP method of every call, in order (GET when none was given)."""
        out = []
        for call in self.calls():
            args = call["args"]
            out.append(args[args.index("--method") + 1] if "--method" in args else "GET")
        return out


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def checkout(tmp: Path, files: dict[str, str]) -> tuple[Path, Path]:
    """A bare `origin` and a clone of it holding `files` on main: what actions/checkout leaves."""
    origin = tmp / "origin.git"
    git(tmp, "init", "-q", "--bare", "-b", "main", str(origin))
    workspace = tmp / "workspace"
    git(tmp, "clone", "-q", str(origin), str(workspace))
    git(workspace, "checkout", "-q", "-b", "main")
    for name, text in files.items():
        (workspace / name).write_text(text, encoding="utf-8")
    git(workspace, "add", ".")
    git(workspace, "commit", "-q", "-m", "initial")
    git(workspace, "push", "-q", "origin", "main")
    return origin, workspace
