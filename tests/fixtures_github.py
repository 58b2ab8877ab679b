"""pytest fixtures for the GitHub contract tests: our stateful fake GitHub behind Prism.

Register with ``pytest_plugins = ["tests.fixtures_github"]`` at the top of a test module.

``github_stack`` (session) starts ``tests/fakes/github_fake.py`` on a free port and
``prism proxy --errors`` in front of it, validating both directions against GitHub's official
description (the subset in ``$INCIDENT_TUI_SPECS/github-rest-subset.json``), then tells the fake
Prism's address so the URLs it hands out point back through the proxy. ``github`` (per test)
resets the fake to :func:`build_github_seed`, so tests that write never see each other's changes.

The seeded repository is an ads-demo-service-like history: older commits (import, Dockerfile, a
refactor of ``worker.c``), then inside the 24 hours before :data:`FIRST_OOM` two README-only
commits and the culprit, which deletes ``free(buffer);`` from the loop in ``controller()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.prism import (
    GITHUB_SPEC,
    PrismUnavailable,
    spec_path,
    fake_behind_prism,
)

FAKE_SCRIPT = Path(__file__).resolve().parent / "fakes" / "github_fake.py"
"""The fake GitHub server."""
TOKEN = "ghp_TESTTOKEN0123456789abcdefDO-NOT-LEAK"
"""A valid token (recognisable, so tests can scan messages for it)."""
OWNER, NAME = "PagerDuty", "ads-demo-service"
"""The seeded repository."""
REPOSITORY = f"{OWNER}/{NAME}"
"""``owner/name``."""
FIRST_OOM = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
"""When the worker was first OOM-killed: the end of the investigation window."""
CULPRIT_MESSAGE = "tidy up worker loop"
"""The culprit's (unhelpful) commit message."""
README_MESSAGES = ("docs: describe WORKER_INTERVAL_MS", "docs: fix typo in README")
"""The two README-only commits inside the window, oldest first."""
PREEXISTING_BRANCH_INCIDENT = "Q0BRANCHONLY01"
"""An incident whose fix branch already exists, with no pull request."""
MANIFEST_PATH = "deploy/worker-deployment.yaml"
"""A file in a subdirectory (its path has a slash, which the contents API must escape)."""
MANIFEST = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker-deployment\n"
"""Its text."""

_FILES = Path(__file__).resolve().parent.parent / "tui" / "sources" / "demo" / "files"
WORKER_INITIAL = (_FILES / "worker_initial.c").read_text(encoding="utf-8")
"""``worker.c`` as first imported."""
WORKER_FIXED = (_FILES / "worker.c").read_text(encoding="utf-8")
"""``worker.c`` after the refactor: frees its buffer every iteration."""
WORKER_LEAKY = WORKER_FIXED.replace("        free(buffer);\n", "", 1)
"""``worker.c`` after the culprit: the free is gone."""
assert WORKER_LEAKY != WORKER_FIXED, "the demo worker.c no longer contains '        free(buffer);'"

_PRIYA = ("Priya Raman", "priya.raman@ads-demo.example.com")
_MARCUS = ("Marcus Oyelaran", "marcus.oyelaran@ads-demo.example.com")
_AIKO = ("Aiko Tanaka", "aiko.tanaka@ads-demo.example.com")


