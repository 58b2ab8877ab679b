"""The live GitHub code source against our stateful fake, with Prism validating both directions
against GitHub's official OpenAPI description (TESTING.md)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest

from analysis.model import Fix, Incident, IncidentStatus

# The plugin below is also imported for its constants: let pytest rewrite its asserts first.
pytest.register_assert_rewrite("tests.fixtures_github")

from tests.fixtures_github import (
    CULPRIT_MESSAGE,
    FIRST_OOM,
    MANIFEST,
    MANIFEST_PATH,
    PREEXISTING_BRANCH_INCIDENT,
    README_MESSAGES,
    REPOSITORY,
    TOKEN,
    WORKER_FIXED,
    WORKER_LEAKY,
    GitHubStack,
)
from tui.config import GitHubConfig, ServiceMapping
from tui.sources.base import NotFoundError, SourceError
from tui.sources.github import GitHubCodeSource, from_environment

pytest_plugins = ["tests.fixtures_github"]

SourceFactory = Callable[..., GitHubCodeSource]
WINDOW = (FIRST_OOM - timedelta(hours=24), FIRST_OOM)
"""The investigation window: the 24 hours before the first OOM kill."""
REPO_PATH = f"/repos/{REPOSITORY}"
"""Prefix of every repository route."""


@pytest.fixture
def make_source(github: GitHubStack) -> SourceFactory:
    """Build sources pointed at Prism, without PyGithub's throttling or retries."""

    def make(token: str = TOKEN, **kwargs: object) -> GitHubCodeSource:
        kwargs.setdefault("seconds_between_requests", 0)
        kwargs.setdefault("seconds_between_writes", 0)
        kwargs.setdefault("retries", 0)
        url = str(kwargs.pop("url", github.url))
        repository = str(kwargs.pop("repository", REPOSITORY))
        return GitHubCodeSource(url, token, repository, **kwargs)  # type: ignore[arg-type]

    return make


def incident(incident_id: str = "Q0OPEN0000TRIG") -> Incident:
    """An open OOM incident."""
    return Incident(incident_id, 3001, "worker-container OOMKilled", "ads-demo-service", "high",
                    IncidentStatus.TRIGGERED, FIRST_OOM)


FIX = Fix("worker.c", "controller", "insert free(buffer); after its last use in the loop body",
          WORKER_LEAKY, WORKER_FIXED, "--- a/worker.c\n+++ b/worker.c\n", 1, True)
"""The fix for the culprit: put the free back."""


def assert_no_token(*texts: object) -> None:
    """None of ``texts`` (messages, reprs, log lines) contains the test token."""
    for text in texts:
        assert TOKEN not in str(text) and "DO-NOT-LEAK" not in repr(text), f"token leaked in {text!r}"


def test_commits_in_the_window_come_with_files_and_patches_newest_first(
        github: GitHubStack, make_source: SourceFactory) -> None:
    # GIVEN the ads-demo-service history and pages of two commits
    source = make_source(per_page=2)
    # WHEN the commits of the 24 hours before the OOM are read
    commits = source.commits(*WINDOW)
    # THEN the culprit (authored days earlier, committed 57 min before) and the two README commits come back
    assert [c.subject for c in commits] == [CULPRIT_MESSAGE, *reversed(README_MESSAGES)]
    culprit = commits[0]
    assert culprit.sha == github.sha_of(CULPRIT_MESSAGE) and culprit.author == "Marcus Oyelaran"
    assert culprit.committed_at == FIRST_OOM - timedelta(minutes=57)
    assert culprit.authored_at == FIRST_OOM - timedelta(days=2)
    # AND each carries its files with GitHub's patch
    (change,) = culprit.files
    assert (change.path, change.status, change.additions, change.deletions) == ("worker.c", "modified", 0, 1)
    assert "-        free(buffer);" in change.patch.splitlines()
    assert [f.path for f in commits[1].files] == ["README.md"]
    # AND the listing followed the Link header, filtered by branch and window
    pages = github.requests("GET", f"{REPO_PATH}/commits")
    assert [p["query"].get("page") for p in pages] == [None, ["2"]]
    assert pages[0]["query"]["sha"] == ["main"]
    assert pages[0]["query"]["since"] == ["2024-05-01T12:00:00Z"]
    assert pages[0]["query"]["until"] == ["2024-05-02T12:00:00Z"]


