"""A recorder's JSON (and Locust's CSV files) as a run directory of schema ``archsim.run/2``.

The variant block has the simulator's keys and units (seconds, per second), every number as an
estimate object over one "replication" (``ci95`` null), so charts and reports read a measured run
exactly as a simulated one. ``services`` is empty: a load generator sees only the entry point.
The recorder sees a request when it is answered, so requests never answered are not known:
``unfinished_requests`` is null and the offered rate counts the requests that were answered.
"""

from __future__ import annotations

import math
from typing import Any

from hdrh.histogram import HdrHistogram

from ..engine.experiment import estimate
from ..engine.histogram import new_hdr
from ..engine.metrics import SUMMARY_PERCENTILES
from .plan import LoadPlan, mean_rate, spike_events


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


def variant_block(record: dict[str, Any], plan: LoadPlan, *, description: str = "", extras: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``variants.<name>`` block of summary.json from one recorder result."""
    measured = measured_window_s(record, plan)
    names = [n for n in plan.mix if n in record["classes"]] + [n for n in record["classes"] if n not in plan.mix]
    classes: dict[str, Any] = {}
    histograms: dict[str, str] = {}
    overall_hist = new_hdr()
    total = {"ok": 0, "errors": 0, "ok_latency": 0.0, "latency": 0.0}
    for name in names:
        data = record["classes"][name]
        hist = HdrHistogram.decode(data["histogram"])
        mean_ok = data.get("latency_mean_s")
        classes[name] = _latency_block(data["successes"], data["errors"], mean_ok if mean_ok is not None else math.nan, hist, measured)
        histograms[name] = data["histogram"]
        if hist.get_total_count():
            overall_hist.add(hist)
            total["ok_latency"] += (mean_ok or 0.0) * data["successes"]
        total["ok"] += data["successes"]
        total["errors"] += data["errors"]
        total["latency"] += data["latency_sum_s"]
    overall = _latency_block(total["ok"], total["errors"], total["ok_latency"] / total["ok"] if total["ok"] else math.nan, overall_hist, measured)
    histograms["*"] = overall_hist.encode().decode("ascii")
    requests = total["ok"] + total["errors"]
    window = [row for row in record["intervals"] if row["time_s"] > plan.warmup_s + 1e-9]
    in_flight = sum(row["in_flight"] * row["width_s"] for row in window) / sum(row["width_s"] for row in window) if window else math.nan
    sojourn = total["latency"] / requests if requests else math.nan
    system = {
        "mean_in_flight": in_flight,
        "finished_rate_per_s": requests / measured,
        "mean_sojourn_s": sojourn,
        "littles_law_l": requests / measured * sojourn if requests else math.nan,
    }
    return {
        "description": description,
        "replications": 1,
        "measured_s": measured,
        "overall": _estimates(overall),
        "classes": {name: _estimates(block) for name, block in classes.items()},
        "services": {},
        "system": _estimates(system),
        "histograms": histograms,
        "async_histograms": {},
        "events": spike_events(plan),
        "extras": _estimates(extras or {}),
        "failures": record.get("failures", {}),
    }


def load_extras(record: dict[str, Any], plan: LoadPlan, target_host: str) -> dict[str, Any]:
    """What a measured run adds: where it loaded, the load asked for and the load achieved."""
    measured = measured_window_s(record, plan)
    started = sum(c["requests"] for c in record["classes"].values())
    achieved = started / measured
    extras: dict[str, Any] = {
        "target_host": target_host,
        "workload_model": plan.model,
        "users": plan.users,
        "achieved_rate_per_s": achieved,
    }
    if plan.model == "open":
        target = mean_rate(plan.rate(), plan.warmup_s, plan.warmup_s + measured)
        extras.update({
            "target_rate_per_s": target,
            "achieved_ratio": achieved / target if target else math.nan,
            "peak_rate_per_s": plan.peak_rate_per_s,
            "latency_bound_s": plan.latency_bound_s,
        })
        pacing = record.get("pacing") or {}
        if pacing:
            extras["pacing"] = {k: v for k, v in pacing.items()}
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
        out = {
            "variant": variant, "replication": 0, "time_s": row["time_s"],
            "offered_per_s": row["started"] / width, "throughput_per_s": row["ok"] / width,
            "errors_per_s": row["failed"] / width,
            "latency_p50_s": _num(row["latency_p50_s"]), "latency_p95_s": _num(row["latency_p95_s"]),
            "latency_p99_s": _num(row["latency_p99_s"]), "in_flight": _num(row["in_flight"]),
        }
        if profile is not None:
            out["target_rate_per_s"] = mean_rate(profile, row["time_s"] - width, row["time_s"])
        rows.append(out)
    return rows


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)
