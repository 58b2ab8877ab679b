"""Rank the commits before an OOM kill by how likely each one caused it.

Every point a commit scores comes from a :class:`~analysis.model.Reason` whose label says what was
observed, so an engineer can check the ranking instead of trusting it. The weights live in one
table, :data:`WEIGHTS`, with the argument for each. Nothing here knows any particular repository:
the evidence is the shape of the change (frees removed, allocations added, files built), analysis
findings on the changed lines, timing and deployments. The module is pure: the caller fetches
commits and runs the analysis.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from analysis.diffs import (
    ALLOCATION_FUNCTIONS,
    ChangedLines,
    added_calls,
    changed_lines,
    removed_calls,
)
from analysis.model import Commit, Deployment, FindingKind, LeakFinding, Reason, Suspect


@dataclass(frozen=True)
class ScoringWeights:
    """Points per piece of evidence. Positive raises suspicion, negative lowers it."""

    memory_finding: float = 40
    """A leak the C analysis found on lines the commit changed: direct evidence, the strongest."""
    loop_bonus: float = 10
    """Extra for a leak inside a loop: it grows without bound, which is what ends in an OOM kill."""
    other_finding: float = 15
    """A double free, use-after-free or unclosed file on changed lines: a real bug, but one that
    crashes or exhausts descriptors rather than growing the heap, so weaker evidence here."""
    further_finding: float = 5
    """Each further finding: more of the same evidence, not an independent signal."""
    counted_findings: int = 4
    """Findings that score per commit (the strongest and three more); beyond them, the same
    evidence again. The cap also bounds what analysis can add to a commit's score, which lets the
    investigation skip analysing commits that could not reach the top (:func:`max_finding_points`)."""
    removes_free: float = 30
    """A ``free`` removed and not added back: the classic way a working program starts leaking."""
    further_free: float = 10
    """Each further removed ``free``."""
    adds_allocation: float = 15
    """A new heap allocation: needed for a leak but common in healthy changes, hence half a removed
    free."""
    further_allocation: float = 5
    """Each further new allocation."""
    touches_build: float = 10
    """Touches a file that is compiled into the workload: only such changes can alter its memory."""
    recency_max: float = 15
    """Committed right at the first OOM; halves every :attr:`recency_half_life`. Recent changes are
    likelier culprits, but timing alone is circumstantial, so it stays below the code evidence."""
    recency_half_life: timedelta = timedelta(hours=2)
    """How fast the recency points decay."""
    deployed: float = 15
    """A rollout containing the commit happened before the first OOM: the bug could be running."""
    not_deployed: float = -15
    """Rollouts are known but none after this commit preceded the OOM: it cannot be running."""
    docs_only: float = -40
    """Only documentation changed: it cannot change memory use. Large enough to cancel timing and
    deployment points, so such commits sort to the bottom."""


WEIGHTS = ScoringWeights()
"""The weights :func:`rank_commits` uses unless given others."""

FREE_FUNCTIONS: tuple[str, ...] = ("free",)
"""Calls whose removal is evidence of a new leak."""

_DOC_SUFFIXES = (".md", ".rst", ".adoc", ".txt")
_DOC_NAMES = ("readme", "changelog", "changes", "license", "authors", "contributing", "notice")
_DOC_DIRS = ("docs", "doc", "documentation")


def matches_glob(path: str, pattern: str) -> bool:
    """Whether a repository path matches a build glob.

    Semantics, like ``.gitignore``: a pattern without ``/`` (``*.c``) matches the file name at any
    depth; a pattern with ``/`` is anchored at the repository root, where ``*``, ``?`` and
    ``[...]`` match within one path segment (:func:`fnmatch.fnmatchcase`) and a ``**`` segment
    matches zero or more directories (``src/**/*.c`` matches ``src/a.c`` and ``src/x/y/a.c``).

    Args:
        path: ``/``-separated path relative to the repository root.
        pattern: The glob.

    Returns:
        True on a match (case-sensitive).
    """
    pattern = pattern.strip("/")
    if "/" not in pattern:
        return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)
    return _match_segments(path.strip("/").split("/"), pattern.split("/"))


def _match_segments(parts: Sequence[str], globs: Sequence[str]) -> bool:
    """Match path segments against glob segments, ``**`` spanning any number of segments."""
    if not globs:
        return not parts
    if globs[0] == "**":
        return any(_match_segments(parts[skip:], globs[1:]) for skip in range(len(parts) + 1))
    return (
        bool(parts)
        and fnmatch.fnmatchcase(parts[0], globs[0])
        and _match_segments(parts[1:], globs[1:])
    )


def is_built(path: str, build_globs: Sequence[str]) -> bool:
    """Whether ``path`` matches any of ``build_globs`` (see :func:`matches_glob`)."""
    return any(matches_glob(path, glob) for glob in build_globs)


def is_documentation(path: str) -> bool:
    """Whether a path is documentation: ``README*``, ``*.md``/``.rst``/``.adoc``/``.txt``, or under
    a ``docs/``, ``doc/`` or ``documentation/`` directory at any depth."""
    parts = path.lower().split("/")
    name = parts[-1]
    return (
        name.endswith(_DOC_SUFFIXES)
        or name.split(".", 1)[0] in _DOC_NAMES
        or any(part in _DOC_DIRS for part in parts[:-1])
    )


def findings_on_changed_lines(
    findings: Sequence[LeakFinding], patch: str | ChangedLines
) -> tuple[LeakFinding, ...]:
    """Keep the findings that lie on a change (the caller matches files).

    A finding is on the change when any of its lines (``line``, ``alloc_line``, ``lost_line``,
    ``fix_line``, ``loop_line``) is an added line or falls in a hunk's new-file range (which for a
    pure deletion, such as a removed ``free(buffer);``, is the context around the deletion), or
    when its function is one the hunks' changes sit in (a deletion elsewhere in the same function).

    Args:
        findings: Findings from analysing the file at the commit (new-file line numbers).
        patch: The file's diff in that commit, or its parsed :class:`ChangedLines`.

    Returns:
        The findings on the change, in their original order.
    """
    changes = patch if isinstance(patch, ChangedLines) else changed_lines(patch)
    if changes.is_empty:
        return ()
    added = set(changes.added)
    functions = {name for hunk in changes.hunks for name in hunk.functions}
    kept: list[LeakFinding] = []
    for finding in findings:
        lines = {
            n
            for n in (
                finding.line,
                finding.alloc_line,
                finding.lost_line,
                finding.fix_line,
                finding.loop_line,
            )
            if n is not None
        }
        in_hunk = any(n in hunk.new_range for hunk in changes.hunks for n in lines)
        if lines & added or in_hunk or finding.function in functions:
            kept.append(finding)
    return tuple(kept)


def deployment_containing(
    commit: Commit,
    deployments: Sequence[Deployment],
    *,
    first_oom: datetime,
    known_commits: Sequence[Commit] = (),
) -> Deployment | None:
    """The first rollout at or before ``first_oom`` that can contain ``commit``.

    Deployments often carry no SHA, so time stands in for ancestry on first-parent history: a
    rollout after the commit landed contains it, unless its SHA is a known commit that landed
    before this one. A rollout of exactly this SHA always counts.

    Args:
        commit: The candidate.
        deployments: Rollouts, any order.
        first_oom: The first OOM kill.
        known_commits: Other commits of the branch, to place deployed SHAs in time.

    Returns:
        The earliest such deployment, or ``None``.
    """
    landed = {c.sha: c.committed_at for c in known_commits}
    candidates = []
    for deployment in deployments:
        if deployment.at > first_oom:
            continue
        if deployment.sha is not None and deployment.sha == commit.sha:
            candidates.append(deployment)
            continue
        deployed_landed = landed.get(deployment.sha) if deployment.sha else None
        if deployment.at >= commit.committed_at and (
            deployed_landed is None or deployed_landed >= commit.committed_at
        ):
            candidates.append(deployment)
    return min(candidates, key=lambda d: d.at, default=None)


def _minutes(delta: timedelta) -> str:
    """``47 min``, ``2 h`` or ``5 h 10 min``."""
    total = max(0, round(delta.total_seconds() / 60))
    if total < 60:
        return f"{total} min"
    return f"{total // 60} h {total % 60} min" if total % 60 else f"{total // 60} h"


def _finding_reasons(findings: Sequence[LeakFinding], weights: ScoringWeights) -> list[Reason]:
    """One reason per finding, strongest first; only the strongest counts in full."""
    scored: list[tuple[float, LeakFinding]] = []
    for finding in findings:
        if finding.kind in (FindingKind.LEAK, FindingKind.LEAK_IN_LOOP):
            weight = weights.memory_finding
            if finding.kind is FindingKind.LEAK_IN_LOOP:
                weight += weights.loop_bonus
        else:
            weight = weights.other_finding
        scored.append((weight, finding))
    scored.sort(key=lambda pair: -pair[0])
    reasons = []
    for index, (weight, f) in enumerate(scored):
        where = f"{f.function}() at {f.file}:{f.line}"
        label = f"{f.kind.value} of {f.variable} in {where} on changed lines"
        points = weight if index == 0 else weights.further_finding if index < weights.counted_findings else 0
        reasons.append(Reason(label, points))
    return reasons


def finding_points(findings: Sequence[LeakFinding], weights: ScoringWeights = WEIGHTS) -> float:
    """What ``findings`` add to a commit's score."""
    return sum(reason.weight for reason in _finding_reasons(findings, weights))


