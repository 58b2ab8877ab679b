"""Build the demo's git repository: a local stand-in for PagerDuty's ads-demo-service.

The history is realistic and nothing more: a few older commits (import, Dockerfile, manifest, a
refactor of ``worker.c``), then, inside the last 24 hours, two README-only commits and one commit
with an unhelpful message that deletes ``free(buffer);`` from the loop in ``controller()``. That
last commit is the tip of ``main`` and therefore what is deployed. Finding it is the dashboard's job;
no marker in the repository says which commit is to blame.

Every git call runs with a private environment (no global or system config, explicit authors,
dates and ``init.defaultBranch``) so the result does not depend on the machine's git setup.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

from tui.sources.base import SourceError

DEFAULT_BRANCH = "main"
"""The branch the demo deploys from."""

MANIFEST_NAME = "incident-tui-demo.json"
"""Bookkeeping file kept inside ``.git`` (never committed) to decide whether to reuse a repo."""

MANIFEST_VERSION = 1
"""Bump when the generated history changes shape, so old demo repositories are rebuilt."""

MAX_REUSE_AGE = timedelta(hours=6)
"""A repo built longer ago than this is rebuilt, so "committed 57 minutes ago" stays true."""


@dataclass(frozen=True)
class DemoRepository:
    """The demo repository, ready to be read by a code source."""

    path: Path
    """Working tree of the repository."""
    default_branch: str
    """Branch deployments come from (``main``)."""
    deployed_sha: str
    """The commit currently deployed: the tip of the default branch."""
    created: bool = False
    """True when this call built the repository, False when an existing one was reused."""


@dataclass(frozen=True)
class _Author:
    name: str
    email: str


_PRIYA = _Author("Priya Raman", "priya.raman@ads-demo.example.com")
_MARCUS = _Author("Marcus Oyelaran", "marcus.oyelaran@ads-demo.example.com")
_JONAS = _Author("Jonas Becker", "jonas.becker@ads-demo.example.com")
_AIKO = _Author("Aiko Tanaka", "aiko.tanaka@ads-demo.example.com")
_DEV = _Author("Dev Patel", "dev.patel@ads-demo.example.com")


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for git that ignores the user's and the system's configuration.

    Args:
        extra: Variables to add (author, committer, dates).

    Returns:
        A copy of ``os.environ`` with git isolated from global config and prompts.
    """
    env = dict(os.environ)
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
        }
    )
    if extra:
        env.update(extra)
    return env


