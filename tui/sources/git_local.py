"""A :class:`~tui.sources.base.CodeSource` over a local git repository, through ``git`` itself.

Reads use porcelain commands with machine formats (NUL-separated fields, ISO dates, no colour,
no path quoting, ``LC_ALL=C``). The fix PR is built with plumbing only: the patched file becomes a
blob, a throw-away index builds a tree from the default branch's tree plus that blob, a commit is
written on top of the default branch's tip and ``refs/heads/incident/<id>-fix`` is created only if
it does not exist yet. The working tree, the index, ``HEAD`` and the default branch never change,
so this is safe to run in a checkout someone is working in.

A local repository has no pull requests, so a
:class:`~tui.sources.pr_registry.PullRequestRegistry` numbers them: an in-memory one for tests and
the CLI, the demo's persistent store in the demo.
"""

from __future__ import annotations

import re
import tempfile
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from os import PathLike
from pathlib import Path, PurePosixPath

from analysis.diffs import changed_lines
from analysis.model import Commit, FileChange, Fix, Incident, PullRequest
from tui.sources.base import NotFoundError, SourceError
from tui.sources.git_cmd import (
    COMMIT_FORMAT,
    LOG_FORMAT,
    PATCH_MARKER,
    Git,
    LoggedCommit,
    git_date,
    hunks_by_file,
    parse_iso,
    parse_log,
    parse_log_with_status,
    patches_by_commit,
    split_message,
    utc,
)
from tui.sources.pr_registry import (
    InMemoryPullRequestRegistry,
    ListablePullRequestRegistry,
    PullRequestRegistry,
)

DEFAULT_IDENTITY = ("incident-tui", "incident-tui@localhost")
"""Author and committer of fix commits when the repository's git config names nobody."""

_WALK_SLACK = timedelta(days=1)
"""``git log --since`` stops walking at the first older commit; a day of slack tolerates clock skew
between commits, and the exact window is applied afterwards in Python."""

_GITHUB_MERGE = re.compile(r"^Merge pull request #(\d+) from (\S+)")
_INCIDENT_BRANCH = re.compile(r"incident/([^\s'\"]+)-fix")
_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_REMOTE = re.compile(r"(?:[:/])([^/:]+)/([^/]+?)(?:\.git)?/?$")


