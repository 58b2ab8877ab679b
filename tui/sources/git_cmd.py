"""Running ``git`` for the local code source: one subprocess wrapper and its output parsers.

Every call runs ``git -C <repo>`` with ``LC_ALL=C``, no colour and no path quoting, and without
the ``GIT_DIR``-style variables a surrounding git hook may have set, so output is stable and
always about the repository asked for.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from tui.sources.base import NotFoundError, SourceError

LOG_FORMAT = "%H%x00%an%x00%ae%x00%aI%x00%cI%x00%B%x00"
"""``git log -z`` format: six NUL-terminated fields (SHA, author name and e-mail, author and
committer dates in strict ISO 8601, raw message); ``-z`` adds one more NUL between commits."""

COMMIT_FORMAT = "%H%x00%P%x00%an%x00%ae%x00%aI%x00%cI%x00%B%x00"
"""Like :data:`LOG_FORMAT` with the parents' SHAs (space-separated) as the second field."""

PATCH_MARKER = "%x01%H"
"""``git log -p`` format: a line of U+0001 and the SHA before each commit's patch (a diff line
always starts with a prefix character, so the marker cannot be mistaken for patch text)."""

_STATUS_TOKEN = re.compile(r"[ACDMRTUXB][0-9]*")
_PATCH_SPLIT = re.compile(r"(?m)^\x01([0-9a-f]{40,64})\n")

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


@dataclass(frozen=True)
class LoggedCommit:
    """One record of ``git log -z --name-status --format=COMMIT_FORMAT``."""

    sha: str
    """Full SHA."""
    parents: tuple[str, ...]
    """Parents, first parent first."""
    fields: tuple[str, str, str, str, str]
    """Author name and e-mail, author and committer dates, raw message."""
    entries: tuple[tuple[str, str], ...]
    """``(status, new path)`` of every file changed relative to the first parent."""


def parse_log_with_status(out: str) -> list[LoggedCommit]:
    """Records of ``git log -z --name-status --format=COMMIT_FORMAT``, in output order.

    Each record is seven NUL-terminated fields, then its name-status entries (a status token,
    then one path, or two for renames and copies). A status is a letter and a score, a SHA is
    40 hex digits, so an entry is never mistaken for the next record.
    """
    tokens = out.split("\0")
    records: list[LoggedCommit] = []
    index = 0
    while index + 7 <= len(tokens):
        sha = tokens[index].lstrip("\n")
        if not sha:
            break
        parents, name, email, authored, committed, message = tokens[index + 1 : index + 7]
        index += 7
        entries: list[tuple[str, str]] = []
        while index < len(tokens):
            token = tokens[index].lstrip("\n")
            if not token:
                index += 1
                continue
            if not _STATUS_TOKEN.fullmatch(token):
                break
            width = 2 if token[0] in "RC" else 1
            if index + width >= len(tokens):
                break
            entries.append((_STATUS.get(token[0], "modified"), tokens[index + width]))
            index += width + 1
        records.append(LoggedCommit(sha, tuple(parents.split()),
                                    (name, email, authored, committed, message), tuple(entries)))
    return records


def patches_by_commit(out: str) -> dict[str, str]:
    """Each commit's patch text from ``git log -p --format=PATCH_MARKER``, by SHA."""
    pieces = _PATCH_SPLIT.split(out)
    return {pieces[i]: pieces[i + 1] for i in range(1, len(pieces) - 1, 2)}


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


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End a ``cat-file --batch`` process: closing its input makes it exit."""
    if process.stdin is not None and not process.stdin.closed:
        try:
            process.stdin.close()
        except OSError:
            pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


class Git:
    """``git`` bound to one repository."""

    def __init__(self, path: Path) -> None:
        """Bind to ``path`` (not checked here).

        Args:
            path: A directory inside the repository.
        """
        self.path = path
        """Where git runs."""
        self._batch: subprocess.Popen[bytes] | None = None
        self._batch_lock = threading.Lock()

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
        command, full_env = self._command(env)
        try:
            done = subprocess.run(
                [*command, *args],
                input=input,
                capture_output=True,
                env=full_env,
                timeout=_TIMEOUT_SECONDS,
                check=False,
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

    def _command(self, env: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
        """The ``git`` command prefix and environment every call uses."""
        # The repository under investigation is untrusted: its own git config must not make git run
        # its commands (an fsmonitor hook, hooks, an external diff or textconv driver, a pager).
        command = ["git", "-c", "core.quotepath=off", "-c", "color.ui=false", "-c", "core.fsmonitor=false",
                   "-c", "core.hooksPath=/dev/null", "-c", "core.pager=cat", "-C", str(self.path)]
        inherited = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_ENV}
        return command, {**inherited, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", **(env or {})}

    def blob(self, commit: str, path: str) -> bytes | None:
        """A file's bytes at a full commit SHA, or ``None`` when it is not a file there.

        Reads go through one long-lived ``git cat-file --batch`` (a process per read costs
        milliseconds, which thousands of reads turn into seconds); a path the batch protocol
        cannot carry, or a batch process that died, falls back to one ``git cat-file`` call.
        """
        if "\n" not in path:
            with self._batch_lock:
                try:
                    return self._batch_read(f"{commit}:{path}")
                except (OSError, ValueError):
                    self._close_batch()
        return self.run_bytes("cat-file", "blob", f"{commit}:{path}", check=False)

    def _batch_read(self, spec: str) -> bytes | None:
        """One request to the batch process (started on first use); caller holds the lock."""
        if self._batch is None or self._batch.poll() is not None:
            command, env = self._command()
            self._batch = subprocess.Popen([*command, "cat-file", "--batch"], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
            # Ends with this object, or with the interpreter; never outlives either.
            weakref.finalize(self, _stop, self._batch)
        stdin, stdout = self._batch.stdin, self._batch.stdout
        assert stdin is not None and stdout is not None
        stdin.write(spec.encode("utf-8") + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3:  # "<spec> missing" or "<spec> ambiguous"
            if not header:
                raise ValueError("git cat-file --batch ended")
            return None
        size = int(header[2])
        data = stdout.read(size + 1)[:size]  # content, then a newline
        if len(data) != size:
            raise ValueError("git cat-file --batch ended early")
        return data if header[1] == b"blob" else None

    def _close_batch(self) -> None:
        if self._batch is not None:
            _stop(self._batch)
            self._batch = None

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
