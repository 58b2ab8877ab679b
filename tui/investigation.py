"""From an incident to a ranked suspect, an annotated diff and a verified fix.

This is the root-cause pipeline both the dashboard and the headless commands run: fetch the
changes in the window before the first OOM kill, analyse the C files they touch, rank the commits,
and synthesize a fix for the top suspect's finding against the current default branch.
It blocks (git, cpp, the compiler), so the dashboard runs it in a thread worker.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from analysis.annotate import AnnotatedDiff, annotate_change
from analysis.c_functions import changed_functions
from analysis.c_leaks import analyze_preprocessed
from analysis.correlation import (
    finding_points,
    findings_on_changed_lines,
    max_finding_points,
    rank_commits,
)
from analysis.diffs import changed_lines
from analysis.fix import synthesize_fix
from analysis.model import (
    AnalysisResult,
    Commit,
    Deployment,
    Diagnostic,
    FileChange,
    Fix,
    LeakFinding,
    PullRequest,
    Reason,
    Suspect,
    TimelineEntry,
    TimelineKind,
)
from tui.sources.base import CodeSource, NotFoundError
from tui.sources.c_compile import verify_fix
from tui.sources.c_preprocess import PreprocessError, analyze_text, preprocess


@dataclass(frozen=True)
class Investigation:
    """The outcome of the root-cause pipeline."""

    suspects: tuple[Suspect, ...]
    """Ranked commits, most likely first."""
    diffs: dict[str, AnnotatedDiff]
    """Annotated C diff per suspect SHA (only suspects that changed a C file)."""
    fix: Fix | None
    """The verified fix for the top finding, if one could be made safely."""
    fix_suspect: Suspect | None
    """The suspect whose finding the fix addresses."""
    diagnostics: tuple[Diagnostic, ...]
    """C files that could not be analysed (the ranking then relies on the diff heuristics)."""
    window_start: datetime
    """Start of the window searched."""
    first_oom: datetime
    """End of the window: the first OOM kill."""
    merged_prs: tuple[PullRequest, ...] = ()
    """Pull requests merged in the window."""
    code_deployments: tuple[Deployment, ...] = ()
    """Deployments the code host recorded (GitHub deployments), when it has any."""
    suspect_pr: PullRequest | None = None
    """The pull request that brought the top suspect in, when the code host knows it."""

    @property
    def top_diff(self) -> AnnotatedDiff | None:
        """The annotated diff of the highest-ranked suspect that has one."""
        for suspect in self.suspects:
            if suspect.commit.sha in self.diffs:
                return self.diffs[suspect.commit.sha]
        return None

    def commit_entries(self) -> list[TimelineEntry]:
        """The suspects' commits as timeline entries."""
        return [
            TimelineEntry(s.commit.committed_at, TimelineKind.COMMIT,
                          f"{s.commit.short_sha} {s.commit.subject} ({s.commit.author})", "git")
            for s in self.suspects
        ]

    def code_host_entries(self) -> list[TimelineEntry]:
        """Merged PRs and code-host deployments of the window as timeline entries."""
        entries = [
            TimelineEntry(pr.merged_at, TimelineKind.PR_MERGED, f"PR #{pr.number} {pr.title} ({pr.branch})", "git")
            for pr in self.merged_prs
            if pr.merged_at is not None
        ]
        entries.extend(
            TimelineEntry(d.at, TimelineKind.DEPLOYMENT, f"{d.description} ({(d.sha or d.revision)[:7]})", "code host")
            for d in self.code_deployments
        )
        return entries

    @property
    def notes(self) -> tuple[str, ...]:
        """Caveats to show the user."""
        return tuple(
            f"{d.file}:{d.line or '?'}: could not be analysed ({d.message}); ranked by the diff-only heuristic"
            for d in self.diagnostics
        )


def _is_c_source(path: str) -> bool:
    """Whether the analyzer reads this path."""
    return path.endswith((".c", ".h"))


