"""The tidy table of a sweep: ``sweep.csv`` (and ``sweep.parquet`` when pyarrow is installed).

One row per point x variant x metric, ready for pandas
(``pd.read_csv("sweep.csv").query("metric == 'overall.latency_p95_s'")``). Columns:

- ``variant``: the variant's name in ``summary.json`` (point and declared variant together);
  ``base_variant``: the name under ``variants:`` (``base`` without variants); ``point``: the
  point's number; ``label``: its name;
- one column per swept path (``workload.rate``, ``style.kind``, ...): the value at that point, as
  a number where the field is one (``250/s`` -> ``250.0``, read back from the validated scenario)
  and as written otherwise;
- ``metric``: a dotted path into the variant's block of ``summary.json`` (``overall.throughput_per_s``,
  ``classes.browse.latency_p95_s``, ``services.db.utilisation``, ``extras.cost...``);
- ``mean``, ``ci95`` (half-width of the 95% Student-t interval, empty with one replication),
  ``low``, ``high``, ``n`` (replications). Pooled percentiles have a mean only.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from ..results.rundir import atomic_write
from ..scenario.load import Variant
from ..scenario.sweep import Sweep

TABLE_CSV = "sweep.csv"
TABLE_PARQUET = "sweep.parquet"
#: Blocks of a variant's summary that hold metrics (the rest are histograms, events, labels).
METRIC_BLOCKS = ("overall", "classes", "services", "system", "extras")
FIXED_COLUMNS = ("variant", "base_variant", "point", "label")
VALUE_COLUMNS = ("metric", "mean", "ci95", "low", "high", "n")


def sweep_header(sweep: Sweep, variants: list[Variant]) -> dict[str, Any]:
    """The ``sweep`` block of ``summary.json``: the design as written and its size."""
    points = {v.point.index for v in variants if v.point is not None}
    declared = list(dict.fromkeys(v.declared for v in variants))
    return {
        "paths": sweep.paths(),
        "points": len(points),
        "variants": declared,
        "streams": sweep.streams,
        "design": sweep.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def _lookup(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def sweep_point(variant: Variant) -> dict[str, Any]:
    """The ``sweep`` block of one variant: its point, its values as written and as numbers."""
    point = variant.point
    assert point is not None
    resolved = variant.scenario.model_dump(mode="json", by_alias=True)
    numbers: dict[str, float | None] = {}
    for path, value in point.values.items():
        checked = _lookup(resolved, path)
        numbers[path] = float(checked) if _is_number(checked) else float(value) if _is_number(value) else None
    return {"point": point.index, "label": point.label, "variant": variant.declared, "seed": point.seed,
            "values": dict(point.values), "numbers": numbers}


def _metrics(block: Any, prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    """(dotted path, estimate) for every number in ``block``; plain numbers become a mean only."""
    out: list[tuple[str, dict[str, Any]]] = []
    if not isinstance(block, dict):
        return out
    for key, value in block.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and "mean" in value and "n" in value:
            out.append((path, value))
        elif isinstance(value, dict):
            out.extend(_metrics(value, path))
        elif _is_number(value):
            out.append((path, {"mean": value}))
    return out


def table_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of the tidy table, variants in summary order, metrics in block order."""
    paths = summary["sweep"]["paths"]
    rows = []
    for name, block in summary["variants"].items():
        point = block.get("sweep")
        if not point:
            continue
        fixed: dict[str, Any] = {"variant": name, "base_variant": point["variant"], "point": point["point"], "label": point["label"]}
        for path in paths:
            number = point["numbers"].get(path)
            fixed[path] = number if number is not None else point["values"].get(path)
        for section in METRIC_BLOCKS:
            for metric, value in _metrics(block.get(section), section):
                rows.append({**fixed, "metric": metric, "mean": value.get("mean"), "ci95": value.get("ci95"),
                             "low": value.get("low"), "high": value.get("high"), "n": value.get("n")})
    return rows


def _csv_cell(value: Any) -> Any:
    if value is None or isinstance(value, float) and not math.isfinite(value):
        return ""
    if isinstance(value, float):
        return f"{value:.9g}"
    return value


def write_sweep_table(run_dir: Path, summary: dict[str, Any]) -> list[Path]:
    """Write ``sweep.csv`` (and ``sweep.parquet`` if pyarrow is installed); returns the files."""
    rows = table_rows(summary)
    columns = [*FIXED_COLUMNS, *summary["sweep"]["paths"], *VALUE_COLUMNS]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    atomic_write(run_dir / TABLE_CSV, out.getvalue())
    written = [run_dir / TABLE_CSV]
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # Parquet is optional: pip install 'archsim[dask]' brings pyarrow
        return written
    data = {}
    for column in columns:
        values = [row.get(column) for row in rows]
        if column in summary["sweep"]["paths"] and not all(v is None or _is_number(v) for v in values):
            values = [None if v is None else str(v) for v in values]  # one type per column
        data[column] = values
    tmp = run_dir / f".{TABLE_PARQUET}.tmp"
    pq.write_table(pa.table(data), tmp)
    tmp.replace(run_dir / TABLE_PARQUET)
    written.append(run_dir / TABLE_PARQUET)
    return written
