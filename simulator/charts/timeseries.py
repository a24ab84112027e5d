"""Time series of one variant: what happened during the run, with events marked.

Five stacked panels sharing the time axis: offered load and throughput, p95 latency, instances by
state, queue/backlog per service, and (when present) errors. Lines are the mean over replications
with a min-max band. Events from ``summary.json`` are drawn by :mod:`.events`: spans (spike,
outage, rollout) shaded on every panel, moments (scale-ups, start-ups, crashes) as markers on a
thin strip above the panels, so a latency bump lines up with its cause without burying the data.
Rates start at zero (noise must not look like a dip) and an empty queue axis runs 0-1, not ±0.04.

Instances by state: ``instances.<svc>`` is the number ready; any ``<state>.<svc>`` column for
the states in :data:`INSTANCE_STATES` (written by the platform models) is drawn beside it.
"""

from __future__ import annotations

import re
from pathlib import Path

from .events import draw_strip, mark_important, shade_spans, split_events, strip_height
from .look import caption, figure, number_formatter, save, seconds_label, styled, subtitle
from ..results.rundata import VariantRun

#: Instance states drawn in the instances panel; ``instances`` means ready.
INSTANCE_STATES = ("instances", "ready", "starting", "provisioning", "stopping", "failed")
LINESTYLES = {"instances": "-", "ready": "-", "starting": "--", "provisioning": "-.", "stopping": ":", "failed": (0, (1, 1))}


def _columns(variant: VariantRun, prefix: str) -> list[str]:
    return sorted(c for c in variant.timeseries if c.startswith(prefix + "."))


def _band(ax, series, colour: str, label: str, scale: float = 1.0, linestyle="-") -> None:
    times, mean, low, high = series
    ax.plot(times, [m * scale for m in mean], color=colour, linewidth=2, label=label, linestyle=linestyle)
    ax.fill_between(times, [v * scale for v in low], [v * scale for v in high], color=colour, alpha=0.15, linewidth=0)


@styled
def draw_timeseries(variant: VariantRun, out_dir: Path, stem: str | None = None) -> list[Path]:
    """The five-panel time series of ``variant``; nothing if the run has no time series."""
    offered = variant.series("offered_per_s")
    throughput = variant.series("throughput_per_s")
    if offered is None and throughput is None:
        return []
    p95 = variant.series("latency_p95_s")
    services = sorted({c.split(".", 1)[1] for c in variant.timeseries if "." in c})
    state_cols = [c for c in variant.timeseries if c.split(".", 1)[0] in INSTANCE_STATES]
    queue_cols = _columns(variant, "queue") + _columns(variant, "backlog")
    errors = variant.series("errors_per_s")
    has_errors = errors is not None and max(errors[3] or [0]) > 0
    panels = ["load", "latency"] + (["instances"] if state_cols else []) + (["queue"] if queue_cols else []) + (["errors"] if has_errors else [])
    spans, moments = split_events(variant.block.get("events") or [])
    end_s = float(variant.summary.get("duration_s") or max(variant.timeseries["time_s"][0] or [0]))
    strip = strip_height(spans, moments) if spans or moments else 0.0
    heights = ([strip] if strip else []) + [2.3] * len(panels)
    fig, all_axes = figure(len(heights), 1, height=sum(heights) + 1.2, sharex=True, height_ratios=heights, squeeze=False)
    all_axes = list(all_axes[:, 0])
    axes = all_axes[1:] if strip else all_axes
    ax = dict(zip(panels, axes))
    service_colour = {s: f"C{i % 10}" for i, s in enumerate(services)}

    if offered:
        _band(ax["load"], offered, "0.45", "offered", linestyle="--")
    if throughput:
        _band(ax["load"], throughput, variant.colour, "throughput")
    ax["load"].set_ylabel("requests/s")
    ax["load"].set_ylim(bottom=0, top=ax["load"].get_ylim()[1] * 1.05)
    ax["load"].yaxis.set_major_formatter(number_formatter())
    _legend(ax["load"])

    if p95:
        scale, unit = seconds_label(max(p95[3]))
        for column, name, style in (("latency_p50_s", "p50", ":"), ("latency_p95_s", "p95", "-"), ("latency_p99_s", "p99", "--")):
            series = variant.series(column)
            if name == "p95":
                _band(ax["latency"], p95, variant.colour, "p95", scale)
            elif series:
                ax["latency"].plot(series[0], [v * scale for v in series[1]], color=variant.colour, linestyle=style, linewidth=1.2, alpha=0.7, label=name)
        ax["latency"].set_ylabel(f"latency ({unit})")
        if max(p95[1]) / max(min(v for v in p95[1] if v > 0) if any(v > 0 for v in p95[1]) else 1, 1e-12) > 20:
            ax["latency"].set_yscale("log")
        else:
            ax["latency"].set_ylim(bottom=0)
        _legend(ax["latency"])

    if "instances" in ax:
        for column in sorted(state_cols):
            state, service = column.split(".", 1)
            series = variant.series(column)
            if series is None or (state not in ("instances", "ready") and max(series[3]) == 0):
                continue
            shown = "ready" if state == "instances" else state
            ax["instances"].step(series[0], series[1], where="post", color=service_colour.get(service, "0.3"),
                                 linestyle=LINESTYLES.get(state, "-"), linewidth=2, label=f"{service} {shown}")
        ax["instances"].set_ylabel("instances")
        ax["instances"].set_ylim(bottom=0, top=max(ax["instances"].get_ylim()[1], 1) + 0.5)
        ax["instances"].yaxis.get_major_locator().set_params(integer=True)
        _legend(ax["instances"])

    if "queue" in ax:
        for column in queue_cols:
            series = variant.series(column)
            if series:
                _band(ax["queue"], series, service_colour.get(column.split(".", 1)[1], "0.3"), column.split(".", 1)[1])
        ax["queue"].set_ylabel("queued requests")
        ax["queue"].set_ylim(bottom=0, top=max(ax["queue"].get_ylim()[1], 1.0))
        ax["queue"].yaxis.get_major_locator().set_params(integer=True)
        _legend(ax["queue"])

    if "errors" in ax:
        _band(ax["errors"], errors, "#D55E00", "errors")
        ax["errors"].set_ylabel("errors/s")
        ax["errors"].set_ylim(bottom=0)

    for axis in axes:
        shade_spans(axis, spans, end_s)
        mark_important(axis, moments)
    if strip:
        draw_strip(all_axes[0], spans, moments, end_s)
    warmup = variant.summary.get("warmup_s") or 0
    if warmup:
        for axis in axes:
            axis.axvspan(0, warmup, color="0.85", alpha=0.35, linewidth=0)
        axes[-1].annotate("warm-up", xy=(warmup / 2, 0.97), xycoords=("data", "axes fraction"), ha="center", va="top", fontsize=10, color="0.45")
    axes[-1].set_xlabel("time (s)")
    all_axes[0].set_title(f"{variant.label}: load, latency and instances over time")
    caption(fig, f"mean over replications, band = min-max · {subtitle([variant])}")
    return save(fig, out_dir, stem or f"timeseries-{_slug(variant.label)}")


def _legend(ax) -> None:
    """Legend outside the plot on the right, so it never hides a line or an event label."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=11)


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "variant"