def iso(at: datetime) -> str:
    """GitHub's timestamp format."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_github_seed() -> dict[str, Any]:
    """The repository the GitHub fake serves (its JSON seed); commits are listed oldest first."""
    ago = lambda **delta: iso(FIRST_OOM - timedelta(**delta))
    readme = "# ads-demo-service\n\nA worker that processes ad events.\n"
    commit = lambda message, who, at, files, authored=None: {
        "message": message, "author": who, "authored": authored or at, "committed": at, "files": files}
    history = [
        commit("Import ads-demo-service", _PRIYA, ago(days=10), {"README.md": readme, "worker.c": WORKER_INITIAL}),
        commit("Add Dockerfile and manifest", _PRIYA, ago(days=9),
               {"Dockerfile": "FROM gcc:12\nCOPY worker.c .\n", MANIFEST_PATH: MANIFEST}),
        commit("Refactor worker loop into process_work_item", _MARCUS, ago(hours=30), {"worker.c": WORKER_FIXED}),
        commit(README_MESSAGES[0], _AIKO, ago(hours=5), {"README.md": readme + "\nSet WORKER_INTERVAL_MS.\n"}),
        commit(README_MESSAGES[1], _AIKO, ago(hours=3),
               {"README.md": readme.replace("processes", "handles") + "\nSet WORKER_INTERVAL_MS.\n"}),
        # Authored two days ago, committed (landed) 57 minutes before the OOM: the window is by committer date.
        commit(CULPRIT_MESSAGE, _MARCUS, ago(minutes=57), {"worker.c": WORKER_LEAKY}, authored=ago(days=2)),
    ]
    merged = lambda number, title, head, at, sha=None: {
        "number": number, "title": title, "body": f"{title}.", "head": head, "base": "main", "state": "closed",
        "created_at": at, "merged_at": at, "closed_at": at, "merge_commit_sha": sha}
    pulls = [merged(n, f"old change {n}", f"old-{n}", ago(days=20 - n)) for n in range(1, 8)]
    pulls += [
        merged(30, "Refactor worker loop", "refactor-loop", ago(hours=30), 2),
        merged(40, "Document WORKER_INTERVAL_MS", "docs-interval", ago(hours=5), 3),
        {"number": 41, "title": "Try a bigger buffer", "body": "abandoned", "head": "bigger-buffer", "base": "main",
         "state": "closed", "created_at": ago(hours=6), "closed_at": ago(hours=2), "merged_at": None,
         "merge_commit_sha": None},
        merged(42, "Tidy up worker loop", "tidy-loop", ago(minutes=57), 5),
        {"number": 43, "title": "WIP: metrics", "body": None, "head": "metrics", "base": "main", "state": "open",
         "created_at": ago(minutes=30), "head_sha": 4},
    ]
    return {
        "owner": OWNER, "name": NAME, "default_branch": "main",
        "tokens": {TOKEN: {"login": "incident-bot", "id": 9001, "name": "incident-bot",
                           "email": "incident-bot@ads-demo.example.com"}},
        "history": history,
        "branches": {f"incident/{PREEXISTING_BRANCH_INCIDENT}-fix": 4, "metrics": 4},
        "pulls": pulls,
        "deployments": [
            {"id": 101, "sha": 2, "environment": "production", "created_at": ago(hours=29)},
            {"id": 102, "sha": 5, "environment": "production", "created_at": ago(minutes=50)},
            {"id": 103, "sha": 5, "environment": "staging", "created_at": ago(minutes=55)},
        ],
    }


@dataclass(frozen=True)
class GitHubStack:
    """The running fake and the Prism proxy in front of it."""

    url: str
    """Prism's base URL: what the client under test talks to."""
    fake_url: str
    """The fake's own base URL, for ``/__control``, ``/__requests`` and ``/__refs`` (never through Prism)."""
    prism_log: Path
    """Prism's output."""

    def control(self, **command: Any) -> None:
        """Send a ``/__control`` command to the fake (reset, public_url, fail)."""
        httpx.post(f"{self.fake_url}/__control", json=command, timeout=10).raise_for_status()

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """What the fake received (after Prism), oldest first, optionally filtered."""
        rows = httpx.get(f"{self.fake_url}/__requests", timeout=10).json()["requests"]
        return [r for r in rows if (method is None or r["method"] == method) and (path is None or r["path"] == path)]

    def refs(self) -> dict[str, str]:
        """The fake repository's refs, ``refs/heads/<name>`` -> SHA."""
        return httpx.get(f"{self.fake_url}/__refs", timeout=10).json()["refs"]

    def sha_of(self, message: str) -> str:
        """The SHA of the seeded commit with this message."""
        commits = httpx.get(f"{self.fake_url}/__refs", timeout=10).json()["commits"]
        return next(c["sha"] for c in commits if c["message"] == message)


@pytest.fixture(scope="session")
def github_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHubStack]:
    """The GitHub fake behind Prism for the whole session; skipped when the spec is absent."""
    try:
        spec = spec_path(GITHUB_SPEC)
    except PrismUnavailable as error:
        pytest.skip(str(error))
    work = tmp_path_factory.mktemp("github-live")
    with fake_behind_prism(FAKE_SCRIPT, build_github_seed(), spec, work) as (url, fake_url):
        stack = GitHubStack(url=url, fake_url=fake_url, prism_log=work / "prism.log")
        # Prism rewrites Host to the fake's address: tell the fake where clients really are.
        stack.control(public_url=url)
        yield stack


@pytest.fixture
def github(github_stack: GitHubStack) -> GitHubStack:
    """The stack, with the fake back at its seed and its request log empty."""
    github_stack.control(reset=True)
    return github_stack
