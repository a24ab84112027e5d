"""Time series of one variant: what happened during the run, with events marked.

Stacked panels sharing the time axis: offered load and completions, latency, and when they have
something to show, instances by state, queue/backlog per service, and errors. Lines are the mean over replications
with a min-max band. Events from ``summary.json`` are drawn by :mod:`.events`: spans (spike,
outage, rollout) shaded on every panel, moments (scale-ups, start-ups, crashes) as markers on a
thin strip above the panels, so a latency bump lines up with its cause without burying the data.
Rates start at zero (noise must not look like a dip); the time axis reads in seconds, or
minutes for runs over five minutes.

Instances by state: ``instances.<svc>`` is the number ready; any ``<state>.<svc>`` column for
the states in :data:`INSTANCE_STATES` (written by the platform models) is drawn beside it.
"""

from __future__ import annotations

import re
from pathlib import Path

from matplotlib.lines import Line2D

from .events import draw_strip, mark_important, shade_spans, split_events, strip_height
from .look import (PALETTE, caption, figure, legend_outside, log_axis, number_formatter, save, seconds_label, styled,
                   subtitle, time_axis)
from ..results.rundata import VariantRun

#: Instance states drawn in the instances panel; ``instances`` means ready.
INSTANCE_STATES = ("instances", "ready", "starting", "provisioning", "stopping", "failed")
LINESTYLES = {"instances": "-", "ready": "-", "starting": "--", "provisioning": "-.", "stopping": (0, (5, 1, 1, 1)), "failed": ":"}
SHOWN_AT_MOST = 5  #: Services named in the instances and queue panels (those that moved most).
QUEUE_SHOWN_FROM = 0.5  #: A queue is drawn once it held this many requests on average in an interval.


def _columns(variant: VariantRun, prefix: str) -> list[str]:
    return sorted(c for c in variant.timeseries if c.startswith(prefix + "."))


def _band(ax, series, colour: str, label: str, scale: float = 1.0, linestyle="-") -> None:
    times, mean, low, high = series
    ax.plot(times, [m * scale for m in mean], color=colour, linewidth=2, label=label, linestyle=linestyle)
    ax.fill_between(times, [v * scale for v in low], [v * scale for v in high], color=colour, alpha=0.15, linewidth=0)


def _varies(series) -> bool:
    return series is not None and max(series[3]) - min(series[2]) > 1e-9


@styled
def events_label(variant: VariantRun) -> str:
    """The event strip's label, saying which replication its events are from: summary.json keeps
    the first replication's. Scheduled windows (spikes, outages, a rollout's start) are the same in
    every replication; a rollout's end and the markers (crashes, restarts, scaling, start-ups) may
    differ in the others, so the chart does not pass them off as common to all."""
    count = int(variant.block.get("replications") or 1)
    return "events" if count <= 1 else f"events\n(replication\n1 of {count})"