class LocalGitCodeSource:
    """Commits, files and fix PRs of a git repository on this machine."""

    def __init__(
        self,
        path: str | PathLike[str],
        default_branch: str = "main",
        pr_registry: PullRequestRegistry | None = None,
        build_globs: tuple[str, ...] = ("*.c",),
    ) -> None:
        """Open a repository.

        Args:
            path: The repository's work tree (or any directory in it), or a bare repository.
            default_branch: The branch deployments come from.
            pr_registry: Where fix PRs are numbered; a fresh in-memory one when ``None``.
            build_globs: Globs of files compiled into the workload, for callers that rank commits.

        Raises:
            SourceError: ``path`` is not a directory in a git repository, or git is missing.
        """
        self._path = Path(path).expanduser()
        self._git = Git(self._path)
        self._branch = default_branch
        self._registry: PullRequestRegistry = pr_registry or InMemoryPullRequestRegistry()
        self.build_globs = tuple(build_globs)
        """Globs of files compiled into the workload."""
        self._lock = threading.Lock()
        # Commits never change: their parents and full SHAs are remembered once read.
        self._parents: dict[str, tuple[str, ...]] = {}
        self._resolved: dict[str, str] = {}
        if not self._path.is_dir():
            raise SourceError(f"{self._path} is not a directory")
        if self._git.run("rev-parse", "--git-dir", check=False) is None:
            raise SourceError(f"{self._path} is not a git repository")
        self._repository = self._label()

    def _label(self) -> str:
        """``owner/name`` from the ``origin`` remote, else ``local/<directory>``."""
        match = _REMOTE.search(self._git.config("remote.origin.url") or "")
        if match:
            return f"{match.group(1)}/{match.group(2)}"
        top = self._git.run("rev-parse", "--show-toplevel", check=False)
        return f"local/{Path(top.strip()).name if top else self._path.resolve().name}"

    # -- CodeSource ---------------------------------------------------------------------------

    @property
    def repository(self) -> str:
        """``owner/name`` of the ``origin`` remote, or ``local/<directory>``."""
        return self._repository

    @property
    def default_branch(self) -> str:
        """The branch deployments come from."""
        return self._branch

    def _log(self, since: datetime, until: datetime, *extra: str) -> list[list[str]]:
        """First-parent commits of the default branch around the window, as LOG_FORMAT fields."""
        tip = self._git.branch_tip(self._branch)
        if tip is None:
            raise NotFoundError(f"branch {self._branch!r} does not exist in {self._path}")
        return parse_log(
            self._git.run(
                "log",
                "-z",
                "--first-parent",
                *extra,
                f"--format={LOG_FORMAT}",
                f"--since={git_date(since - _WALK_SLACK)}",
                f"--until={git_date(until)}",
                tip,
                "--",
            )
            or ""
        )

    def commits(self, since: datetime, until: datetime) -> list[Commit]:
        """Commits on the default branch committed in ``[since, until]``, newest first, with files.

        Two ``git log`` calls cover the whole window, however many commits it holds: one for the
        metadata, parents and changed files, one for the patches.

        Raises:
            NotFoundError: The default branch does not exist.
            SourceError: git failed.
        """
        since, until = utc(since), utc(until)
        tip = self._git.branch_tip(self._branch)
        if tip is None:
            raise NotFoundError(f"branch {self._branch!r} does not exist in {self._path}")
        # Every commit is diffed against its first parent (a root against the empty tree), as
        # `git diff-tree <parent> <sha>` would; signatures and external drivers stay off.
        walk = ("--first-parent", "--diff-merges=first-parent", "--root", "-M", "--no-show-signature",
                f"--since={git_date(since - _WALK_SLACK)}", f"--until={git_date(until)}")
        logged = parse_log_with_status(self._git.run(
            "log", "-z", *walk, "--name-status", f"--format={COMMIT_FORMAT}", tip, "--") or "")
        in_window = [record for record in logged if since <= parse_iso(record.fields[3]) <= until]
        patches = patches_by_commit(self._git.run(
            "log", *walk, "-p", "--no-color", "--no-ext-diff", "--no-textconv",
            f"--format={PATCH_MARKER}", tip, "--") or "") if in_window else {}
        found = []
        for record in in_window:
            # git printed these SHAs, so they name commits: no `rev-parse` needed to trust them.
            self._parents[record.sha] = record.parents
            self._resolved.update((sha, sha) for sha in (record.sha, *record.parents))
            name, email, authored, committed, message = record.fields
            found.append(Commit(sha=record.sha, author=name, author_email=email,
                                authored_at=parse_iso(authored), committed_at=parse_iso(committed),
                                message=message.rstrip("\n"),
                                files=self._changes(record, patches.get(record.sha, ""))))
        return sorted(found, key=lambda commit: commit.committed_at, reverse=True)

    @staticmethod
    def _changes(record: LoggedCommit, patch_out: str) -> tuple[FileChange, ...]:
        """The files of one logged commit, each with its hunks."""
        patches = hunks_by_file(patch_out, len(record.entries))
        changes = []
        for (status, path), patch in zip(record.entries, patches, strict=True):
            parsed = changed_lines(patch)
            changes.append(FileChange(path, status, len(parsed.added), len(parsed.removed), patch))
        return tuple(changes)

    def _resolve(self, rev: str) -> str:
        """:meth:`Git.resolve`, remembered for full SHAs (they always name the same commit)."""
        full = self._resolved.get(rev)
        if full is None:
            full = self._git.resolve(rev)
            if _FULL_SHA.fullmatch(rev):
                self._resolved[rev] = full
        return full

    def file_at(self, sha: str, path: str) -> str:
        """A file's text at a commit (UTF-8, invalid bytes replaced).

        Raises:
            NotFoundError: The commit is unknown or has no file at ``path``.
        """
        full = self._resolve(sha)
        out = self._git.blob(full, path.lstrip("/"))
        if out is None:
            raise NotFoundError(f"{path} does not exist at commit {full[:7]}")
        return out.decode("utf-8", "replace")

    def parent_of(self, sha: str) -> str | None:
        """The first parent's SHA, or ``None`` for a root commit.

        Raises:
            NotFoundError: The commit is unknown.
        """
        full = self._resolve(sha)
        parents = self._parents.get(full)
        if parents is None:
            parents = tuple(self._git.parents(full))
            self._parents[full] = parents
        return parents[0] if parents else None

    def merged_pull_requests(self, since: datetime, until: datetime) -> list[PullRequest]:
        """PRs merged into the default branch in ``[since, until]``, newest first.

        Recognised from first-parent merge commits: GitHub's ``Merge pull request #N from
        owner/branch`` message, or a merge of a fix branch the registry knows.

        Raises:
            NotFoundError: The default branch does not exist.
        """
        since, until = utc(since), utc(until)
        merged: list[PullRequest] = []
        for sha, _name, _email, _authored, committed, message in self._log(
            since, until, "--merges"
        ):
            merged_at = parse_iso(committed)
            if not since <= merged_at <= until:
                continue
            parents = self._git.parents(sha)
            head = parents[1] if len(parents) > 1 else None
            subject, body = split_message(message)
            github = _GITHUB_MERGE.match(subject)
            if github is None:
                recorded = self._recorded_pr(subject, head)
                if recorded is not None:
                    merged.append(replace(recorded, merged_at=merged_at, reused=False))
                continue
            number, ref = int(github.group(1)), github.group(2)
            title, rest = split_message(body) if body else (subject, "")
            merged.append(
                PullRequest(
                    number,
                    title,
                    rest,
                    ref.split("/", 1)[1] if "/" in ref else ref,
                    self._branch,
                    url=self._pr_url(number),
                    merged_at=merged_at,
                    head_sha=head,
                )
            )
        return merged

    def _recorded_pr(self, subject: str, head: str | None) -> PullRequest | None:
        """The registry's PR a merge commit merged, found by branch name or head SHA."""
        branch = _INCIDENT_BRANCH.search(subject)
        if branch:
            pr = self._registry.find_pr(branch.group(1))
            if pr is not None:
                return pr
        if head and isinstance(self._registry, ListablePullRequestRegistry):
            return next((pr for pr in self._registry.pull_requests() if pr.head_sha == head), None)
        return None

    def _pr_url(self, number: int) -> str | None:
        """A web URL for a PR when ``origin`` is on github.com."""
        if "github.com" not in (self._git.config("remote.origin.url") or ""):
            return None
        return f"https://github.com/{self._repository}/pull/{number}"

    # -- fix PRs ------------------------------------------------------------------------------

    @staticmethod
    def fix_branch(incident: Incident) -> str:
        """The fix branch name for an incident: ``incident/<id>-fix``."""
        return f"incident/{incident.id}-fix"

    def find_fix_pr(self, incident: Incident) -> PullRequest | None:
        """The fix PR for this incident: the registry's, or one adopted from an existing branch.

        A branch left by an earlier process (whose in-memory registry is gone) is recorded in
        the registry so that it keeps one number from then on.
        """
        recorded = self._registry.find_pr(incident.id)
        if recorded is not None:
            return replace(recorded, reused=True)
        branch = self.fix_branch(incident)
        tip = self._git.branch_tip(branch)
        if tip is None:
            return None
        (record,) = parse_log(
            self._git.run("log", "-1", "-z", f"--format={LOG_FORMAT}", tip, "--") or ""
        )
        title, body = split_message(record[5])
        pr = PullRequest(
            0, title, body, branch, self._branch, created_at=parse_iso(record[4]), head_sha=tip
        )
        return replace(self._registry.record_pr(incident.id, pr), reused=True)

    def open_fix_pr(self, incident: Incident, fix: Fix, title: str, body: str) -> PullRequest:
        """Create ``incident/<id>-fix`` with ``fix.patched`` at ``fix.file`` and record a PR.

        Idempotent: a recorded PR or an existing branch is returned with ``reused=True``. The new
        commit's parent is the default branch's tip; nothing else in the repository moves.

        Raises:
            NotFoundError: The default branch does not exist.
            SourceError: The path or branch name is invalid, or the fix changes nothing.
        """
        with self._lock:
            existing = self.find_fix_pr(incident)
            if existing is not None:
                return existing
            branch = self.fix_branch(incident)
            if self._git.run("check-ref-format", f"refs/heads/{branch}", check=False) is None:
                raise SourceError(f"incident id {incident.id!r} cannot be used in a branch name")
            base = self._git.branch_tip(self._branch)
            if base is None:
                raise NotFoundError(f"branch {self._branch!r} does not exist in {self._path}")
            head = self._write_fix_commit(base, fix, f"{title.strip()}\n\n{body.strip()}\n")
            # An empty old value makes update-ref fail if the branch appeared meanwhile.
            created = self._git.run(
                "update-ref",
                "-m",
                f"incident-tui: fix for {incident.id}",
                f"refs/heads/{branch}",
                head,
                "",
                check=False,
            )
            if created is None:  # lost a race with another writer: reuse what is there
                adopted = self.find_fix_pr(incident)
                if adopted is None:
                    raise SourceError(f"could not create branch {branch} in {self._path}")
                return adopted
            pr = PullRequest(
                0,
                title,
                body,
                branch,
                self._branch,
                created_at=datetime.now(timezone.utc),
                head_sha=head,
            )
            return self._registry.record_pr(incident.id, pr)

    def _write_fix_commit(self, base: str, fix: Fix, message: str) -> str:
        """Write blob, tree and commit for ``fix`` on top of ``base``; return the commit SHA."""
        path = PurePosixPath(fix.file)
        if path.is_absolute() or not path.parts or ".." in path.parts:
            raise SourceError(f"fix path {fix.file!r} is not a path inside the repository")
        listing = self._git.run("ls-tree", "-z", base, "--", str(path)) or ""
        mode = listing.split(" ", 1)[0] if listing else "100644"
        if mode not in ("100644", "100755"):
            raise SourceError(f"{fix.file} is not a regular file at {base[:7]} (mode {mode})")
        blob = self._git.text(
            "hash-object", "-w", "--no-filters", "--stdin", input=fix.patched.encode("utf-8")
        )
        # A throw-away index: the user's index and work tree stay exactly as they are.
        with tempfile.TemporaryDirectory(prefix="incident-tui-index-") as scratch:
            index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            self._git.run("read-tree", base, env=index)
            self._git.run(
                "update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}", env=index
            )
            tree = self._git.text("write-tree", env=index)
        if tree == self._git.text("rev-parse", f"{base}^{{tree}}"):
            raise SourceError(
                f"{self._branch} already has this version of {fix.file}: nothing to commit"
            )
        name, email = self._git.config("user.name"), self._git.config("user.email")
        name, email = (name, email) if name and email else DEFAULT_IDENTITY
        identity = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        return self._git.text(
            "commit-tree", tree, "-p", base, "-F", "-", input=message.encode("utf-8"), env=identity
        )


__all__ = ["InMemoryPullRequestRegistry", "ListablePullRequestRegistry", "LocalGitCodeSource", "PullRequestRegistry"]
