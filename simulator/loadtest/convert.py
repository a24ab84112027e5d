"""A (merged) recorder's JSON as a run directory's variant block and time series.

The variant block has the simulator's keys and units (seconds, per second), every number as an
estimate object over one "replication" (``ci95`` null), so charts and reports read a measured run
exactly as a simulated one. ``services`` is empty: a load generator sees only the entry point.
Set-up requests (names that are not request classes) are in ``setup``, apart from the classes.

Rates of an open-model run, over the measurement window:

- ``target_rate_per_s``: the scenario's rate (the mean of its profile and spikes);
- ``scheduled_rate_per_s``: the arrivals the schedule drew (a Poisson count scatters around the
  target by about ``1/sqrt(n)``; deterministic arrivals do not);
- ``achieved_rate_per_s`` (= ``overall.offered_rate_per_s``): the arrivals actually sent;
- ``achieved_ratio`` = achieved / target, ``sent_ratio`` = achieved / scheduled (the generator's
  own accuracy, judged by :mod:`.verdict`).
"""

from __future__ import annotations

import math
from typing import Any

from hdrh.histogram import HdrHistogram

from ..estimates import estimate
from ..engine.histogram import new_hdr
from ..engine.metrics import SUMMARY_PERCENTILES
from .plan import LoadPlan, mean_rate, spike_events

PERCENTILES_SERIES = (50.0, 95.0, 99.0)  #: Time-series percentiles (columns latency_p50_s, _p95_s, _p99_s).


def _estimates(block: dict[str, Any]) -> dict[str, Any]:
    """Numbers as estimate objects; nested mappings recursively; strings kept."""
    out: dict[str, Any] = {}
    for key, value in block.items():
        if isinstance(value, dict):
            out[key] = _estimates(value)
        elif isinstance(value, str) or value is None:
            out[key] = value
        else:
            out[key] = estimate([float(value)])
    return out


def _latency_block(ok: int, errors: int, latency_sum_s: float, hist: HdrHistogram, measured_s: float) -> dict[str, Any]:
    count = ok + errors
    has = hist.get_total_count() > 0
    out: dict[str, Any] = {
        "arrived_requests": count, "requests": count, "successes": ok, "errors": errors, "timeouts": 0,
        "unfinished_requests": None, "unfinished_fraction": None,  # not observable from the answers
        "error_rate": errors / count if count else 0.0,
        "offered_rate_per_s": count / measured_s,
        "throughput_per_s": ok / measured_s,
        "latency_mean_s": latency_sum_s if has else math.nan,  # caller passes the successes' exact mean
        "latency_min_s": hist.get_min_value() / 1e6 if has else math.nan,
        "latency_max_s": hist.get_max_value() / 1e6 if has else math.nan,
    }
    for key, p in SUMMARY_PERCENTILES.items():
        out[f"latency_{key}_s"] = hist.get_value_at_percentile(p) / 1e6 if has else math.nan
    return out


def measured_window_s(record: dict[str, Any], plan: LoadPlan) -> float:
    """Seconds of the measurement window that actually ran (shorter if the test stopped early)."""
    ran = min(plan.duration_s, float(record.get("elapsed_s") or plan.duration_s))
    return max(ran - plan.warmup_s, 1e-9)