def investigate(
    code: CodeSource,
    *,
    first_oom: datetime,
    deployments: list[Deployment],
    build_globs: tuple[str, ...],
    window: timedelta = timedelta(hours=24),
    exhaustive: bool = False,
) -> Investigation:
    """Rank the changes before the first OOM kill and prepare a fix.

    Args:
        code: Where commits and files come from.
        first_oom: When the container was first OOM-killed; the window ends here.
        deployments: Rollouts of the workload, for deployment correlation.
        build_globs: Paths built into the workload.
        window: How far back to look.
        exhaustive: Analyse every C change, even those that could not reach the top suspect
            (they are otherwise skipped and say so in their reasons).

    Returns:
        The investigation. Files that fail to parse become diagnostics, never exceptions.
    """
    window_start = first_oom - window
    commits = code.commits(window_start, first_oom)
    merged_prs = tuple(code.merged_pull_requests(window_start, first_oom))
    # Only some code hosts record deployments (GitHub does, a local repository does not).
    code_deployments = tuple(getattr(code, "deployments", lambda: [])())

    findings_by_sha: dict[str, list[LeakFinding]] = {}
    versions: dict[str, list[tuple[str, str, str, AnalysisResult]]] = {}
    diagnostics: list[Diagnostic] = []
    all_deployments = [*deployments, *code_deployments]
    base = {s.commit.sha: sum(r.weight for r in s.reasons) for s in rank_commits(
        commits, first_oom=first_oom, deployments=all_deployments, build_globs=build_globs,
        findings_by_sha={}, window=window)}
    # Analyse the C changes most suspicious first, and stop once no commit left could reach the
    # best score even with the strongest findings: the top suspect is exact, and a window of
    # thousands of commits does not wait for the analysis of every one of them.
    jobs = sorted(((commit, change) for commit in commits for change in commit.files
                   if commit.sha in base and change.status != "removed" and _is_c_source(change.path)),
                  key=lambda job: -base[job[0].sha])
    bound, skipped, best = max_finding_points(), set(), [-float("inf")]

    def worth_analysing() -> Iterator[tuple[Commit, FileChange]]:
        # Read lazily, a few jobs ahead of the results: a best score that lags behind only skips
        # less, never wrongly.
        for commit, change in jobs:
            if not exhaustive and base[commit.sha] + bound < best[0] and commit.sha not in findings_by_sha:
                skipped.add(commit.sha)
                continue
            yield commit, change

    for (commit, change), new_text, result in _analyses(code, worth_analysing()):
        old_text = _parent_text(code, commit, change.path)
        diagnostics.extend(result.diagnostics)
        on_change = findings_on_changed_lines(result.findings, change.patch)
        findings_by_sha.setdefault(commit.sha, []).extend(on_change)
        versions.setdefault(commit.sha, []).append((change.path, old_text, new_text, result))
        best[0] = max(best[0], base[commit.sha] + finding_points(findings_by_sha[commit.sha]))
    skipped -= findings_by_sha.keys()

    suspects = rank_commits(
        commits,
        first_oom=first_oom,
        deployments=all_deployments,
        build_globs=build_globs,
        findings_by_sha=findings_by_sha,
        window=window,
    )
    suspects = [replace(s, reasons=(*s.reasons, Reason(NOT_ANALYSED, 0))) if s.commit.sha in skipped else s
                for s in suspects]
    fix, fix_suspect = _fix_for_top_finding(code, suspects)
    # Only code hosts with pull requests can say which PR brought a commit in (GitHub can).
    pull_request_for = getattr(code, "pull_request_for", None)
    suspect_pr = pull_request_for(suspects[0].commit.sha) if suspects and pull_request_for else None
    diffs: dict[str, AnnotatedDiff] = {}
    for sha, files in versions.items():
        path, old_text, new_text, result = max(files, key=lambda item: len(item[3].findings))
        suspect_findings = tuple(findings_by_sha.get(sha) or result.findings)
        diffs[sha] = annotate_change(path, sha, old_text, new_text, suspect_findings, fix=fix)
    return Investigation(
        suspects=tuple(suspects),
        diffs=diffs,
        fix=fix,
        fix_suspect=fix_suspect,
        diagnostics=tuple(diagnostics),
        window_start=window_start,
        first_oom=first_oom,
        merged_prs=merged_prs,
        code_deployments=code_deployments,
        suspect_pr=suspect_pr,
    )


