"""A :class:`~tui.sources.base.CodeSource` over the GitHub REST API, through PyGithub.

The same semantics as :class:`tui.sources.git_local.LocalGitCodeSource`, read from GitHub:
commits of the default branch in a window (by committer date) with their files and patches,
files at a commit, first parents, merged pull requests and deployments. The fix PR is written with
the git data API only (blob, tree on top of the default branch's tree, commit whose parent is the
default branch's tip, a new ``refs/heads/incident/<id>-fix``, then the pull request), so the
default branch never moves; an existing branch or PR is reused, never duplicated.

PyGithub blocks, so every method is called from thread workers (STYLE.md rule 4). It is imported
on first use, keeping start-up fast. PyGithub throttles itself between requests and between writes;
both pauses are explicit constructor arguments. The token is held privately: it is never part of
``repr``, of an error message or of a log line (PyGithub masks it in its own debug log).
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from analysis.model import Commit, Deployment, Fix, Incident, PullRequest
from analysis.pr_text import fix_branch
from tui.sources.base import AuthError, NotFoundError, RateLimitedError, SourceError
from tui.sources.github_parse import (
    commit_from_detail,
    deployment,
    first_parent,
    parse_time,
    pull_request,
)
from tui.sources.retry_after import retry_after_seconds
from tui.sources.urls import display_host

if TYPE_CHECKING:
    from github.Repository import Repository

    from tui.config import GitHubConfig, ServiceMapping

TOKEN_ENV = "GITHUB_TOKEN"
"""Environment variable holding the GitHub token (never the config file)."""


class GitHubCodeSource:
    """Commits, files, pull requests and deployments of one GitHub repository."""

    def __init__(
        self,
        api_url: str,
        token: str,
        repository: str,
        *,
        default_branch: str = "main",
        seconds_between_requests: float = 0.25,
        seconds_between_writes: float = 1.0,
        per_page: int = 100,
        timeout: int = 15,
        retries: int = 2,
        build_globs: tuple[str, ...] = ("*.c",),
    ) -> None:
        """Describe the repository; nothing is requested until a method is called.

        Args:
            api_url: API base URL (``https://api.github.com``, or ``https://HOST/api/v3``).
            token: A token that can read the repository (and write branches and PRs to open one).
            repository: ``owner/name``.
            default_branch: The branch deployments come from and fix PRs target.
            seconds_between_requests: PyGithub's pause between any two requests.
            seconds_between_writes: PyGithub's pause between two writes.
            per_page: Page size of listings (GitHub allows up to 100).
            timeout: Seconds to wait for each response.
            retries: Retries of failed connections and 502/503/504 answers to reads.
            build_globs: Globs of files compiled into the workload, for callers that rank commits.

        Raises:
            SourceError: ``repository`` is not ``owner/name`` or ``token`` is empty.
        """
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise SourceError(f"GitHub repository {repository!r} must be owner/name")
        if not token:
            raise SourceError(f"no GitHub token: set {TOKEN_ENV}")
        self._api_url = api_url.rstrip("/")
        self._host = display_host(self._api_url)
        self._token = token
        self._repository = repository
        self._branch = default_branch
        self._pauses = (seconds_between_requests, seconds_between_writes)
        self._per_page, self._timeout, self._retries = per_page, timeout, retries
        self.build_globs = tuple(build_globs)
        """Globs of files compiled into the workload."""
        self._client: Any = None
        self._repo: Repository | None = None
        self._details: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GitHubCodeSource({self._api_url!r}, repository={self._repository!r}, branch={self._branch!r})"

    # -- plumbing -----------------------------------------------------------------------------

    def _github(self) -> tuple[Any, Repository]:
        """The PyGithub client and lazy repository, created on first use."""
        with self._lock:
            if self._repo is None:
                from github import Auth, Github
                from urllib3.util.retry import Retry

                retry = Retry(total=self._retries, read=0, backoff_factor=0.5, status_forcelist=(502, 503, 504),
                              allowed_methods=frozenset({"GET"}), raise_on_status=False) if self._retries else None
                self._client = Github(
                    base_url=self._api_url,
                    auth=Auth.Token(self._token),
                    seconds_between_requests=self._pauses[0],
                    seconds_between_writes=self._pauses[1],
                    per_page=self._per_page,
                    timeout=self._timeout,
                    retry=retry,
                    lazy=True,
                )
                self._repo = self._client.get_repo(self._repository)
            return self._client, self._repo

    @contextmanager
    def _calls(self, doing: str, *, missing: str | None = None) -> Iterator[None]:
        """Turn PyGithub and connection failures into :class:`SourceError` messages.

        Args:
            doing: What was being done, for the message (``listing commits``).
            missing: The message of the :class:`NotFoundError` raised on 404/422 "not found"
                answers; ``None`` means a 404 is about the repository itself.
        """
        from github import GithubException
        from requests import RequestException

        try:
            yield
        except GithubException as error:
            raise self._translate(error, doing, missing) from None
        except (RequestException, OSError) as error:
            raise SourceError(
                f"cannot reach GitHub at {self._host} while {doing} ({type(error).__name__}): "
                "check the network and [github] api_url"
            ) from None
        except ValueError:  # a body that is not JSON (a proxy's HTML page, a cut-off answer)
            raise SourceError(f"GitHub at {self._host} sent a malformed answer while {doing}") from None

    def _translate(self, error: Any, doing: str, missing: str | None) -> SourceError:
        """The user-facing error for a GitHub answer (never quoting the request or the token)."""
        status = error.status
        data = error.data if isinstance(error.data, dict) else {}
        message = str(data.get("message") or "").strip()
        details = [str(e["message"]) for e in data.get("errors") or () if isinstance(e, dict) and e.get("message")]
        if details:  # "Validation Failed" says little; the errors say what (e.g. "No commits between ...")
            message = f"{message}: {'; '.join(details)}" if message else "; ".join(details)
        headers = {str(k).lower(): str(v) for k, v in (error.headers or {}).items()}
        if status == 401:
            return AuthError(f"GitHub rejected the token (401): check {TOKEN_ENV}")
        if status == 429 or (status == 403 and (headers.get("x-ratelimit-remaining") == "0"
                                                or "rate limit" in message.lower() or "retry-after" in headers)):
            reset = headers.get("x-ratelimit-reset", "")
            when = datetime.fromtimestamp(int(reset), UTC).strftime("%H:%M:%S UTC") if reset.isdigit() else "soon"
            return RateLimitedError(f"GitHub rate limit exceeded while {doing}; it resets at {when}",
                                    retry_after=retry_after_seconds(headers))
        if status == 403:
            return AuthError(
                f"GitHub refused {doing} (403: {message or 'forbidden'}): the token may lack access to {self._repository}")
        not_found = status == 404 or (status == 422 and "no commit found" in message.lower())
        if not_found and missing is not None:
            return NotFoundError(missing)
        if status == 404:
            return NotFoundError(
                f"GitHub repository {self._repository} not found at {self._host} (404): "
                f"check the service's repository and that {TOKEN_ENV} can read it")
        return SourceError(f"GitHub answered {status} while {doing}: {message or 'no message'}")

    def _detail(self, ref: str) -> dict[str, Any]:
        """``GET /commits/{ref}`` as JSON; full SHAs are cached (commits never change)."""
        if ref in self._details:
            return self._details[ref]
        _, repo = self._github()
        with self._calls(f"reading commit {ref[:12]}", missing=f"commit {ref[:12]} does not exist in {self._repository}"):
            commit = repo.get_commit(ref)
            data = dict(commit.raw_data)
            if len(data.get("files") or ()) >= self._per_page:
                # GitHub pages the files of big commits: read them all.
                data["files"] = [change.raw_data for change in commit.files]
        if data["sha"] == ref:
            self._details[ref] = data
        return data

    # -- CodeSource ---------------------------------------------------------------------------

    @property
    def repository(self) -> str:
        """``owner/name`` of the repository."""
        return self._repository

    @property
    def default_branch(self) -> str:
        """The branch deployments come from."""
        return self._branch

    def commits(self, since: datetime, until: datetime) -> list[Commit]:
        """Commits on the default branch committed in ``[since, until]``, newest first, with files.

        Raises:
            NotFoundError: The repository or the default branch does not exist.
            SourceError: GitHub failed or refused.
        """
        since, until = parse_time(since), parse_time(until)
        assert since is not None and until is not None
        _, repo = self._github()
        with self._calls("listing commits"):
            listed = [item.sha for item in repo.get_commits(sha=self._branch, since=since, until=until)]
        found = [commit_from_detail(self._detail(sha)) for sha in listed]
        found = [c for c in found if since <= c.committed_at <= until]
        return sorted(found, key=lambda commit: commit.committed_at, reverse=True)

    def file_at(self, sha: str, path: str) -> str:
        """A file's text at a commit (UTF-8, invalid bytes replaced).

        Uses ``GET /contents/{path}?ref=`` with the path's slashes escaped (``%2F``), which GitHub
        accepts and which, unlike a raw ``/``, routes through API descriptions; files above the
        contents API's 1 MB limit are read as git blobs.

        Raises:
            NotFoundError: The commit is unknown or has no file at ``path``.
        """
        clean = path.strip("/")
        absent = f"{clean} does not exist at commit {sha[:12]} in {self._repository}"
        client, repo = self._github()
        with self._calls(f"reading {clean} at {sha[:12]}", missing=absent):
            _, data = client.requester.requestJsonAndCheck(
                "GET", f"/repos/{self._repository}/contents/{quote(clean, safe='')}", parameters={"ref": sha})
            if not isinstance(data, dict) or data.get("type") != "file":
                raise NotFoundError(f"{clean} is not a file at commit {sha[:12]}")
            content, encoding = data.get("content") or "", data.get("encoding")
            if encoding != "base64" or (not content and data.get("size")):
                content, encoding = repo.get_git_blob(data["sha"]).content, "base64"
        return base64.b64decode(content).decode("utf-8", "replace")

    def parent_of(self, sha: str) -> str | None:
        """The first parent's SHA, or ``None`` for a root commit.

        Raises:
            NotFoundError: The commit is unknown.
        """
        return first_parent(self._detail(sha))

    def merged_pull_requests(self, since: datetime, until: datetime) -> list[PullRequest]:
        """PRs into the default branch merged in ``[since, until]``, newest first.

        Closed PRs are read most recently updated first and reading stops at the first one last
        updated before ``since`` (a PR is updated when merged, so no later page can qualify).

        Raises:
            SourceError: GitHub failed or refused.
        """
        since, until = parse_time(since), parse_time(until)
        assert since is not None and until is not None
        _, repo = self._github()
        merged: list[PullRequest] = []
        with self._calls("listing pull requests"):
            for pull in repo.get_pulls(state="closed", sort="updated", direction="desc", base=self._branch):
                if (parse_time(pull.updated_at) or since) < since:
                    break
                merged_at = parse_time(pull.merged_at)
                if merged_at is not None and since <= merged_at <= until:
                    merged.append(pull_request(pull))
        return sorted(merged, key=lambda pr: pr.merged_at or since, reverse=True)

    def pull_request_for(self, sha: str) -> PullRequest | None:
        """The PR that brought ``sha`` in (``GET /commits/{sha}/pulls``), a merged one first."""
        _, repo = self._github()
        with self._calls(f"looking up the pull request of {sha[:7]}"):
            pulls = list(repo.get_commit(sha).get_pulls())
        if not pulls:
            return None
        return pull_request(max(pulls, key=lambda p: p.merged_at is not None))

    def find_fix_pr(self, incident: Incident) -> PullRequest | None:
        """The PR whose head is ``incident/<id>-fix`` (open preferred, else the newest), if any."""
        owner = self._repository.split("/")[0]
        _, repo = self._github()
        with self._calls("looking for the fix pull request"):
            pulls = list(repo.get_pulls(state="all", head=f"{owner}:{fix_branch(incident)}"))
        if not pulls:
            return None
        best = max(pulls, key=lambda p: (p.state == "open", parse_time(p.created_at) or datetime.min.replace(tzinfo=UTC)))
        return pull_request(best, reused=True)

    def open_fix_pr(self, incident: Incident, fix: Fix, title: str, body: str) -> PullRequest:
        """Create branch ``incident/<id>-fix`` holding ``fix.patched`` and open a PR to the default branch.

        Blob, tree (on the default branch's tree), commit (parent: the default branch's tip) and
        ref are created with the git data API; the default branch is never written. An existing
        PR is returned with ``reused=True``; an existing branch is reused as it is.

        Raises:
            NotFoundError: The default branch does not exist.
            SourceError: The path is invalid, the fix changes nothing, or GitHub refused.
        """
        from github import GithubException, InputGitTreeElement

        path = PurePosixPath(fix.file)
        if path.is_absolute() or not path.parts or ".." in path.parts:
            raise SourceError(f"fix path {fix.file!r} is not a path inside the repository")
        branch = fix_branch(incident)
        if branch == self._branch:
            raise SourceError(f"refusing to write the fix to the default branch {self._branch!r}")
        with self._write_lock:
            existing = self.find_fix_pr(incident)
            if existing is not None:
                return existing
            _, repo = self._github()
            if self._branch_tip(branch) is None:
                tip = self._detail_object(self._branch)
                with self._calls(f"writing the fix commit for {branch}"):
                    blob = repo.create_git_blob(fix.patched, "utf-8")
                    element = InputGitTreeElement(str(path), "100644", "blob", sha=blob.sha)
                    tree = repo.create_git_tree([element], base_tree=tip.commit.tree)
                    if tree.sha == tip.commit.tree.sha:
                        raise SourceError(f"{self._branch} already has this version of {fix.file}: nothing to commit")
                    commit = repo.create_git_commit(f"{title.strip()}\n\n{body.strip()}\n", tree, [tip.commit])
                    try:
                        repo.create_git_ref(f"refs/heads/{branch}", commit.sha)
                    except GithubException as error:
                        if error.status != 422 or "already exists" not in str(error.data).lower():
                            raise
                        # Another writer created the branch meanwhile: reuse it, never a second one.
            with self._calls(f"opening the pull request from {branch}"):
                try:
                    created = repo.create_pull(base=self._branch, head=branch, title=title, body=body)
                except GithubException as error:
                    if error.status != 422 or "already exists" not in str(error.data).lower():
                        raise
                    created = None
            if created is None:
                adopted = self.find_fix_pr(incident)
                if adopted is None:
                    raise SourceError(f"GitHub says a pull request from {branch} exists but it cannot be found")
                return adopted
            return pull_request(created)

    def _branch_tip(self, branch: str) -> str | None:
        """The SHA a branch points at, or ``None`` when it does not exist."""
        try:
            return self._detail(branch)["sha"]
        except NotFoundError:
            return None

    def _detail_object(self, ref: str) -> Any:
        """A completed PyGithub ``Commit`` for ``ref`` (its ``.commit.tree`` feeds the tree write)."""
        _, repo = self._github()
        with self._calls(f"reading {ref}", missing=f"branch {ref!r} does not exist in {self._repository}"):
            commit = repo.get_commit(ref)
            commit.raw_data  # noqa: B018  (completes the lazy object: one request, errors here)
        return commit

    def deployments(self, environment: str | None = None) -> list[Deployment]:
        """Deployments recorded on GitHub, oldest first, for the timeline.

        Args:
            environment: Only this environment (``production``), or all when ``None``.

        Raises:
            SourceError: GitHub failed or refused.
        """
        _, repo = self._github()
        with self._calls("listing deployments"):
            items = repo.get_deployments(environment=environment) if environment else repo.get_deployments()
            found = [deployment(item) for item in items]
        return sorted(found, key=lambda d: d.at)


def from_environment(config: GitHubConfig, service: ServiceMapping, **options: Any) -> GitHubCodeSource:
    """The code source of a mapped service, with the token from ``$GITHUB_TOKEN``.

    Args:
        config: ``[github]`` settings (the API URL).
        service: The mapping naming the repository, its default branch and the C sources.
        **options: Passed on to :class:`GitHubCodeSource` (throttling, timeouts).

    Raises:
        SourceError: ``GITHUB_TOKEN`` is not set, or the repository is not ``owner/name``.
    """
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise SourceError(
            f"{TOKEN_ENV} is not set: export a token that can read {service.repository} "
            "(and write branches and pull requests, to open fix PRs)")
    return GitHubCodeSource(config.api_url, token, service.repository, default_branch=service.branch,
                            build_globs=tuple(service.sources), **options)