def max_finding_points(weights: ScoringWeights = WEIGHTS) -> float:
    """The most that analysis findings can add to any commit's score."""
    strongest = max(weights.memory_finding + weights.loop_bonus, weights.other_finding)
    return strongest + weights.further_finding * max(weights.counted_findings - 1, 0)


def _call_reasons(
    commit: Commit, build_globs: Sequence[str], weights: ScoringWeights
) -> list[Reason]:
    """Removed frees and added allocations in built files."""
    reasons: list[Reason] = []
    frees = allocations = 0
    for change in commit.files:
        if not is_built(change.path, build_globs) or not change.patch:
            continue
        parsed = changed_lines(change.patch)
        for call in removed_calls(parsed, FREE_FUNCTIONS):
            weight = weights.removes_free if frees == 0 else weights.further_free
            reasons.append(Reason(f"removes {call.text} in {change.path}", weight))
            frees += 1
        for call in added_calls(parsed, ALLOCATION_FUNCTIONS):
            weight = weights.adds_allocation if allocations == 0 else weights.further_allocation
            reasons.append(Reason(f"adds {call.name}({call.arguments}) in {change.path}", weight))
            allocations += 1
    return reasons


def _score(
    commit: Commit,
    *,
    first_oom: datetime,
    deployments: Sequence[Deployment],
    known: Sequence[Commit],
    build_globs: Sequence[str],
    findings: Sequence[LeakFinding],
    weights: ScoringWeights,
) -> list[Reason]:
    """Every reason for one commit."""
    reasons: list[Reason] = []
    paths = [change.path for change in commit.files]
    if paths and all(is_documentation(path) for path in paths):
        shown = ", ".join(paths[:3]) + (" ..." if len(paths) > 3 else "")
        reasons.append(Reason(f"documentation-only change ({shown})", weights.docs_only))
    built = [path for path in paths if is_built(path, build_globs)]
    if built:
        shown = ", ".join(built[:3]) + (f" and {len(built) - 3} more" if len(built) > 3 else "")
        reasons.append(Reason(f"touches built source {shown}", weights.touches_build))
    reasons.extend(_call_reasons(commit, build_globs, weights))
    reasons.extend(_finding_reasons(findings, weights))

    age = first_oom - commit.committed_at
    half_lives = age / weights.recency_half_life
    recency = round(weights.recency_max * 0.5**half_lives)
    if recency >= 1:
        reasons.append(Reason(f"committed {_minutes(age)} before the first OOM", recency))

    if deployments:
        deployment = deployment_containing(
            commit, deployments, first_oom=first_oom, known_commits=known
        )
        if deployment is None:
            reasons.append(
                Reason("no deployment between this commit and the first OOM", weights.not_deployed)
            )
        else:
            label = (
                f"first deployment after this commit at {deployment.at:%H:%M} UTC "
                f"(revision {deployment.revision}), OOM {_minutes(first_oom - deployment.at)} later"
            )
            reasons.append(Reason(label, weights.deployed))
    return reasons


