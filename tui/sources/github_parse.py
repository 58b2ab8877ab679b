"""Pure conversions from GitHub REST payloads to :mod:`analysis.model` values.

Kept apart from :mod:`tui.sources.github` so they need neither PyGithub nor a network: they take
the JSON GitHub sends (a commit detail, a pull request, a deployment) as plain dicts, or the few
attributes read from PyGithub objects, and return frozen model types with UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from analysis.model import Commit, Deployment, FileChange, PullRequest
from tui.sources.base import SourceError

STATUS_MAP = {
    "added": "added",
    "copied": "added",
    "modified": "modified",
    "changed": "modified",
    "unchanged": "modified",
    "removed": "removed",
    "renamed": "renamed",
}
"""GitHub's ``files[].status`` -> :attr:`FileChange.status` (the four the model knows)."""


def parse_time(value: str | datetime | None) -> datetime | None:
    """A GitHub timestamp (``2024-05-02T11:03:00Z`` or with an offset) as an aware UTC datetime.

    Args:
        value: The string GitHub sent, a datetime PyGithub already parsed, or ``None``.

    Returns:
        The time in UTC, or ``None`` when absent.

    Raises:
        SourceError: The string is not a timestamp, or its UTC instant is outside years 1-9999.
    """
    if value is None:
        return None
    try:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise SourceError(f"GitHub returned a malformed timestamp {value!r}") from None


def _required(data: Any, key: str, what: str) -> Any:
    """``data[key]``, or a :class:`SourceError` naming what lacks it (never a bare ``KeyError``)."""
    value = data.get(key) if isinstance(data, Mapping) else None
    if value is None:
        raise SourceError(f"GitHub returned {what} without {key!r}")
    return value


def file_change(entry: Mapping[str, Any]) -> FileChange:
    """One ``files[]`` entry of a commit detail (a GitHub "diff entry").

    The ``patch`` is GitHub's bare hunks (no ``diff --git`` header), which
    :func:`analysis.diffs.changed_lines` accepts; binary and very large files have none.
    """
    return FileChange(
        path=str(_required(entry, "filename", "a changed file")),
        status=STATUS_MAP.get(entry.get("status", "modified"), "modified"),
        additions=int(entry.get("additions") or 0),
        deletions=int(entry.get("deletions") or 0),
        patch=entry.get("patch") or "",
    )


def commit_from_detail(data: Mapping[str, Any]) -> Commit:
    """A commit from ``GET /repos/{o}/{r}/commits/{sha}`` (with ``files``).

    The git author and committer (name, e-mail, date) come from ``commit.author`` and
    ``commit.committer``; ``committed_at`` is the committer date, when the change landed.
    """
    sha = str(_required(data, "sha", "a commit"))
    git = _required(data, "commit", f"commit {sha}")
    author = git.get("author") or {}
    committer = git.get("committer") or author
    committed_at = parse_time(committer.get("date")) or datetime.fromtimestamp(0, UTC)
    return Commit(
        sha=sha,
        author=author.get("name") or (data.get("author") or {}).get("login") or "unknown",
        author_email=author.get("email") or "",
        authored_at=parse_time(author.get("date")) or committed_at,
        committed_at=committed_at,
        message=(git.get("message") or "").rstrip("\n"),
        files=tuple(file_change(entry) for entry in data.get("files") or ()),
    )


def first_parent(data: Mapping[str, Any]) -> str | None:
    """The first parent's SHA of a commit payload, or ``None`` for a root commit."""
    parents = data.get("parents") or []
    return str(_required(parents[0], "sha", "a commit parent")) if parents else None


def pull_request(pull: Any, *, reused: bool = False) -> PullRequest:
    """A :class:`PullRequest` from a PyGithub ``PullRequest`` (list item or created).

    Reads only attributes every pull-request payload carries, so no extra request is made.
    """
    return PullRequest(
        number=pull.number,
        title=pull.title or "",
        body=pull.body or "",
        branch=pull.head.ref,
        base=pull.base.ref,
        url=pull.html_url,
        created_at=parse_time(pull.created_at),
        merged_at=parse_time(pull.merged_at),
        head_sha=pull.head.sha,
        reused=reused,
    )


def deployment(item: Any) -> Deployment:
    """A :class:`Deployment` from a PyGithub ``Deployment`` (``GET /deployments`` item)."""
    at = parse_time(item.created_at) or datetime.fromtimestamp(0, UTC)
    what = item.description or f"{item.ref or item.sha[:7]}"
    return Deployment(
        at=at,
        revision=str(item.id),
        sha=item.sha,
        description=f"deploy {item.sha[:7]} to {item.environment}: {what}",
    )