def test_file_at_reads_files_at_a_commit_including_paths_with_slashes(
        github: GitHubStack, make_source: SourceFactory) -> None:
    # GIVEN the culprit and its parent
    source = make_source()
    culprit = github.sha_of(CULPRIT_MESSAGE)
    parent = source.parent_of(culprit)
    assert parent is not None
    # WHEN worker.c is read at both, and a file in a subdirectory at the culprit
    after, before = source.file_at(culprit, "worker.c"), source.file_at(parent, "worker.c")
    manifest = source.file_at(culprit, MANIFEST_PATH)
    # THEN the texts are exact, the subdirectory's slash was escaped so the route resolves
    assert (after, before, manifest) == (WORKER_LEAKY, WORKER_FIXED, MANIFEST)
    assert github.requests("GET", f"{REPO_PATH}/contents/deploy%2Fworker-deployment.yaml")
    # AND a missing file, or an unknown commit, is NotFoundError
    with pytest.raises(NotFoundError, match="src/missing.c does not exist"):
        source.file_at(culprit, "src/missing.c")
    with pytest.raises(NotFoundError):
        source.file_at("f" * 40, "worker.c")


def test_parent_of_follows_first_parents_to_the_root(github: GitHubStack, make_source: SourceFactory) -> None:
    # GIVEN the culprit
    source = make_source()
    culprit = github.sha_of(CULPRIT_MESSAGE)
    # WHEN parents are followed
    chain = [culprit]
    while (parent := source.parent_of(chain[-1])) is not None:
        chain.append(parent)
    # THEN they lead through the README commits to the root commit, which has none
    assert chain[1] == github.sha_of(README_MESSAGES[1])
    assert chain[-1] == github.sha_of("Import ads-demo-service") and len(chain) == 6
    # AND an unknown commit is NotFoundError
    with pytest.raises(NotFoundError):
        source.parent_of("e" * 40)


def test_merged_pull_requests_in_the_window_stop_paging_at_older_updates(
        github: GitHubStack, make_source: SourceFactory) -> None:
    # GIVEN merged, abandoned and open PRs, old and recent, read two per page
    source = make_source(per_page=2)
    # WHEN the PRs merged in the window are listed
    merged = source.merged_pull_requests(*WINDOW)
    # THEN only the two merged inside it come back, newest first, with their merge times
    assert [(p.number, p.branch, p.base) for p in merged] == [(42, "tidy-loop", "main"), (40, "docs-interval", "main")]
    assert merged[0].merged_at == FIRST_OOM - timedelta(minutes=57)
    assert merged[0].url == "https://github.com/PagerDuty/ads-demo-service/pull/42"
    # AND paging stopped at the first PR last updated before the window (2 of 6 pages read)
    pages = github.requests("GET", f"{REPO_PATH}/pulls")
    assert len(pages) == 2
    assert pages[0]["query"]["state"] == ["closed"] and pages[0]["query"]["sort"] == ["updated"]


def test_open_fix_pr_writes_blob_tree_commit_ref_then_pr_and_never_moves_main(
        github: GitHubStack, make_source: SourceFactory) -> None:
    # GIVEN no fix PR or branch for the incident yet
    source = make_source()
    main_before = github.refs()["refs/heads/main"]
    assert source.find_fix_pr(incident()) is None
    # WHEN the fix PR is opened
    pr = source.open_fix_pr(incident(), FIX, "[Incident #3001] Fix memory leak in controller()", "Puts the free back.")
    # THEN the git data API was used in order, then the PR
    writes = [(r["method"], r["path"].removeprefix(REPO_PATH)) for r in github.requests() if r["method"] != "GET"]
    assert writes == [("POST", "/git/blobs"), ("POST", "/git/trees"), ("POST", "/git/commits"),
                      ("POST", "/git/refs"), ("POST", "/pulls")]
    bodies = {r["path"].removeprefix(REPO_PATH): r["body"] for r in github.requests("POST")}
    assert bodies["/git/blobs"]["content"] == WORKER_FIXED
    assert bodies["/git/refs"]["ref"] == "refs/heads/incident/Q0OPEN0000TRIG-fix"
    assert bodies["/git/commits"]["parents"] == [main_before]
    assert bodies["/pulls"]["head"] == "incident/Q0OPEN0000TRIG-fix" and bodies["/pulls"]["base"] == "main"
    # AND the PR is described, main did not move, and the branch holds the fix on top of main's tree
    assert (pr.branch, pr.base, pr.reused, pr.title) == (
        "incident/Q0OPEN0000TRIG-fix", "main", False, "[Incident #3001] Fix memory leak in controller()")
    assert pr.url and pr.url.endswith(f"/pull/{pr.number}") and pr.created_at is not None
    refs = github.refs()
    assert refs["refs/heads/main"] == main_before and refs["refs/heads/incident/Q0OPEN0000TRIG-fix"] == pr.head_sha
    assert pr.head_sha is not None and source.parent_of(pr.head_sha) == main_before
    assert source.file_at(pr.head_sha, "worker.c") == WORKER_FIXED
    assert source.file_at(pr.head_sha, "README.md") == source.file_at(main_before, "README.md")