def rank_commits(
    commits: Sequence[Commit],
    *,
    first_oom: datetime,
    deployments: Sequence[Deployment],
    build_globs: Sequence[str],
    findings_by_sha: Mapping[str, Sequence[LeakFinding]],
    window: timedelta = timedelta(hours=24),
    weights: ScoringWeights = WEIGHTS,
) -> list[Suspect]:
    """Rank the commits that landed in the window before the first OOM kill.

    Args:
        commits: Commits of the default branch (any order, may extend past the window).
        first_oom: When the container was first OOM-killed (UTC).
        deployments: Known rollouts; empty when unknown, which then neither helps nor hurts.
        build_globs: Globs of files compiled into the workload (see :func:`matches_glob`).
        findings_by_sha: Per commit SHA, the analysis findings already intersected with the lines
            it changed (see :func:`findings_on_changed_lines`).
        window: How far before ``first_oom`` to look.
        weights: Points per piece of evidence.

    Returns:
        Suspects committed in ``[first_oom - window, first_oom]``, by score (clamped at 0)
        descending, ties broken by the unclamped sum (so negative evidence still orders the
        bottom) and then by recency.
    """
    since = first_oom - window
    in_window = [c for c in commits if since <= c.committed_at <= first_oom]
    ranked: list[tuple[float, float, datetime, Suspect]] = []
    for commit in in_window:
        findings = tuple(findings_by_sha.get(commit.sha, ()))
        reasons = _score(
            commit,
            first_oom=first_oom,
            deployments=deployments,
            known=commits,
            build_globs=build_globs,
            findings=findings,
            weights=weights,
        )
        raw = sum(reason.weight for reason in reasons)
        suspect = Suspect(commit, max(0.0, float(raw)), tuple(reasons), findings)
        ranked.append((suspect.score, raw, commit.committed_at, suspect))
    ranked.sort(key=lambda item: (item[0], item[1], item[2]), reverse=True)
    return [item[3] for item in ranked]
