"""Time from a load change to SLO recovery, read from the time series.

A load change is the start of a spike or a step up in the rate profile, inside the measured
window. An interval violates the SLO when its p95 latency is above ``slo.p95`` (or there was
traffic but no successful request to measure), or its error ratio is above ``slo.error_rate``.
Recovery time = end of the last violating interval before the next load change (or the run's
end), minus the change's time; 0 if no interval violated. If the window ends in violation the
change never recovered: its recovery time is the whole window (censored) and ``recovered`` < 1.
The resolution is the time-series interval.
"""

from __future__ import annotations

import math

from ..scenario.platform import Slo


def load_changes(scenario) -> list[tuple[float, float]]:
    """``(start, end)`` of each load increase: a spike, or a profile step up until the next point."""
    workload = scenario.workload
    changes: list[tuple[float, float]] = []
    for spike in getattr(workload, "spikes", []) or []:
        changes.append((spike.at_s, min(spike.at_s + spike.duration_s, scenario.duration_s)))
    profile = getattr(workload, "profile", None) or []
    for i in range(1, len(profile)):
        if profile[i].rate_per_s > profile[i - 1].rate_per_s:
            end = profile[i + 1].at_s if i + 1 < len(profile) else scenario.duration_s
            changes.append((profile[i].at_s, end))
    return sorted(c for c in changes if c[0] >= scenario.warmup_s)


def violates(row: dict, slo: Slo) -> bool:
    offered = row["offered_per_s"]
    done = row["throughput_per_s"] + row["errors_per_s"]
    if done > 0 and row["errors_per_s"] / done > slo.error_rate:
        return True
    p95 = row["latency_p95_s"]
    if p95 is None or (isinstance(p95, float) and math.isnan(p95)):
        return offered > 0
    return p95 > slo.p95_s


def recovery_summary(rows: list[dict], scenario) -> dict[str, float | None]:
    """The ``extras.recovery`` block."""
    slo = scenario.slo
    violating_s = 0.0
    previous = 0.0
    for row in rows:
        if row["time_s"] > scenario.warmup_s and violates(row, slo):
            violating_s += row["time_s"] - max(previous, scenario.warmup_s)
        previous = row["time_s"]
    out: dict[str, float | None] = {"slo_p95_s": slo.p95_s, "slo_violation_s": violating_s}
    times: list[float] = []
    recovered: list[float] = []
    changes = load_changes(scenario)
    for i, (start, _end) in enumerate(changes):
        # From the interval that contains the change up to the next change (or the run's end):
        # a system often recovers only after the spike is over, once its backlog has drained.
        until = changes[i + 1][0] if i + 1 < len(changes) else scenario.duration_s
        window = [r for r in rows if start < r["time_s"] <= until + 1e-9]
        end = window[-1]["time_s"] if window else until
        last_bad = None
        for r in window:
            if violates(r, slo):
                last_bad = r["time_s"]
        if last_bad is None:
            times.append(0.0)
            recovered.append(1.0)
        elif window and last_bad >= window[-1]["time_s"]:
            times.append(end - start)
            recovered.append(0.0)
        else:
            times.append(last_bad - start)
            recovered.append(1.0)
    out["load_changes"] = float(len(times))
    out["time_to_slo_recovery_s"] = sum(times) / len(times) if times else None
    out["worst_time_to_slo_recovery_s"] = max(times) if times else None
    out["recovered"] = sum(recovered) / len(recovered) if recovered else None
    return out