def _totals_block(record_classes: dict[str, Any], names: list[str], measured: float) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Per-name blocks, the overall block and the encoded histograms of ``names``."""
    blocks: dict[str, Any] = {}
    histograms: dict[str, str] = {}
    overall_hist = new_hdr()
    total = {"ok": 0, "errors": 0, "ok_latency": 0.0}
    for name in names:
        data = record_classes[name]
        hist = HdrHistogram.decode(data["histogram"])
        mean_ok = data.get("latency_mean_s")
        blocks[name] = _latency_block(data["successes"], data["errors"], mean_ok if mean_ok is not None else math.nan, hist, measured)
        histograms[name] = data["histogram"]
        if hist.get_total_count():
            overall_hist.add(hist)
            total["ok_latency"] += (mean_ok or 0.0) * data["successes"]
        total["ok"] += data["successes"]
        total["errors"] += data["errors"]
    overall = _latency_block(total["ok"], total["errors"], total["ok_latency"] / total["ok"] if total["ok"] else math.nan, overall_hist, measured)
    histograms["*"] = overall_hist.encode().decode("ascii")
    return blocks, overall, histograms


def variant_block(record: dict[str, Any], plan: LoadPlan, *, description: str = "", extras: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``variants.<name>`` block of summary.json from one (merged) recorder result."""
    measured = measured_window_s(record, plan)
    names = [n for n in plan.mix if n in record["classes"]] + [n for n in record["classes"] if n not in plan.mix]
    classes, overall, histograms = _totals_block(record["classes"], names, measured)
    setup, _, _ = _totals_block(record.get("setup", {}), list(record.get("setup", {})), measured)
    requests = overall["requests"]
    sent = _sent(record, plan)
    overall["offered_rate_per_s"] = sent / measured
    overall["unfinished_requests"] = max(0, sent - requests)
    overall["unfinished_fraction"] = overall["unfinished_requests"] / sent if sent else 0.0
    latency_sum = sum(record["classes"][n]["latency_sum_s"] for n in names)
    window = [row for row in record["intervals"] if row["time_s"] > plan.warmup_s + 1e-9]
    width = sum(row["width_s"] for row in window)
    in_flight = sum(row["flight_area"] for row in window) / width if width else math.nan
    sojourn = latency_sum / requests if requests else math.nan
    system = {
        "mean_in_flight": in_flight,
        "finished_rate_per_s": requests / measured,
        "mean_sojourn_s": sojourn,
        "littles_law_l": requests / measured * sojourn if requests else math.nan,
        "completion_ratio": requests / sent if sent else math.nan,
    }
    return {
        "description": description,
        "replications": 1,
        "measured_s": measured,
        "overall": _estimates(overall),
        "classes": {name: _estimates(block) for name, block in classes.items()},
        "setup": {name: _estimates(block) for name, block in setup.items()},
        "services": {},
        "system": _estimates(system),
        "histograms": histograms,
        "async_histograms": {},
        "events": spike_events(plan),
        "extras": _estimates(extras or {}),
        "failures": record.get("failures", {}),
    }


def _sent(record: dict[str, Any], plan: LoadPlan) -> int:
    """Class requests that arrived in the window: sent (open model, finished or not) or recorded."""
    pacing = record.get("pacing") or {}
    recorded = sum(c["requests"] for c in record["classes"].values())
    if plan.model == "open" and pacing:
        return max(int(pacing.get("arrivals", 0)), recorded)
    return recorded


def load_extras(record: dict[str, Any], plan: LoadPlan, target_host: str) -> dict[str, Any]:
    """What a measured run adds: where it loaded, the load asked for and the load achieved."""
    measured = measured_window_s(record, plan)
    achieved = _sent(record, plan) / measured
    extras: dict[str, Any] = {
        "target_host": target_host,
        "workload_model": plan.model,
        "users": plan.users,
        "workers": plan.workers,
        "achieved_rate_per_s": achieved,
        "setup_requests": sum(c["requests"] for c in record.get("setup", {}).values()),
    }
    if plan.model == "open":
        target = mean_rate(plan.rate(), plan.warmup_s, plan.warmup_s + measured)
        pacing = dict(record.get("pacing") or {})
        scheduled = pacing.get("scheduled", 0)
        extras.update({
            "arrivals": plan.open_workload().arrivals,
            "target_rate_per_s": target,
            "scheduled_rate_per_s": scheduled / measured,
            "achieved_ratio": achieved / target if target else math.nan,
            "sent_ratio": achieved * measured / scheduled if scheduled else math.nan,
            "peak_rate_per_s": plan.peak_rate_per_s,
            "latency_bound_s": plan.latency_bound_s,
        })
        if pacing:
            extras["pacing"] = pacing
    if record.get("locust_version"):
        extras["locust_version"] = str(record["locust_version"])
    return extras


def timeseries_rows(record: dict[str, Any], plan: LoadPlan, variant: str) -> list[dict[str, Any]]:
    """``timeseries.csv`` rows in the simulator's columns, plus ``target_rate_per_s`` (open model)."""
    profile = plan.rate() if plan.model == "open" else None
    rows = []
    for row in record["intervals"]:
        width = row["width_s"]
        if width <= 0:
            continue
        p50 = p95 = p99 = math.nan
        if row.get("histogram"):
            hist = HdrHistogram.decode(row["histogram"])
            p50, p95, p99 = (hist.get_value_at_percentile(p) / 1e6 for p in PERCENTILES_SERIES)
        out = {
            "variant": variant, "replication": 0, "time_s": row["time_s"],
            "offered_per_s": row["started"] / width, "throughput_per_s": row["ok"] / width,
            "errors_per_s": row["failed"] / width,
            "latency_p50_s": p50, "latency_p95_s": p95, "latency_p99_s": p99,
            "in_flight": row["flight_area"] / width,
        }
        if profile is not None:
            out["target_rate_per_s"] = mean_rate(profile, row["time_s"] - width, row["time_s"])
        rows.append(out)
    return rows
