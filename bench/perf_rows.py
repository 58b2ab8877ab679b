"""One row of a benchmark's results file, in the shape bench/performance_report.py reads.

Every ``bench/perf_*.py`` script builds its rows here, so they agree on what ``met`` means.
"""

from __future__ import annotations


def measure(name: str, value: float | None, unit: str, target: float | None, note: str) -> dict[str, object]:
    """One row (lower is better): ``met`` is ``None`` without a target or a value, and a target of 0
    means none at all."""
    if target is None or value is None:
        met = None
    else:
        met = value <= 0 if target == 0 else value < target
    return {"name": name, "value": None if value is None else round(value, 3), "unit": unit, "target": target,
            "met": met, "note": note}
