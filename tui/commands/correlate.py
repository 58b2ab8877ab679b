"""``incident-tui correlate``: rank a repository's recent commits against an OOM kill.

Loads the default branch's commits in the window before ``--at`` from a local clone, runs the C
analysis on the built files each commit touched (when the analyzer is installed), keeps the
findings on the changed lines and prints the ranked suspects as a table or JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from analysis.correlation import findings_on_changed_lines, is_built, rank_commits
from analysis.model import Commit, Deployment, LeakFinding, Suspect
from tui.sources.base import SourceError
from tui.sources.git_local import LocalGitCodeSource

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

Analyzer = Callable[[str, str], tuple[Sequence[LeakFinding], Sequence[str]]]
"""``(source text, path) -> (findings, problems with the input)``."""


class UsageError(Exception):
    """A bad argument; the message says which and why (exit status 2)."""


def parse_duration(text: str) -> timedelta:
    """Parse ``90m``, ``24h``, ``2d`` (also ``s`` and ``w``) into a positive timedelta.

    Raises:
        UsageError: The text is not a positive number followed by a unit.
    """
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise UsageError(f"--window {text!r}: expected a positive duration like 90m, 24h or 2d")
    return timedelta(**{_UNITS[match.group(2).lower()]: float(match.group(1))})


def parse_time(text: str, option: str = "--at") -> datetime:
    """Parse an ISO 8601 time; without an offset it is taken as UTC.

    Raises:
        UsageError: The text is not ISO 8601.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option} {text!r}: not an ISO 8601 time (e.g. 2024-05-01T10:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _deployment(text: str, index: int) -> Deployment:
    """``ISO8601`` or ``ISO8601=SHA`` from ``--deployed-at``."""
    at_text, _, sha = text.partition("=")
    at = parse_time(at_text, "--deployed-at")
    return Deployment(at, f"cli-{index}", sha or None, "given on the command line")


def load_analyzer() -> tuple[Analyzer | None, str | None]:
    """The C analyzer if it is installed, else ``None`` and a note saying so.

    Imported lazily so that ``correlate`` works (without findings) where the analyzer and its
    dependencies are missing.
    """
    try:
        from tui.sources.c_preprocess import analyze_text
    except ImportError as error:
        return None, f"C analysis unavailable ({error}); ranking without findings"

    def analyze(text: str, path: str) -> tuple[Sequence[LeakFinding], Sequence[str]]:
        result: Any = analyze_text(text, path)
        problems = [d.message for d in getattr(result, "diagnostics", ())]
        return tuple(getattr(result, "findings", result)), problems

    return analyze, None


def collect_findings(
    source: LocalGitCodeSource,
    commits: Sequence[Commit],
    globs: Sequence[str],
    analyze: Analyzer | None,
    notes: list[str],
) -> dict[str, tuple[LeakFinding, ...]]:
    """Per commit SHA, the findings on the lines it changed in built files.

    Args:
        source: Where file versions come from.
        commits: The commits to examine.
        globs: Build globs selecting the files to analyse.
        analyze: The analyzer, or ``None`` for no findings.
        notes: Problems are appended here (one file failing does not stop the rest).

    Returns:
        Findings per SHA (commits without findings are absent).
    """
    found: dict[str, tuple[LeakFinding, ...]] = {}
    if analyze is None:
        return found
    for commit in commits:
        kept: list[LeakFinding] = []
        for change in commit.files:
            if change.status == "removed" or not change.patch or not is_built(change.path, globs):
                continue
            try:
                findings, problems = analyze(source.file_at(commit.sha, change.path), change.path)
            except Exception as error:  # noqa: BLE001 - one unparsable file must not stop ranking
                notes.append(f"{commit.short_sha} {change.path}: analysis failed ({error})")
                continue
            notes += [f"{commit.short_sha} {change.path}: {problem}" for problem in problems]
            kept += findings_on_changed_lines(findings, change.patch)
        if kept:
            found[commit.sha] = tuple(kept)
    return found


def add_parser(subparsers: Any) -> None:
    """Register ``correlate`` on the CLI's sub-parsers."""
    parser = subparsers.add_parser(
        "correlate",
        help="rank recent commits of a local repository against an OOM kill",
        description="Rank the commits that landed before an OOM kill by how likely each caused it.",
    )
    parser.add_argument("--repo", required=True, help="path of the local git repository")
    parser.add_argument(
        "--at",
        required=True,
        help="time of the first OOM kill, ISO 8601 (UTC when it has no offset)",
    )
    parser.add_argument("--window", default="24h", help="how far back to look: 90m, 24h, 2d")
    parser.add_argument("--branch", default="main", help="the branch deployments come from")
    parser.add_argument(
        "--sources",
        nargs="+",
        default=["*.c"],
        metavar="GLOB",
        help="globs of built files; '*.c' matches at any depth, 'src/**/*.c' "
        "is anchored at the root",
    )
    parser.add_argument(
        "--deployed-at",
        action="append",
        default=[],
        metavar="ISO8601[=SHA]",
        help="a rollout time (and its SHA), may be repeated",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def _suspect_json(suspect: Suspect) -> dict[str, Any]:
    commit = suspect.commit
    return {
        "sha": commit.sha,
        "short_sha": commit.short_sha,
        "subject": commit.subject,
        "author": commit.author,
        "committed_at": commit.committed_at.isoformat(),
        "score": suspect.score,
        "confidence": suspect.confidence,
        "reasons": [{"label": r.label, "weight": r.weight} for r in suspect.reasons],
        "files": [change.path for change in commit.files],
        "findings": [
            {
                "file": f.file,
                "line": f.line,
                "function": f.function,
                "kind": f.kind.value,
                "message": f.message,
            }
            for f in suspect.findings
        ],
    }


def render_text(suspects: Sequence[Suspect], header: str, notes: Sequence[str]) -> str:
    """The ranked table with each suspect's reasons under it."""
    lines = [header, ""]
    if not suspects:
        lines.append("No commits on the branch in the window.")
    else:
        lines.append(
            f"{'#':>2}  {'SCORE':>5}  {'CONF':<6}  {'SHA':<7}  {'COMMITTED (UTC)':<16}  "
            f"{'AUTHOR':<16}  SUBJECT"
        )
    for rank, suspect in enumerate(suspects, start=1):
        commit = suspect.commit
        lines.append(
            f"{rank:>2}  {suspect.score:>5.0f}  {suspect.confidence:<6}  "
            f"{commit.short_sha:<7}  {commit.committed_at:%Y-%m-%d %H:%M}  "
            f"{commit.author[:16]:<16}  {commit.subject}"
        )
        for reason in sorted(suspect.reasons, key=lambda r: -abs(r.weight)):
            lines.append(f"{'':>10}{reason.weight:+5.0f}  {reason.label}")
    lines += [f"note: {note}" for note in notes]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Rank and print the suspects.

    Returns:
        0 on success, 2 for a bad argument (time, window, repository, branch), 1 when git fails.
    """
    try:
        first_oom = parse_time(args.at)
        window = parse_duration(args.window)
        deployments = [_deployment(text, n) for n, text in enumerate(args.deployed_at, start=1)]
        repo = Path(args.repo)
        if not repo.is_dir():
            raise UsageError(f"--repo {args.repo}: no such directory")
        source = LocalGitCodeSource(
            repo, default_branch=args.branch, build_globs=tuple(args.sources)
        )
        commits = source.commits(first_oom - window, first_oom)
    except UsageError as error:
        print(f"incident-tui correlate: {error}", file=sys.stderr)
        return 2
    except SourceError as error:  # not a repository, unknown branch: the user's input is wrong
        print(f"incident-tui correlate: {error}", file=sys.stderr)
        return 2
    notes: list[str] = []
    analyze, note = load_analyzer()
    if note:
        notes.append(note)
    try:
        findings = collect_findings(source, commits, args.sources, analyze, notes)
    except SourceError as error:
        print(f"incident-tui correlate: {error}", file=sys.stderr)
        return 1
    suspects = rank_commits(
        commits,
        first_oom=first_oom,
        deployments=deployments,
        build_globs=args.sources,
        findings_by_sha=findings,
        window=window,
    )
    if args.format == "json":
        payload = {
            "repository": source.repository,
            "branch": source.default_branch,
            "window": {
                "since": (first_oom - window).isoformat(),
                "until": first_oom.isoformat(),
                "seconds": window.total_seconds(),
            },
            "suspects": [_suspect_json(suspect) for suspect in suspects],
            "notes": notes,
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        header = (
            f"Suspects in {source.repository} ({source.default_branch}) for an OOM kill at "
            f"{first_oom:%Y-%m-%d %H:%M:%S} UTC, window {args.window} "
            f"(since {first_oom - window:%Y-%m-%d %H:%M:%S} UTC)"
        )
        sys.stdout.write(render_text(suspects, header, notes))
    return 0
