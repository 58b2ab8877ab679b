"""Per-function scoring: a (file, function, kind) triple is the unit that is right or wrong.

A triple that is labelled and reported is a true positive, one reported but not labelled a false
positive, one labelled but not reported a false negative. Reporting the same triple twice (two
leaks in one function, or one leak reported at two lines) counts once: the question each triple
answers is "does the tool flag this kind of bug in this function?".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bench.labels import KINDS, CorpusFile

Key = tuple[str, str, str]
"""(file name, function name, kind)."""


@dataclass(frozen=True)
class Score:
    """Counts of one tool's true positives, false positives and false negatives."""

    tp: int
    """Labelled and reported."""
    fp: int
    """Reported, not labelled."""
    fn: int
    """Labelled, not reported."""

    @property
    def precision(self) -> float | None:
        """TP / (TP + FP), or None when the tool reported nothing."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """TP / (TP + FN), or None when nothing was labelled."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall; None when either is undefined."""
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0


def expected_keys(files: Iterable[CorpusFile]) -> set[Key]:
    """Every labelled (file, function, kind) triple of the corpus."""
    return {
        (f.path.name, function.name, kind)
        for f in files
        for function in f.functions
        for kind in function.expected
    }


def score(expected: set[Key], reported: set[Key]) -> Score:
    """Compare reported triples with labelled ones.

    Args:
        expected: the labelled triples.
        reported: the triples a tool reported.

    Returns:
        The TP / FP / FN counts.
    """
    return Score(
        tp=len(expected & reported),
        fp=len(reported - expected),
        fn=len(expected - reported),
    )


def score_by_kind(expected: set[Key], reported: set[Key]) -> dict[str, Score]:
    """One :class:`Score` per finding kind, in :data:`KINDS` order."""
    return {
        kind: score(
            {k for k in expected if k[2] == kind},
            {k for k in reported if k[2] == kind},
        )
        for kind in KINDS
    }


def file_outcomes(expected: set[Key], reported: set[Key], file: str) -> dict[str, list[Key]]:
    """The TP, FP and FN triples of one file, each list sorted."""
    exp = {k for k in expected if k[0] == file}
    rep = {k for k in reported if k[0] == file}
    return {
        "tp": sorted(exp & rep),
        "fp": sorted(rep - exp),
        "fn": sorted(exp - rep),
    }


def fmt_ratio(value: float | None) -> str:
    """Format a precision/recall/F1 value for a table ("n/a" when undefined)."""
    return "n/a" if value is None else f"{value:.2f}"