def draw_timeseries(variant: VariantRun, out_dir: Path, stem: str | None = None) -> list[Path]:
    """The stacked time series of ``variant``; nothing if the run has no time series.

    Panels: load, latency, then instances only if some service's count changes (or instances are
    starting, failing, stopping), queues only if some request ever waited, errors only if any.
    A panel names at most :data:`SHOWN_AT_MOST` services (those that moved most); its legend says
    how many others stayed put, so a 13-service microservices run gets no 13-entry legend.
    """
    offered = variant.series("offered_per_s")
    throughput = variant.series("throughput_per_s")
    if offered is None and throughput is None:
        return []
    p95 = variant.series("latency_p95_s")
    states = {}
    for column in variant.timeseries:
        state, _, service = column.partition(".")
        if state in INSTANCE_STATES and service:
            series = variant.series(column)
            if series is not None:
                states[column] = series
    ready = {c: s for c, s in states.items() if c.split(".", 1)[0] in ("instances", "ready")}
    moving = {c: s for c, s in states.items() if (c in ready and _varies(s)) or (c not in ready and max(s[3]) > 0)}
    moving_services = list(dict.fromkeys(c.split(".", 1)[1] for c in moving))
    ranked = sorted(moving_services, key=lambda svc: -max(max(s[3]) - min(s[2]) for c, s in states.items() if c.endswith("." + svc)))
    instance_services = ranked[:SHOWN_AT_MOST]
    queues = {}
    for column in _columns(variant, "queue") + _columns(variant, "backlog"):
        series = variant.series(column)
        if series is not None and max(series[3]) >= QUEUE_SHOWN_FROM:
            queues[column] = series
    queue_columns = sorted(queues, key=lambda c: -max(queues[c][1]))[:SHOWN_AT_MOST]
    errors = variant.series("errors_per_s")
    has_errors = errors is not None and max(errors[3] or [0]) > 0
    panels = ["load", "latency"] + (["instances"] if instance_services else []) + (["queue"] if queue_columns else []) + (["errors"] if has_errors else [])
    spans, moments = split_events(variant.block.get("events") or [])
    end_s = float(variant.summary.get("duration_s") or max(variant.timeseries["time_s"][0] or [0]))
    strip = strip_height(spans, moments, end_s) if spans or moments else 0.0
    heights = ([strip] if strip else []) + [1.8] * len(panels)
    fig, all_axes = figure(len(heights), 1, right=3.4, height=sum(heights) + 1.6, sharex=True,
                           gridspec_kw={"height_ratios": heights}, squeeze=False)
    fig.subplots_adjust(hspace=0.18)
    all_axes = list(all_axes[:, 0])
    axes = all_axes[1:] if strip else all_axes
    ax = dict(zip(panels, axes))
    named = list(dict.fromkeys(instance_services + [c.split(".", 1)[1] for c in queue_columns]))
    service_colour = {svc: PALETTE[i % len(PALETTE)] for i, svc in enumerate(named)}

    if offered:
        _band(ax["load"], offered, "0.45", "offered", linestyle="--")
    if throughput:
        _band(ax["load"], throughput, variant.colour, "completed")
    ax["load"].set_ylabel("requests/s")
    ax["load"].set_ylim(bottom=0, top=ax["load"].get_ylim()[1] * 1.05)
    ax["load"].yaxis.set_major_formatter(number_formatter())
    legend_outside(ax["load"])

    if p95:
        finite = [v for v in p95[3] if v == v]
        positive_s = [v for v in p95[1] if v > 0]
        logarithmic = bool(positive_s) and max(positive_s) / min(positive_s) > 20
        scale, unit = seconds_label((min(positive_s) if logarithmic else max(finite)) if finite and positive_s else 0.0)
        for column, name, style in (("latency_p50_s", "p50", ":"), ("latency_p95_s", "p95", "-"), ("latency_p99_s", "p99", "--")):
            series = variant.series(column)
            if name == "p95":
                _band(ax["latency"], p95, variant.colour, "p95", scale)
            elif series:
                ax["latency"].plot(series[0], [v * scale for v in series[1]], color=variant.colour, linestyle=style, linewidth=1.2, alpha=0.7, label=name)
        ax["latency"].set_ylabel(f"latency ({unit})")
        if logarithmic:
            log_axis(ax["latency"], "y", min(positive_s) * scale / 1.5, max(finite) * scale, unit)
        else:
            ax["latency"].set_ylim(bottom=0)
        legend_outside(ax["latency"])

    if "instances" in ax:
        for service in instance_services:
            for state in INSTANCE_STATES:
                series = states.get(f"{state}.{service}")
                if series is None or (state not in ("instances", "ready") and max(series[3]) == 0):
                    continue
                shown = "ready" if state == "instances" else state
                ax["instances"].step(series[0], series[1], where="post", color=service_colour[service],
                                     linestyle=LINESTYLES.get(state, "-"), linewidth=2, label=f"{service} {shown}")
        steady = len({c.split(".", 1)[1] for c in ready}) - len(instance_services)
        ax["instances"].set_ylabel("instances")
        ax["instances"].set_ylim(bottom=0, top=max(ax["instances"].get_ylim()[1], 1) + 0.5)
        ax["instances"].yaxis.get_major_locator().set_params(integer=True)
        _legend_with_rest(ax["instances"], steady, "steady")

    if "queue" in ax:
        for column in queue_columns:
            service = column.split(".", 1)[1]
            _band(ax["queue"], queues[column], service_colour[service], service)
        ax["queue"].set_ylabel("waiting")
        ax["queue"].set_ylim(bottom=0, top=max(ax["queue"].get_ylim()[1], 1.0))
        ax["queue"].yaxis.get_major_locator().set_params(integer=True)
        _legend_with_rest(ax["queue"], len(queues) - len(queue_columns), "smaller queues")

    if "errors" in ax:
        _band(ax["errors"], errors, "#D55E00", "errors")
        ax["errors"].set_ylabel("errors/s")
        ax["errors"].set_ylim(bottom=0)

    for axis in axes:
        shade_spans(axis, spans, end_s)
        mark_important(axis, moments)
    if strip:
        draw_strip(all_axes[0], spans, moments, end_s)
        all_axes[0].set_ylabel(events_label(variant), rotation=0, ha="right", va="center")
    warmup = variant.summary.get("warmup_s") or 0
    if warmup:
        for axis in axes:
            axis.axvspan(0, warmup, color="0.85", alpha=0.35, linewidth=0)
        axes[-1].annotate("warm-up", xy=(warmup / 2, 0.97), xycoords=("data", "axes fraction"), ha="center", va="top", fontsize=10, color="0.45")
    time_axis(axes[-1], end_s)
    all_axes[0].set_title(f"{variant.label}: load, latency and instances over time")
    caption(fig, f"mean over replications, band = min-max · {subtitle([variant])}")
    return save(fig, out_dir, stem or f"timeseries-{_slug(variant.label)}")


def _legend_with_rest(ax, rest: int, what: str) -> None:
    """The panel's legend, plus one line saying how many services are not drawn."""
    handles, labels = ax.get_legend_handles_labels()
    if rest > 0:
        handles.append(Line2D([], [], linestyle="none"))
        labels.append(f"+ {rest} other service{'s' if rest > 1 else ''} ({what})")
    legend_outside(ax, handles, labels)


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "variant"