def run_git(
    repo: Path, args: Sequence[str], *, env: Mapping[str, str] | None = None, check: bool = True
) -> str:
    """Run a git command in ``repo`` and return its stripped stdout.

    Args:
        repo: Repository working tree (passed as ``-C``).
        args: Git arguments after the global options.
        env: Extra environment variables.
        check: Raise on a non-zero exit status.

    Returns:
        Standard output without the trailing newline.

    Raises:
        SourceError: When git fails and ``check`` is true, with git's message.
    """
    cmd = ["git", "-C", str(repo), "-c", f"init.defaultBranch={DEFAULT_BRANCH}",
           "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", *args]
    proc = subprocess.run(cmd, env=git_env(env), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise SourceError(f"git {' '.join(args[:2])} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.rstrip("\n")


def _template(name: str) -> str:
    return (resources.files("tui.sources.demo") / "files" / name).read_text(encoding="utf-8")


def _without_free_in_controller(source: str) -> str:
    """The culprit's edit: drop the ``free(buffer);`` line inside ``controller()``."""
    head, sep, body = source.partition("void controller() {")
    if not sep:
        raise SourceError("worker.c template has no controller()")
    lines = body.splitlines(keepends=True)
    kept = [line for line in lines if line.strip() != "free(buffer);"]
    if len(kept) != len(lines) - 1:
        raise SourceError("worker.c template's controller() must free(buffer) exactly once")
    return head + sep + "".join(kept)


def _commit(
    repo: Path, author: _Author, at: datetime, message: str, files: Mapping[str, str]
) -> str:
    for rel, text in files.items():
        target = repo / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    run_git(repo, ["add", "--", *files])
    stamp = at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")
    env = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_NAME": author.name,
        "GIT_COMMITTER_EMAIL": author.email,
        "GIT_COMMITTER_DATE": stamp,
    }
    run_git(repo, ["commit", "--quiet", "--no-verify", "-m", message], env=env)
    return run_git(repo, ["rev-parse", "HEAD"])


def _manifest_path(path: Path) -> Path:
    return path / ".git" / MANIFEST_NAME


def _reusable(path: Path, now: datetime) -> str | None:
    """The tip of ``main`` if the repo at ``path`` is one we built, untouched and recent enough."""
    try:
        manifest = json.loads(_manifest_path(path).read_text(encoding="utf-8"))
        built_at = datetime.fromisoformat(manifest["built_at"])
        tip = run_git(path, ["rev-parse", "--verify", f"refs/heads/{DEFAULT_BRANCH}"])
        run_git(path, ["cat-file", "-e", f"{tip}:worker.c"])
    except (OSError, ValueError, KeyError, SourceError):
        return None
    if manifest.get("version") != MANIFEST_VERSION or manifest.get("head") != tip:
        # Someone (a previous demo run's merge) moved main: rebuild so the story can replay.
        return None
    if not timedelta(0) <= now - built_at <= MAX_REUSE_AGE:
        return None
    return tip


def build_demo_repository(path: Path, now: datetime) -> DemoRepository:
    """Create the demo repository at ``path``, or reuse the one already there.

    An existing repository is reused when this function built it, ``main`` has not moved since and
    it was built less than :data:`MAX_REUSE_AGE` before ``now``; otherwise ``path`` is replaced.

    Args:
        path: Directory for the working tree (created if missing).
        now: The demo's "now"; commit dates are placed relative to it. Must be timezone-aware.

    Returns:
        The repository, with the tip of ``main`` as the deployed commit.

    Raises:
        SourceError: When git is missing or a git command fails.
        ValueError: When ``now`` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if shutil.which("git") is None:
        raise SourceError("the demo needs git on PATH to build its repository")
    path = Path(path)
    tip = _reusable(path, now) if path.exists() else None
    if tip is not None:
        return DemoRepository(path=path, default_branch=DEFAULT_BRANCH, deployed_sha=tip)

    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    run_git(path, ["init", "--quiet", f"--initial-branch={DEFAULT_BRANCH}"])

    clean = _template("worker.c")
    readme = _template("README.md")
    _commit(path, _PRIYA, now - timedelta(days=14, hours=3, minutes=12),
            "Initial import of the ads worker",
            {"worker.c": _template("worker_initial.c"), "README.md": readme})
    _commit(path, _MARCUS, now - timedelta(days=13, hours=5, minutes=40),
            "Add Dockerfile for the worker image", {"Dockerfile": _template("Dockerfile")})
    _commit(path, _PRIYA, now - timedelta(days=12, hours=1, minutes=5),
            "Add Kubernetes deployment with resource limits",
            {"infra/kubernetes/deployment.yaml": _template("deployment.yaml")})
    _commit(path, _JONAS, now - timedelta(days=6, hours=2, minutes=27),
            "Split work item handling out of process_work\n\n"
            "process_work only touches the buffer now; printing moves to process_work_item\n"
            "so it can grow into real item handling.",
            {"worker.c": clean})
    readme += _template("README_run.md")
    _commit(path, _AIKO, now - timedelta(hours=19, minutes=48),
            "docs: add local run instructions", {"README.md": readme})
    readme += _template("README_limits.md")
    _commit(path, _MARCUS, now - timedelta(hours=4, minutes=16),
            "docs: document resource limits", {"README.md": readme})
    tip = _commit(path, _DEV, now - timedelta(minutes=57),
                  "tidy up controller loop", {"worker.c": _without_free_in_controller(clean)})

    manifest = {"version": MANIFEST_VERSION, "built_at": now.isoformat(), "head": tip}
    _manifest_path(path).write_text(json.dumps(manifest), encoding="utf-8")
    return DemoRepository(path=path, default_branch=DEFAULT_BRANCH, deployed_sha=tip, created=True)
