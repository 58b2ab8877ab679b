"""Run incident-tui, gcc -fanalyzer, clang's analyzer and cppcheck on the labelled corpus; score them.

Usage (from the repository root)::

    .venv/bin/python bench/compare.py --markdown docs/ANALYZER.md
    .venv/bin/python bench/compare.py --tools gcc,clang --verbose --json /tmp/bench.json

Every tool analyses every ``bench/corpus/*.c`` file in its own process (sequentially by default,
so the per-file wall-clock times are comparable). Findings are attributed to functions and scored
per (file, function, kind) against the ``EXPECT`` labels; see ``bench/scoring.py``. A tool that
is not installed is listed as missing and skipped; the run still exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the ``bench`` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report
from bench.labels import FILE_SCOPE, CorpusFile, load_corpus
from bench.scoring import Key, Score, expected_keys, score, score_by_kind
from bench.tools import TOOLS, Tool, ToolRun, describe_command, tool_version

DEFAULT_CORPUS = Path(__file__).resolve().parent / "corpus"
"""The corpus shipped with the repository."""


@dataclass(frozen=True)
class ToolResult:
    """Everything one tool produced over the corpus, scored."""

    name: str
    """The tool's name."""
    version: str
    """Its version line."""
    command: str
    """Its command line, with ``FILE.c`` as the placeholder."""
    runs: tuple[ToolRun, ...]
    """One timed invocation per corpus file."""
    reported: frozenset[Key]
    """The (file, function, kind) triples it reported."""
    score: Score
    """Its totals against the labels."""
    by_kind: dict[str, Score]
    """Its totals per kind."""
    batch_seconds: float | None = None
    """Seconds per file of one invocation over the whole corpus (start-up paid once)."""

    @property
    def mean_seconds(self) -> float:
        """Mean wall-clock time per file."""
        return sum(r.seconds for r in self.runs) / len(self.runs) if self.runs else 0.0

    @property
    def errors(self) -> list[ToolRun]:
        """The invocations that failed (crash, timeout, input error)."""
        return [r for r in self.runs if r.parsed.error]


@dataclass(frozen=True)
class Benchmark:
    """One whole run: the corpus, the labels and each tool's result."""

    files: tuple[CorpusFile, ...]
    """The parsed corpus."""
    expected: frozenset[Key]
    """Every labelled triple."""
    results: tuple[ToolResult, ...]
    """The tools that ran, in ``--tools`` order."""
    missing: tuple[str, ...]
    """Requested tools that are not installed."""


def attribute(file: CorpusFile, run: ToolRun) -> set[Key]:
    """Turn one run's findings into scored triples.

    The function is the one the tool names when it names a function defined in the file
    (incident-tui, gcc); otherwise the function whose definition spans the reported line.
    """
    names = file.names()
    keys: set[Key] = set()
    for finding in run.parsed.findings:
        function = finding.function if finding.function in names else None
        keys.add((file.path.name, function or file.function_at(finding.line), finding.kind))
    return keys


def run_tools(
    files: list[CorpusFile], tools: list[Tool], jobs: int, progress: bool
) -> dict[str, list[ToolRun]]:
    """Run every tool on every file; ``jobs`` > 1 runs invocations concurrently."""
    tasks = [(tool, f) for tool in tools for f in files]
    runs: dict[str, list[ToolRun]] = {tool.name: [] for tool in tools}

    def one(task: tuple[Tool, CorpusFile]) -> ToolRun:
        tool, f = task
        return tool.run(f.path)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for done, run in enumerate(pool.map(one, tasks), start=1):
            runs[run.tool].append(run)
            if progress:
                print(f"\r[{done}/{len(tasks)}] {run.tool}: {run.file:<48}", end="",
                      file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return runs


def benchmark(corpus: Path, tool_names: list[str], jobs: int = 1,
              progress: bool = False) -> Benchmark:
    """Load the corpus, run the available tools and score them.

    Args:
        corpus: directory of labelled ``*.c`` files.
        tool_names: which tools to run, in table order.
        jobs: concurrent invocations (1 keeps timings fair).
        progress: print a progress line on stderr.

    Returns:
        The scored run.
    """
    files = load_corpus(corpus)
    expected = expected_keys(files)
    wanted = [TOOLS[name] for name in tool_names]
    present = [t for t in wanted if t.available()]
    missing = tuple(t.name for t in wanted if not t.available())
    runs = run_tools(files, present, jobs, progress)
    by_name = {f.path.name: f for f in files}
    results = []
    for tool in present:
        reported: set[Key] = set()
        for run in runs[tool.name]:
            reported |= attribute(by_name[run.file], run)
        results.append(ToolResult(
            name=tool.name, version=tool_version(tool), command=describe_command(tool),
            runs=tuple(sorted(runs[tool.name], key=lambda r: r.file)),
            reported=frozenset(reported), score=score(expected, reported),
            by_kind=score_by_kind(expected, reported),
            batch_seconds=tool.time_batch([f.path for f in files]),
        ))
    return Benchmark(tuple(files), frozenset(expected), tuple(results), missing)


def to_json(bench: Benchmark) -> dict[str, object]:
    """A JSON-ready dump of the run: machine, totals, per-kind scores and every finding."""
    return {
        "machine": report.machine_info(),
        "files": len(bench.files),
        "expected": sorted(bench.expected),
        "missing_tools": list(bench.missing),
        "tools": [
            {
                "name": r.name, "version": r.version, "command": r.command,
                "tp": r.score.tp, "fp": r.score.fp, "fn": r.score.fn,
                "precision": r.score.precision, "recall": r.score.recall, "f1": r.score.f1,
                "mean_seconds": r.mean_seconds,
                "batch_seconds_per_file": r.batch_seconds,
                "by_kind": {k: asdict(s) for k, s in r.by_kind.items()},
                "reported": sorted(r.reported),
                "runs": [
                    {"file": run.file, "seconds": run.seconds, "error": run.parsed.error,
                     "ignored": run.parsed.ignored,
                     "findings": [asdict(f) for f in run.parsed.findings]}
                    for run in r.runs
                ],
            }
            for r in bench.results
        ],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help=f"comma-separated subset of {','.join(TOOLS)} (default: all)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="directory of labelled C files (default: bench/corpus)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="concurrent invocations (default 1, for fair timing)")
    parser.add_argument("--markdown", type=Path, metavar="PATH",
                        help="write the report as Markdown (replaces the generated block only)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the raw results as JSON")
    parser.add_argument("--verbose", action="store_true",
                        help="print a per-file breakdown and every tool error")
    args = parser.parse_args(argv)
    args.tool_names = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in args.tool_names if t not in TOOLS]
    if unknown:
        parser.error(f"unknown tool(s) {', '.join(unknown)}; choose from {', '.join(TOOLS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and optionally write) the report."""
    args = parse_args(argv)
    bench = benchmark(args.corpus, args.tool_names, args.jobs, progress=sys.stderr.isatty())
    print(report.text_summary(bench))
    if args.verbose:
        print()
        print(report.text_breakdown(bench))
    if args.markdown:
        report.write_markdown(args.markdown, report.markdown(bench, argv or sys.argv[1:]))
        print(f"\nwrote {args.markdown}")
    if args.json:
        args.json.write_text(json.dumps(to_json(bench), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


__all__ = ["FILE_SCOPE", "Benchmark", "ToolResult", "attribute", "benchmark", "main"]

if __name__ == "__main__":
    sys.exit(main())
