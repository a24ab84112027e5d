"""What ``archsim loadtest`` prints: the measured figures, the load achieved, the verdicts.

A measured run has one variant and figures a simulation has not (target and achieved rates, late
and dropped arrivals, set-up requests, the generator's CPU, thresholds), so it has its own table
rather than the simulator's comparison table.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from ..formatting import duration as format_duration
from ..report.thresholds import shown


def _mean(block: dict[str, Any], key: str) -> float | None:
    item = block.get(key)
    value = item.get("mean") if isinstance(item, dict) else item
    return None if value is None else float(value)


def _latency(block: dict[str, Any], key: str) -> str:
    value = _mean(block, key)
    return "-" if value is None else format_duration(value)


def results_table(summary: dict[str, Any], variant: str) -> Table:
    """Per class and overall: requests, throughput, latency percentiles and errors."""
    block = summary["variants"][variant]
    table = Table(title=f"{summary['scenario']['name']}: measured ({variant}), status {summary['status']}", title_justify="left")
    for column in ("class", "requests", "throughput/s", "mean", "p50", "p95", "p99", "max", "errors"):
        table.add_column(column, justify="left" if column == "class" else "right")
    rows = [*block["classes"].items(), ("all", block["overall"])]
    rows += [(f"{name} (set-up, apart)", b) for name, b in block.get("setup", {}).items()]
    for name, row in rows:
        table.add_row(
            name, f"{_mean(row, 'requests') or 0:,.0f}", f"{_mean(row, 'throughput_per_s') or 0:.1f}",
            _latency(row, "latency_mean_s"), _latency(row, "latency_p50_s"), _latency(row, "latency_p95_s"),
            _latency(row, "latency_p99_s"), _latency(row, "latency_max_s"), f"{_mean(row, 'error_rate') or 0:.2%}",
        )
    return table


def load_lines(summary: dict[str, Any], variant: str) -> list[str]:
    """The load asked for and achieved, late/dropped arrivals, set-up requests, generator CPU."""
    block = summary["variants"][variant]
    extras = block["extras"]
    lines = []
    target, achieved = _mean(extras, "target_rate_per_s"), _mean(extras, "achieved_rate_per_s")
    if target is not None:
        pacing = extras.get("pacing") or {}
        measured = block.get("measured_s") or 0.0
        late, dropped, scheduled, sent = (_mean(pacing, k) or 0 for k in ("late", "dropped", "scheduled", "arrivals"))
        expected = target * measured
        drawn = f"the schedule drew {scheduled:,.0f} for {expected:,.0f} expected"
        if extras.get("arrivals") == "poisson" and expected > 0:
            drawn += f" (Poisson count: {(scheduled - expected) / expected ** 0.5:+.1f} sd)"
        lines.append(
            f"load: achieved {achieved:.4g}/s for a {target:.4g}/s target ({achieved / target:.1%}): sent {sent:,.0f} of "
            f"{scheduled:,.0f} scheduled arrivals ({sent / scheduled if scheduled else 0:.1%}), {drawn}; {late:,.0f} late "
            f"({_mean(pacing, 'late_share') or 0:.2%}, max {format_duration(_mean(pacing, 'max_lag_s') or 0)}), {dropped:,.0f} dropped"
        )
    elif achieved is not None:
        lines.append(f"load: closed, {_mean(extras, 'users') or 0:.0f} users, {achieved:.4g} requests/s")
    setup = _mean(extras, "setup_requests") or 0
    if setup:
        lines.append(f"set-up requests (not in any class, not in the rates): {setup:,.0f}")
    cpu = extras.get("generator") or {}
    if cpu:
        lines.append(
            f"generator: {_mean(cpu, 'processes') or 0:.0f} Locust process(es) used {_mean(cpu, 'mean_cores') or 0:.2f} cores, "
            f"busiest at {_mean(cpu, 'busiest_process_share') or 0:.0%} of a core; the machine ({_mean(cpu, 'cores') or 0:.0f} cores) "
            f"was {_mean(cpu, 'machine_busy_share') or 0:.0%} busy"
        )
    return lines


def threshold_table(summary: dict[str, Any]) -> Table | None:
    thresholds = (summary.get("checks") or {}).get("thresholds") or []
    if not thresholds:
        return None
    table = Table(title="thresholds", title_justify="left")
    for column in ("threshold", "measured", "result"):
        table.add_column(column, justify="left" if column == "threshold" else "right")
    for t in thresholds:
        table.add_row(t["threshold"], shown(t["metric"], t["value"]), "[green]pass[/green]" if t["passed"] else "[red]FAIL[/red]")
    return table