def test_a_second_open_fix_pr_reuses_the_first(github: GitHubStack, make_source: SourceFactory) -> None:
    # GIVEN a fix PR already opened for the incident
    source = make_source()
    first = source.open_fix_pr(incident(), FIX, "Fix", "body")
    writes_before = len(github.requests("POST"))
    # WHEN it is opened again (e.g. after a restart, with a fresh source)
    again = make_source().open_fix_pr(incident(), FIX, "Fix", "body")
    # THEN the same PR comes back marked reused, and nothing was written
    assert (again.number, again.head_sha, again.reused) == (first.number, first.head_sha, True)
    assert len(github.requests("POST")) == writes_before
    assert make_source().find_fix_pr(incident()) == again


def test_an_existing_fix_branch_without_a_pr_is_reused_not_recreated(
        github: GitHubStack, make_source: SourceFactory) -> None:
    # GIVEN the incident's fix branch exists (an earlier run stopped before opening the PR)
    branch = f"incident/{PREEXISTING_BRANCH_INCIDENT}-fix"
    tip = github.refs()[f"refs/heads/{branch}"]
    # WHEN the fix PR is opened
    pr = make_source().open_fix_pr(incident(PREEXISTING_BRANCH_INCIDENT), FIX, "Fix", "body")
    # THEN only the PR was created, from the branch as it is
    assert [r["path"].removeprefix(REPO_PATH) for r in github.requests("POST")] == ["/pulls"]
    assert (pr.branch, pr.head_sha, pr.reused) == (branch, tip, False)


def test_losing_a_race_for_the_branch_reuses_the_other_writers_branch(
        github: GitHubStack, make_source: SourceFactory) -> None:
    # GIVEN another writer that creates the incident's fix branch while our commit is being written
    github.control(race="ref")
    main_tip = github.refs()["refs/heads/main"]
    # WHEN the fix PR is opened
    pr = make_source().open_fix_pr(incident(), FIX, "Fix", "body")
    # THEN GitHub's 422 "Reference already exists" led to a PR from their branch, not a second branch
    refs_posted = github.requests("POST", f"{REPO_PATH}/git/refs")
    assert [r["status"] for r in refs_posted] == [422]
    branch = "refs/heads/incident/Q0OPEN0000TRIG-fix"
    assert (pr.branch, pr.head_sha, pr.reused) == (branch.removeprefix("refs/heads/"), github.refs()[branch], False)
    assert github.refs()["refs/heads/main"] == main_tip


def test_losing_a_race_for_the_pull_request_returns_the_other_one(
        github: GitHubStack, make_source: SourceFactory) -> None:
    # GIVEN another writer that opens the same PR just before us
    github.control(race="pull")
    # WHEN the fix PR is opened
    pr = make_source().open_fix_pr(incident(), FIX, "Fix", "body")
    # THEN GitHub's 422 "A pull request already exists" led to their PR, marked reused
    assert [r["status"] for r in github.requests("POST", f"{REPO_PATH}/pulls")] == [422]
    assert pr.reused and pr.title == "Fix (opened elsewhere)"
    assert len([p for p in github.requests("GET", f"{REPO_PATH}/pulls")]) == 2


