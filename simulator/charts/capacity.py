"""Charts of a sweep run (the ``sweep:`` key, see docs/sweeps.md): the capacity curves and any
metric against a swept path.

Every variant of a sweep run carries its point in ``summary.json`` (``variants.<name>.sweep``: the
declared variant, the swept values as written and as numbers). A line joins the points of one
declared variant that share every other swept value (so a grid over ``style.kind`` and
``workload.rate`` gives one line per style). Against a load path (``workload.rate``) the x axis is
the *measured* offered rate (arrivals per second), and the p95 panel marks each line's knee (the
rule of :func:`.saturation.knee`). ``sweep.charts`` adds charts of any metric against any swept
path. The figures come from the same estimates as ``sweep.csv``: means with 95% CIs.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from ..results.rundata import VariantRun
from .look import caption, figure, legend_outside, number_formatter, save, subtitle
from ..results.families import family_label
from .saturation import curve_colour, draw_saturation, knee

#: Swept paths that set the offered load: charts against them use the measured offered rate on x.
LOAD_PATHS = ("workload.rate", "workload.users")


def _swept(variant: VariantRun) -> dict[str, Any] | None:
    point = variant.block.get("sweep")
    return point if isinstance(point, dict) and "numbers" in point else None


def sweep_lines(variants: list[VariantRun], against: str) -> list[tuple[str, list[VariantRun]]]:
    """(label, variants sorted along ``against``): one line per declared variant and combination of
    the other swept values, from the ``sweep`` block each variant of a sweep run carries."""
    lines: dict[str, list[VariantRun]] = defaultdict(list)
    for variant in variants:
        point = _swept(variant)
        if point is None or point["numbers"].get(against) is None:
            continue
        others = [str(v) for path, v in point["values"].items() if path != against]
        label = " ".join([*([point["variant"]] if point["variant"] != "base" else []), *others]) or family_label([variant])
        lines[label].append(variant)
    return [(label, sorted(line, key=lambda v: _swept(v)["numbers"][against])) for label, line in lines.items() if len(line) >= 2]


def _x(variant: VariantRun, against: str) -> float:
    if against in LOAD_PATHS and variant.offered_per_s is not None:
        return variant.offered_per_s.mean  # what arrived, not what was asked for
    return _swept(variant)["numbers"][against]


def draw_sweeps(variants: list[VariantRun], out_dir: Path) -> list[Path]:
    """For a sweep run: the capacity curves (p95 and throughput against the offered load, a line per
    style or variant, knee marked, 95% CIs) for every swept load path, and each ``sweep.charts`` entry."""
    swept = [v for v in variants if _swept(v) is not None]
    if not swept:
        return []
    design = swept[0].summary.get("sweep", {})
    made: list[Path] = []
    if over_load(variants):  # the saturation chart's two panels, for the sweep's lines
        made += draw_saturation(swept, out_dir, stem="capacity")
    for chart in design.get("design", {}).get("charts", []):
        stem = f"sweep-{chart['metric']}-vs-{chart['against']}".replace("*", "all")
        made += _draw_panels(swept, out_dir, chart["against"], [chart["metric"]], stem)
    return made


def over_load(variants: list[VariantRun]) -> bool:
    """Whether this is a sweep run over the offered load: then ``capacity.png`` draws the
    saturation curves and a separate ``saturation.png`` would repeat it."""
    swept = next((v for v in variants if _swept(v) is not None), None)
    return swept is not None and any(p in LOAD_PATHS for p in swept.summary.get("sweep", {}).get("paths", []))


def _draw_panels(variants: list[VariantRun], out_dir: Path, against: str, metrics: list[str], stem: str) -> list[Path]:
    lines = sweep_lines(variants, against)
    if not lines:
        return []
    fig, axes = figure(1, len(metrics))
    axes = list(axes) if len(metrics) > 1 else [axes]
    load = against in LOAD_PATHS
    for label, line in lines:
        xs = [_x(v, against) for v in line]
        for ax, metric in zip(axes, metrics):
            ys = [v.get(metric) for v in line]
            points = [(x, y) for x, y in zip(xs, ys) if y is not None]
            if not points:
                continue
            ax.errorbar([p[0] for p in points], [p[1].mean for p in points], yerr=[p[1].ci95 or 0 for p in points],
                        color=curve_colour(line), linestyle=line[0].linestyle, marker="o", linewidth=2, capsize=3,
                        label=label if ax is axes[0] else None)
            if load and metric.endswith("latency_p95_s"):
                at = knee([p[0] for p in points], [p[1].mean for p in points])
                if at is not None:
                    ax.axvline(at, color=curve_colour(line), linestyle="--", linewidth=1.1, alpha=0.8)
    for ax, metric in zip(axes, metrics):
        ax.set_xlabel("offered load (requests/s, measured)" if load else against)
        ax.set_ylabel(metric)
        ax.set_title(f"{metric} against {'offered load' if load else against}")
        ax.xaxis.set_major_formatter(number_formatter())
        if "latency" in metric:  # latencies span decades past the knee
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
    legend_outside(axes[-1], *axes[0].get_legend_handles_labels(), fontsize=11)
    note = "dashed: knee (p95 at 2x its low-load value) · " if load else ""
    caption(fig, f"{note}means ± 95% CI · {subtitle(variants)}")
    return save(fig, out_dir, stem)
