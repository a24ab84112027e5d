"""Run directories read back for charts, the scorecard and reports: one loader for simulated and
measured runs alike, beside the writer (``rundir.py``).

A chart never runs the engine; it reads what a run left on disk (``summary.json``,
``timeseries.csv``, ``resolved.json``) through :func:`load_runs`, which gives one
:class:`VariantRun` per variant of every run directory passed. Several run directories can be
charted together (a simulation beside a Locust measurement, or the runs of a load sweep), so each
variant gets a ``label`` unique across the set; ``charts`` then gives each label one colour for every chart.

Every number in ``summary.json`` is an estimate ``{"mean", "ci95", "low", "high", "n", "values"}``;
:func:`estimate` reads one by a dotted path and never raises for a missing optional figure.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ArchsimError
from ..suggest import quoted, shown
from ..textfile import read_text

#: Largest run file read back (a long run's time series can be large; a damaged one can be anything).
MAX_RUN_FILE_BYTES = 2_000_000_000

#: Styles the variant names are matched against when ``extras.style`` is absent, in match order.
STYLE_NAMES = {
    "space-based": ("space-based", "spacebased", "space_based", "space"),
    "service-based": ("service-based", "servicebased", "service_based"),
    "event-driven": ("event-driven", "eventdriven", "event_driven", "events", "eda"),
    "microservices": ("microservices", "microservice", "micro"),
    "microkernel": ("microkernel", "plugin", "plug-in"),
    "monolith": ("monolith", "layered", "monolithic"),
}


@dataclass(frozen=True)
class Estimate:
    """A figure measured over replications: its mean and the half-width of its 95% CI."""

    mean: float
    ci95: float | None = None  #: Half-width of the 95% confidence interval; None with one replication.
    values: tuple[float, ...] = ()  #: One value per replication, for differences between runs.

    @property
    def low(self) -> float:
        return self.mean - (self.ci95 or 0.0)

    @property
    def high(self) -> float:
        return self.mean + (self.ci95 or 0.0)


def estimate(block: Any, path: str) -> Estimate | None:
    """The estimate at dotted ``path`` inside ``block`` (``None`` if absent or not a number).

    Accepts the estimate objects of ``summary.json`` and plain numbers (as extras may hold).
    """
    value = block
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Estimate(float(value)) if math.isfinite(value) else None
    if isinstance(value, dict) and "mean" in value:
        mean = value.get("mean")
        if mean is None or not math.isfinite(float(mean)):
            return None
        ci = value.get("ci95")
        values = tuple(float(v) for v in value.get("values") or () if v is not None)
        return Estimate(float(mean), float(ci) if ci is not None and math.isfinite(float(ci)) else None, values)
    return None


def text(block: Any, path: str) -> str | None:
    """A plain string at dotted ``path`` (e.g. ``extras.style``), or None."""
    value = block
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, str) and value else None


@dataclass
class VariantRun:
    """One variant of one run directory, as the charts see it."""

    name: str  #: Variant name in its scenario.
    label: str  #: Name shown in charts: the variant name, or ``run/variant`` when names repeat.
    run_dir: Path
    source: str  #: ``simulation`` or ``measured``.
    block: dict[str, Any] = field(repr=False)  #: The variant's block of ``summary.json``.
    summary: dict[str, Any] = field(repr=False)  #: The whole ``summary.json`` (scenario, seed, durations).
    scenario: dict[str, Any] | None = field(default=None, repr=False)  #: This variant's resolved scenario, if any.
    #: Time-series column -> one list of values per replication.
    timeseries: dict[str, list[list[float]]] = field(default_factory=dict, repr=False)
    colour: str = "C0"
    linestyle: str = "-"  #: Set with the colour: past the palette's colours, series differ by line style too.

    def get(self, path: str) -> Estimate | None:
        """The estimate at ``path`` in the variant block, e.g. ``overall.latency_p95_s``."""
        return estimate(self.block, path)

    @property
    def style(self) -> str | None:
        """Architecture style: ``extras.style`` if the run says, else guessed from the variant name."""
        declared = text(self.block, "extras.style")
        if declared:
            return declared
        lowered = self.name.lower()
        for style, words in STYLE_NAMES.items():
            if any(word in lowered for word in words):
                return style
        return None

    @property
    def platform(self) -> str | None:
        """Platform kind (``vm``, ``container``, ...) if the run records one."""
        return text(self.block, "extras.platform_kind")

    @property
    def offered_per_s(self) -> Estimate | None:
        """Offered load: arrivals per second in the measured window (finished or not), else the mean
        of the time series' offered load."""
        rate = self.get("overall.offered_rate_per_s")
        if rate is not None:
            return rate
        series = self.series("offered_per_s")
        return Estimate(float(sum(series[1]) / len(series[1]))) if series and series[1] else None

    def series(self, column: str) -> tuple[list[float], list[float], list[float], list[float]] | None:
        """``(time_s, mean, low, high)`` of a time-series column over replications (low/high: min/max)."""
        if column not in self.timeseries or "time_s" not in self.timeseries:
            return None
        by_time: dict[float, list[float]] = defaultdict(list)
        for times, values in zip(self.timeseries["time_s"], self.timeseries[column]):
            for t, v in zip(times, values):
                if not math.isnan(v) and not math.isnan(t):
                    by_time[t].append(v)
        if not by_time:
            return None
        times = sorted(by_time)
        return (
            times,
            [sum(by_time[t]) / len(by_time[t]) for t in times],
            [min(by_time[t]) for t in times],
            [max(by_time[t]) for t in times],
        )


