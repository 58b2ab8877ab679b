"""One row of a benchmark's results file, in the shape bench/performance_report.py reads."""

from __future__ import annotations


def measure(name: str, value: float, unit: str, target: float | None, note: str) -> dict[str, object]:
    """One row of the results file (lower is better; a target of 0 means none at all)."""
    met = None if target is None else (value <= 0 if target == 0 else value < target)
    return {"name": name, "value": round(value, 3), "unit": unit, "target": target, "met": met, "note": note}
