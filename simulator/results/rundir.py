"""Run directories: where a run's results live, written so that a crash never leaves half a file.

A run directory holds:

- ``scenario.yaml``: the scenario as run (overrides applied), and ``resolved.json``: every
  variant fully validated, with defaults filled in;
- ``summary.json``: archsim version, seed, status (``ok``, ``error``, ``interrupted``), the error if
  any, wall time, and per variant: overall, per-class, per-service and system metrics as means with
  95% confidence intervals, pooled percentiles and merged HDR histograms (schema ``archsim.run/2``);
- ``timeseries.csv``: one row per variant, replication and interval;
- ``<variant>_stats.csv``: per-class statistics with exactly the columns of Locust's
  ``_stats.csv``, so a simulated run and a measured run read alike.

Every file is written to a temporary name in the same folder and renamed into place (atomic on
POSIX). ``summary.json`` is written as soon as the run starts (status ``running``) and rewritten
after each variant, so a run that fails or is interrupted keeps what it had.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

SCHEMA = "archsim.run/2"  #: Version of the run-directory format (docs/architecture.md: what changed from /1).

#: Locust 2.x ``_stats.csv`` header, in order.
LOCUST_STATS_COLUMNS = [
    "Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
    "Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s",
    "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
]


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename.

    The file gets the permissions any new file gets (0666 less the umask, like the charts), not
    the temporary file's 0600, and a failure names ``path``, never the temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _clean(value: Any) -> Any:
    """JSON has no NaN/Infinity: write them as null."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _clean(value.item())
    return value


def write_json(path: Path, data: Any) -> None:
    atomic_write(path, json.dumps(_clean(data), indent=2, sort_keys=False) + "\n")


def default_run_dir(results_root: Path, scenario_name: str) -> Path:
    """``results/<scenario>/<UTC timestamp>``, made unique if two runs start in the same second."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    candidate = results_root / scenario_name / stamp
    n = 1
    while candidate.exists():
        n += 1
        candidate = results_root / scenario_name / f"{stamp}-{n}"
    return candidate


def timeseries_csv(rows: list[dict[str, Any]]) -> str:
    """Rows (dicts) as CSV, with the union of their columns (variants have different services)."""
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.9g}"
    return value


STATS_PERCENTILES = (50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100)  #: The percentile columns of a Locust stats CSV.


def locust_stats_csv(variant: dict[str, Any], request_type: str = "SIM") -> str:
    """Per-class rows plus the ``Aggregated`` row, in Locust's units (milliseconds) and columns.

    Means over replications are used for every figure; percentiles come from the merged
    histogram of all replications, as Locust computes them over the whole test.
    """
    from hdrh.histogram import HdrHistogram

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LOCUST_STATS_COLUMNS)
    measured = variant["measured_s"]
    rows = [(request_type, name, block, variant["histograms"].get(name)) for name, block in variant["classes"].items()]
    rows.append(("", "Aggregated", variant["overall"], variant["histograms"].get("*")))
    for kind, name, block, encoded in rows:
        requests = _mean(block, "requests")
        failures = _mean(block, "errors") + _mean(block, "timeouts")
        hist = HdrHistogram.decode(encoded) if encoded else None
        has = hist is not None and hist.get_total_count() > 0
        # One pass over the buckets for every percentile (get_value_at_percentile makes one each)
        at = hist.get_percentile_to_value_dict(STATS_PERCENTILES) if has else {}

        def ms(p: float, at: dict[float, int] = at) -> Any:
            return round(at[p] / 1000) if at else "N/A"

        writer.writerow([
            kind, name, round(requests), round(failures),
            ms(50), f"{(_mean(block, 'latency_mean_s') or 0) * 1000:.2f}" if has else 0,
            f"{hist.get_min_value() / 1000:.2f}" if has else 0, f"{hist.get_max_value() / 1000:.2f}" if has else 0,
            0, f"{requests / measured:.6f}", f"{failures / measured:.6f}",
            ms(50), ms(66), ms(75), ms(80), ms(90), ms(95), ms(98), ms(99), ms(99.9), ms(99.99), ms(100),
        ])
    return out.getvalue()


def _mean(block: dict[str, Any], key: str) -> float:
    value = block.get(key, {})
    mean = value.get("mean") if isinstance(value, dict) else value
    return float(mean) if mean is not None else 0.0


def new_summary(
    loaded: Any,
    *,
    source: str,
    seed: int,
    replications: int,
    duration_s: float,
    warmup_s: float,
    metrics_interval_s: float,
    **run: Any,
) -> dict[str, Any]:
    """The ``summary.json`` of a run that is starting (status ``running``, no variants yet).

    The one place the header of the schema is written, for simulated (``source: simulation``) and
    measured (``source: measured``) runs alike; ``run`` adds details of how this run was made.
    """
    from .. import __version__

    base = loaded.base
    return {
        "schema": SCHEMA,
        "source": source,
        "archsim_version": __version__,
        "scenario": {"name": base.name, "description": base.description, "file": loaded.file},
        "seed": seed,
        "replications": replications,
        "duration_s": duration_s,
        "warmup_s": warmup_s,
        "metrics_interval_s": metrics_interval_s,
        "status": "running",
        "error": None,
        "variants": {},
        "run": {
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "wall_time_s": None,
            "python": platform.python_version(),
            **run,
        },
    }


def write_scenario(run_dir: Path, raw: dict[str, Any], resolved: dict[str, Any]) -> None:
    atomic_write(run_dir / "scenario.yaml", yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    write_json(run_dir / "resolved.json", resolved)


def read_summary(run_dir: Path) -> dict[str, Any]:
    """The ``summary.json`` of a run directory (simulated or measured)."""
    return json.loads((Path(run_dir) / "summary.json").read_text(encoding="utf-8"))