def _float(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return math.nan


def _run_file(path: Path) -> str:
    """The text of a run file, or one line naming it and saying what is wrong with it."""
    try:
        return read_text(path, "run file", MAX_RUN_FILE_BYTES)
    except ValueError as exc:
        raise ArchsimError(f"{shown(path)}: {exc}") from None


def _damaged_timeseries(path: Path, text: str) -> dict[tuple[str, str], list[dict[str, str]]]:
    """Rows of ``timeseries.csv`` grouped by (variant, replication), checked structurally: a header
    with ``variant``, every row as long as the header, every other cell a number or empty."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ArchsimError(f"{shown(path)}: empty time series (no header row)") from None
    except csv.Error as exc:
        raise ArchsimError(f"{shown(path)}: not a CSV file ({shown(exc, 80)})") from None
    if "variant" not in header:
        raise ArchsimError(f"{shown(path)}: not an archsim time series (no 'variant' column in the header)")
    rows_by: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    try:
        for row in reader:
            line = reader.line_num
            if len(row) != len(header):
                raise ArchsimError(f"{shown(path)}:{line}: {len(row)} fields where the header has {len(header)} (truncated or damaged)")
            cells = dict(zip(header, row))
            for column, cell in cells.items():
                if column != "variant" and cell and math.isnan(_float(cell)) and cell.lower() != "nan":
                    raise ArchsimError(f"{shown(path)}:{line}: column {quoted(column, 60)}: {quoted(cell, 60)} is not a number")
            rows_by[(cells["variant"], cells.get("replication", "0"))].append(cells)
    except csv.Error as exc:
        raise ArchsimError(f"{shown(path)}:{reader.line_num}: not a CSV file ({shown(exc, 80)})") from None
    return rows_by


def read_timeseries(path: Path) -> dict[str, dict[str, list[list[float]]]]:
    """``timeseries.csv`` as variant -> column -> one list of values per replication.

    A missing file is no time series; a damaged one is an :class:`ArchsimError` naming the line."""
    out: dict[str, dict[str, list[list[float]]]] = {}
    if not path.exists():
        return out
    text = _run_file(path)
    if not text.strip():  # a run that recorded no interval (e.g. a load test that never started)
        return out
    rows_by = _damaged_timeseries(path, text)
    for (variant, _rep), rows in rows_by.items():
        columns = out.setdefault(variant, {})
        for key in rows[0]:
            if key in ("variant", "replication") or key is None:
                continue
            columns.setdefault(key, []).append([_float(row.get(key) or "") for row in rows])
    return out


def read_summary(run_dir: Path) -> dict[str, Any]:
    """``summary.json`` of ``run_dir``; an :class:`ArchsimError` if it is not a run directory."""
    path = Path(run_dir) / "summary.json"
    if not path.exists():
        raise ArchsimError(f"{shown(run_dir)}: not a run directory (no summary.json)")
    summary = _json_file(path, "run summary")
    if not isinstance(summary, dict) or not isinstance(summary.get("variants"), dict):
        raise ArchsimError(f"{shown(path)}: not an archsim run summary (no `variants` mapping)")
    for name, block in summary["variants"].items():
        problem = _shape_problem(block)
        if problem:
            raise ArchsimError(f"{shown(path)}: variants.{shown(name, 60)}{problem}")
    return summary


def _json_file(path: Path, what: str) -> Any:
    text = _run_file(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchsimError(f"{shown(path)}:{exc.lineno}: not valid JSON ({exc.msg}): a damaged or truncated {what}") from None
    except RecursionError:
        raise ArchsimError(f"{shown(path)}: nested too deeply to be a {what}") from None


def _shape_problem(block: Any) -> str | None:
    """What is structurally wrong with one variant's block (``None`` if nothing): a mapping with an
    ``overall`` mapping, and every estimate's ``mean`` a number or null."""
    if not isinstance(block, dict):
        return f": expected a mapping of figures, got {type(block).__name__}"
    if not isinstance(block.get("overall"), dict):
        return ": no `overall` figures (not a finished variant)"
    stack: list[tuple[str, Any]] = [("", block)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            if "mean" in node:
                mean = node["mean"]
                if mean is not None and (isinstance(mean, bool) or not isinstance(mean, (int, float))):
                    return f"{where}.mean: {shown(repr(mean), 60)} is not a number"
            stack.extend((f"{where}.{key}", value) for key, value in node.items() if isinstance(value, dict))
    return None


def load_runs(run_dirs: list[Path] | Path) -> list[VariantRun]:
    """Every variant of every run directory, labelled uniquely (charts give them colours)."""
    dirs = [Path(run_dirs)] if isinstance(run_dirs, (str, Path)) else [Path(d) for d in run_dirs]
    variants: list[VariantRun] = []
    for run_dir in dirs:
        summary = read_summary(run_dir)
        resolved: dict[str, Any] = {}
        resolved_path = run_dir / "resolved.json"
        if resolved_path.exists():
            document = _json_file(resolved_path, "resolved scenario")
            if not isinstance(document, dict) or not isinstance(document.get("variants", {}), dict):
                raise ArchsimError(f"{shown(resolved_path)}: not an archsim resolved scenario (no `variants` mapping)")
            resolved = document.get("variants", {})
        series = read_timeseries(run_dir / "timeseries.csv")
        if not summary["variants"]:
            status = summary.get("status")
            raise ArchsimError(f"{shown(run_dir)}: no finished variant in summary.json (status {quoted(status)}): nothing to report")
        for name, block in summary["variants"].items():
            variants.append(VariantRun(
                name=name, label=name, run_dir=run_dir, source=summary.get("source", "simulation"),
                block=block, summary=summary, scenario=resolved.get(name), timeseries=series.get(name, {}),
            ))
    _label(variants)
    return variants


def _label(variants: list[VariantRun]) -> None:
    """Make labels unique: ``variant``, else ``run-folder/variant``, else add the source."""
    counts: dict[str, int] = defaultdict(int)
    for v in variants:
        counts[v.name] += 1
    for v in variants:
        if counts[v.name] > 1:
            v.label = f"{v.run_dir.name}/{v.name}"
    seen: dict[str, int] = defaultdict(int)
    for v in variants:
        seen[v.label] += 1
    for v in variants:
        if seen[v.label] > 1:
            v.label = f"{v.run_dir.parent.name}/{v.run_dir.name}/{v.name} ({v.source})"
