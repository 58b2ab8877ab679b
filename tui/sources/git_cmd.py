"""Running ``git`` for the local code source: one subprocess wrapper and its output parsers.

Every call runs ``git -C <repo>`` with ``LC_ALL=C``, no colour and no path quoting, and without
the ``GIT_DIR``-style variables a surrounding git hook may have set, so output is stable and
always about the repository asked for.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from tui.sources.base import NotFoundError, SourceError

LOG_FORMAT = "%H%x00%an%x00%ae%x00%aI%x00%cI%x00%B%x00"
"""``git log -z`` format: six NUL-terminated fields (SHA, author name and e-mail, author and
committer dates in strict ISO 8601, raw message); ``-z`` adds one more NUL between commits."""

_REPOSITORY_ENV = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_COMMON_DIR",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_NAMESPACE",
    }
)
"""Variables that would point git at another repository or index (set inside git hooks)."""

_STATUS = {
    "A": "added",
    "C": "added",
    "D": "removed",
    "R": "renamed",
    "M": "modified",
    "T": "modified",
}
"""``--name-status`` letters to :attr:`analysis.model.FileChange.status` values."""

_TIMEOUT_SECONDS = 120
"""Longest a single git command may run; a hung credential helper must not hang a worker."""


def utc(moment: datetime) -> datetime:
    """Make a datetime tz-aware UTC (naive values are taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def git_date(moment: datetime) -> str:
    """A date ``git log --since``/``--until`` parse unambiguously."""
    return f"{utc(moment):%Y-%m-%d %H:%M:%S} +0000"


def parse_iso(text: str) -> datetime:
    """A strict ISO 8601 date from git (``%aI``/``%cI``) as UTC."""
    return utc(datetime.fromisoformat(text))


def split_message(message: str) -> tuple[str, str]:
    """Subject and body of a commit message."""
    subject, _, body = message.strip().partition("\n")
    return subject.strip(), body.strip()


def parse_log(out: str) -> list[list[str]]:
    """Records of ``git log -z --format=LOG_FORMAT``: six fields each.

    Splitting on NUL gives the six fields, then the empty string of the separator; a SHA is
    never empty, so an empty first field marks the end.
    """
    tokens = out.split("\0")
    records, index = [], 0
    while index + 6 <= len(tokens) and tokens[index]:
        records.append(tokens[index : index + 6])
        index += 7
    return records


def parse_name_status(out: str) -> list[tuple[str, str]]:
    """``(status, new path)`` from ``git diff-tree -z --name-status``."""
    tokens = out.split("\0")
    entries: list[tuple[str, str]] = []
    index = 0
    while index < len(tokens) and tokens[index]:
        letter = tokens[index][0]
        width = 2 if letter in "RC" else 1  # renames and copies list the old and the new path
        entries.append((_STATUS.get(letter, "modified"), tokens[index + width]))
        index += width + 1
    return entries


def hunks_by_file(patch_out: str, count: int) -> list[str]:
    """Split ``git diff-tree -p`` output into per-file hunk text (from the first ``@@``).

    Args:
        patch_out: The whole patch output.
        count: How many files ``--name-status`` listed, in the same order.

    Returns:
        ``count`` patches, ``""`` for binary or mode-only changes; all empty if the sections
        cannot be paired with the file list (never seen, but never mis-attributed either).
    """
    sections = [
        s for s in re.split(r"(?m)^(?=diff --git )", patch_out) if s.startswith("diff --git ")
    ]
    if len(sections) != count:
        return [""] * count
    out = []
    for section in sections:
        start = section.find("\n@@")
        out.append(section[start + 1 :] if start >= 0 else "")
    return out


class Git:
    """``git`` bound to one repository."""

    def __init__(self, path: Path) -> None:
        """Bind to ``path`` (not checked here).

        Args:
            path: A directory inside the repository.
        """
        self.path = path
        """Where git runs."""

    def run_bytes(
        self,
        *args: str,
        input: bytes | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
    ) -> bytes | None:
        """Run a git command; its stdout, or ``None`` on failure when ``check`` is false.

        Raises:
            SourceError: git failed (with ``check``), timed out or is not installed.
        """
        # The repository under investigation is untrusted: its own git config must not make git run
        # its commands (an fsmonitor hook, hooks, an external diff or textconv driver, a pager).
        command = ["git", "-c", "core.quotepath=off", "-c", "color.ui=false", "-c", "core.fsmonitor=false",
                   "-c", "core.hooksPath=/dev/null", "-c", "core.pager=cat", "-C", str(self.path)]
        inherited = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_ENV}
        full_env = {**inherited, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", **(env or {})}
        try:
            done = subprocess.run(
                [*command, *args],
                input=input,
                capture_output=True,
                env=full_env,
                timeout=_TIMEOUT_SECONDS,
            )
        except FileNotFoundError as error:
            raise SourceError("git is not installed (no `git` on PATH)") from error
        except subprocess.TimeoutExpired as error:
            raise SourceError(f"git {args[0]} timed out in {self.path}") from error
        if done.returncode != 0:
            if not check:
                return None
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            detail = lines[-1] if lines else f"exit status {done.returncode}"
            raise SourceError(f"git {args[0]} failed in {self.path}: {detail}")
        return done.stdout

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
    ) -> str | None:
        """Like :meth:`run_bytes`, decoded as UTF-8 (invalid bytes replaced)."""
        out = self.run_bytes(*args, input=input, env=env, check=check)
        return None if out is None else out.decode("utf-8", "replace")

    def text(
        self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None
    ) -> str:
        """Run a command that must succeed; its stripped stdout."""
        return (self.run(*args, input=input, env=env) or "").strip()

    def resolve(self, rev: str) -> str:
        """The full SHA of a commit-ish.

        Raises:
            NotFoundError: No such commit.
        """
        if not rev or rev.startswith("-"):
            raise NotFoundError(f"{rev!r} is not a commit")
        out = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        if not out:
            raise NotFoundError(f"unknown commit {rev!r} in {self.path}")
        return out.strip()

    def branch_tip(self, branch: str) -> str | None:
        """The SHA a local branch points at, or ``None`` when it does not exist."""
        ref = f"refs/heads/{branch}^{{commit}}"
        out = self.run("rev-parse", "--verify", "--quiet", ref, check=False)
        return out.strip() if out else None

    def parents(self, sha: str) -> list[str]:
        """A commit's parents, first parent first."""
        return self.text("rev-list", "--parents", "-n", "1", sha, "--").split()[1:]

    def config(self, key: str) -> str | None:
        """A git config value, or ``None`` when unset."""
        out = self.run("config", "--get", key, check=False)
        return out.strip() if out and out.strip() else None