def test_a_bad_token_is_a_source_error_that_never_shows_the_token(
        github: GitHubStack, make_source: SourceFactory, caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a token GitHub does not accept (recognisable, to scan for it), with debug logging on
    bad = TOKEN.replace("ghp_", "ghp_REVOKED")
    source = make_source(token=bad)
    caplog.set_level(logging.DEBUG)
    # WHEN commits are read
    with pytest.raises(SourceError) as raised:
        source.commits(*WINDOW)
    # THEN the message says the token was rejected, and neither token appears anywhere
    assert str(raised.value) == "GitHub rejected the token (401): check GITHUB_TOKEN"
    assert f"{REPO_PATH}/commits" in caplog.text  # PyGithub's debug log of the request was captured
    assert_no_token(raised.value, repr(raised.value), repr(source), repr(make_source()), caplog.text)
    assert bad not in caplog.text and bad not in repr(source)
    assert raised.value.__cause__ is None and raised.value.__context__ is not None


def test_rate_limit_and_unknown_repository_are_explained(github: GitHubStack, make_source: SourceFactory) -> None:
    # GIVEN the API's rate limit exhausted until 12:00:00 UTC
    github.control(fail={"status": 403, "rate_limit": True, "reset": 1714651200, "count": 1})
    # WHEN deployments are read
    with pytest.raises(SourceError, match="rate limit exceeded while listing deployments; it resets at 12:00:00 UTC"):
        make_source().deployments()
    # AND a repository that does not exist is read
    with pytest.raises(NotFoundError, match="GitHub repository PagerDuty/nope not found .*404"):
        make_source(repository="PagerDuty/nope").commits(*WINDOW)


def test_an_unreachable_api_is_a_source_error_naming_the_host(make_source: SourceFactory) -> None:
    # GIVEN an API URL nobody listens on
    source = make_source(url="http://127.0.0.1:9/api/v3")
    # WHEN commits are read
    with pytest.raises(SourceError) as raised:
        source.commits(*WINDOW)
    # THEN the message names the host and carries no token
    assert "cannot reach GitHub at 127.0.0.1:9" in str(raised.value)
    assert_no_token(raised.value)


def test_deployments_are_listed_oldest_first(github: GitHubStack, make_source: SourceFactory) -> None:
    # GIVEN two production deployments and one to staging
    source = make_source()
    # WHEN production's are listed
    deployed = source.deployments(environment="production")
    # THEN they come oldest first with their SHAs, the culprit deployed last
    assert [d.revision for d in deployed] == ["101", "102"]
    assert deployed[-1].sha == github.sha_of(CULPRIT_MESSAGE)
    assert deployed[-1].at == FIRST_OOM - timedelta(minutes=50)
    assert "production" in deployed[-1].description
    assert len(source.deployments()) == 3


def test_from_environment_needs_github_token(github: GitHubStack, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a service mapping and no GITHUB_TOKEN
    service = ServiceMapping("ads-demo-service", "demo", "app=worker-app", "worker-container", REPOSITORY,
                             branch="main", sources=("*.c",))
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    # WHEN a source is built from the environment
    with pytest.raises(SourceError, match="GITHUB_TOKEN is not set"):
        from_environment(GitHubConfig(api_url=github.url), service)
    # THEN with the token set it reads the mapped repository and branch
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    source = from_environment(GitHubConfig(api_url=github.url), service, seconds_between_requests=0,
                              seconds_between_writes=0, retries=0)
    assert (source.repository, source.default_branch, source.build_globs) == (REPOSITORY, "main", ("*.c",))
    assert source.parent_of(github.sha_of(CULPRIT_MESSAGE)) == github.sha_of(README_MESSAGES[1])
    assert_no_token(repr(source))


def test_the_live_code_source_feeds_the_root_cause_pipeline(github: GitHubStack, make_source: SourceFactory) -> None:
    # GIVEN the live source over the fake repository, through Prism
    try:
        from tui.investigation import investigate
    except ImportError as error:  # the C analyzer is being rewritten; say so rather than fail
        pytest.xfail(f"analyzer import broken: {error}")
    source = make_source()
    # WHEN the pipeline investigates the OOM
    result = investigate(source, first_oom=FIRST_OOM, deployments=[], build_globs=("*.c",))
    # THEN the culprit ranks first with the finding on its changed lines, and the fix restores the free
    top = result.suspects[0]
    assert top.commit.sha == github.sha_of(CULPRIT_MESSAGE)
    assert top.findings and top.findings[0].function == "controller"
    assert result.fix is not None and "+        free(buffer);" in result.fix.diff
    # AND the PRs merged in the window and GitHub's deployments come along for the timeline
    assert {pr.number for pr in result.merged_prs} == {40, 42}
    assert len([d for d in result.code_deployments if d.at > FIRST_OOM - timedelta(hours=24)]) >= 2
    # AND GitHub says which PR brought the culprit in
    assert result.suspect_pr is not None and result.suspect_pr.number == 42
    # AND the culprit counts as deployed, thanks to the deployment of its SHA 50 minutes before the OOM
    assert any("deploy" in reason.label for reason in top.reasons if reason.weight > 0)
