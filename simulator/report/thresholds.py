"""The report's "Thresholds and validity" section: what ``archsim loadtest`` judged (``checks`` in
summary.json): each threshold's measured figure and pass/fail, and why a run is not valid (the
target failed, the generator fell behind). Runs without ``checks`` add no rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..results.rundata import VariantRun
from .. import formatting

HEADER = ["run", "check", "measured", "result"]


def shown(metric: str, value: float | None) -> str:
    """A threshold's measured figure in its unit (``not measured`` when there is none)."""
    if value is None:
        return "not measured"
    if metric in ("errors", "error_rate"):
        return formatting.percent(value)
    if metric == "throughput":
        return formatting.rate(value)
    return formatting.duration(value)


def threshold_rows(variants: list[VariantRun]) -> list[list[str]]:
    """One row per threshold and per validity problem, for every run directory that has checks."""
    rows = []
    summaries: dict[Path, dict[str, Any]] = {v.run_dir: v.summary for v in variants}
    for run_dir, summary in summaries.items():
        checks = summary.get("checks") or {}
        name = run_dir.name
        for t in checks.get("thresholds", []):
            rows.append([name, t["threshold"], shown(t["metric"], t.get("value")), "pass" if t["passed"] else "FAIL"])
        for problem in checks.get("problems", []):
            rows.append([name, f"status {summary.get('status', '?')}", problem, "FAIL"])
        if checks and not checks.get("thresholds") and not checks.get("problems"):
            rows.append([name, "valid run (target answered, generator kept up)", "-", "pass"])
    return rows