NOT_ANALYSED = "C change not analysed: even the strongest findings could not lift it to the top suspect"
"""The reason shown on suspects whose analysis was skipped (it could not change the top of the ranking)."""


_PREPROCESSORS = 2
"""Preprocessor runs in flight while the analysis of earlier files goes on: ``cpp`` is another
process, so it runs on another core while Python parses (a pipeline, not a pool of parsers)."""


def _analyses(code: CodeSource, jobs: Iterable[tuple[Commit, FileChange]]
              ) -> Iterator[tuple[tuple[Commit, FileChange], str, AnalysisResult]]:
    """Each job with its C change's new text and the analysis of the functions it touched, in job order.

    Only the functions a commit touched (and, inside the analyzer, what they call) can carry
    findings on its changed lines, so a large file costs little. Preprocessing runs ahead in
    threads, at most a few files ahead so memory stays bounded.
    """
    with ThreadPoolExecutor(max_workers=_PREPROCESSORS, thread_name_prefix="cpp") as pool:
        pending: deque[tuple[tuple[Commit, FileChange], tuple[str, str, set[str], Future[str] | None]]] = deque()
        for commit, change in jobs:
            text = code.file_at(commit.sha, change.path)
            touched = _touched_functions(text, change.path, change.patch)
            future = pool.submit(preprocess, text, change.path) if touched else None
            pending.append(((commit, change), (text, change.path, touched, future)))
            if len(pending) > 2 * _PREPROCESSORS:
                job, work = pending.popleft()
                yield (job, *_finish(*work))
        while pending:
            job, work = pending.popleft()
            yield (job, *_finish(*work))


def _finish(text: str, path: str, touched: set[str], future: Future[str] | None
            ) -> tuple[str, AnalysisResult]:
    """Analyse one preprocessed change; bad C becomes a diagnostic, as in ``analyze_text``."""
    if future is None:
        return text, AnalysisResult()
    try:
        preprocessed = future.result()
    except PreprocessError as error:
        return text, AnalysisResult(diagnostics=(error.diagnostic,))
    try:
        return text, analyze_preprocessed(preprocessed, path, only_functions=touched)
    except Exception as error:  # noqa: BLE001 - bad input must come back as a diagnostic
        return text, AnalysisResult(diagnostics=(
            Diagnostic(path, None, f"internal analysis error: {type(error).__name__}: {error}"),))


def _touched_functions(text: str, path: str, patch: str) -> set[str]:
    """Functions of the new version whose lines the patch's hunks cover."""
    changed = changed_lines(patch)
    lines = set(changed.added)
    # A hunk cannot cover lines the file does not have: clamp, so a hostile or garbled header
    # (``@@ -1 +1,999999999 @@``) costs nothing.
    last_line = text.count("\n") + 1
    for hunk in changed.hunks:
        lines.update(line for line in range(hunk.new_range.start, min(hunk.new_range.stop, last_line + 1)))
    return changed_functions(text, path, lines)


def _parent_text(code: CodeSource, commit: Commit, path: str) -> str:
    """The file in the commit's first parent, or "" when it did not exist there."""
    parent = code.parent_of(commit.sha)
    if parent is None:
        return ""
    try:
        return code.file_at(parent, path)
    except NotFoundError:
        return ""


def _fix_for_top_finding(code: CodeSource, suspects: list[Suspect]) -> tuple[Fix | None, Suspect | None]:
    """Synthesize a fix for the best-ranked suspect's finding, against the default branch.

    The PR goes against the default branch as it is now, which may have moved past the suspect,
    so the file is re-analysed there and the matching finding (same function and variable) fixed.
    """
    for suspect in suspects:
        for finding in suspect.findings:
            try:
                current = code.file_at(code.default_branch, finding.file)
            except NotFoundError:
                continue
            result = analyze_text(current, finding.file)
            for candidate in result.findings:
                if (candidate.function, candidate.variable) != (finding.function, finding.variable):
                    continue
                fix = synthesize_fix(current, finding.file, candidate, lambda source: analyze_text(source, finding.file))
                if fix is not None:
                    return verify_fix(fix), suspect
    return None, None
