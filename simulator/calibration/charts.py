"""The validation report's charts, in the look of ``simulator/charts`` (slide-sized, Okabe-Ito colours)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..charts import look
from .validation import TARGETS, Validation

LATENCIES = (("latency_mean_s", "mean"), ("latency_p95_s", "p95"), ("latency_p99_s", "p99"))


@look.styled
def predicted_vs_measured(validation: Validation, out_dir: Path, caption: str) -> list[Path]:
    """Latency (mean, p95, p99) and throughput per level: measured solid, predicted dashed."""
    levels = sorted(validation.levels, key=lambda lv: lv.rate_per_s)
    rates = [lv.rate_per_s for lv in levels]
    fig, (left, right) = look.figure(1, 2)
    top = max([lv.measured.get(f, 0) for lv in levels for f, _ in LATENCIES] + [lv.predicted.get(f, 0) for lv in levels for f, _ in LATENCIES] + [1e-3])
    scale, unit = look.seconds_label(top)
    for i, (figure, label) in enumerate(LATENCIES):
        colour = look.PALETTE[i]
        left.plot(rates, [lv.measured.get(figure, np.nan) * scale for lv in levels], "o-", color=colour, label=f"{label} measured")
        left.plot(rates, [lv.predicted.get(figure, np.nan) * scale for lv in levels], "s--", color=colour, mfc="none", label=f"{label} predicted")
    for lv in levels:
        if lv.hold_out:
            left.axvline(lv.rate_per_s, color="0.5", lw=1, ls=":")
            # along the line, halfway up (axes height) on a white ground: the legend takes the top
            # left corner and the curves cross the foot
            left.text(lv.rate_per_s, 0.5, "hold-out", transform=left.get_xaxis_transform(), rotation=90, ha="right", va="center",
                      fontsize=10, color="0.4", bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5})
    left.set_title("Latency: measured vs predicted")
    left.set_xlabel("offered load (requests/s)")
    left.set_ylabel(f"latency ({unit})")
    left.set_ylim(bottom=0)
    left.legend(ncols=2, loc="upper left")
    measured = [lv.measured["throughput_per_s"] for lv in levels]
    predicted = [lv.predicted.get("throughput_per_s", np.nan) for lv in levels]
    right.plot(rates, measured, "o-", color=look.PALETTE[0], label="measured")
    right.plot(rates, predicted, "s--", color=look.PALETTE[1], mfc="none", label="predicted")
    if validation.saturation_measured_per_s:
        right.axhline(validation.saturation_measured_per_s, color=look.PALETTE[0], lw=1, ls=":", label="saturation measured")
    right.axhline(validation.saturation_predicted_per_s, color=look.PALETTE[1], lw=1, ls="-.", label="saturation predicted")
    right.set_title("Throughput")
    right.set_xlabel("offered load (requests/s)")
    right.set_ylabel("completions/s")
    right.set_ylim(bottom=0)
    right.yaxis.set_major_formatter(look.number_formatter())
    right.legend(loc="lower right")
    look.caption(fig, caption)
    return look.save(fig, out_dir, "predicted-vs-measured")


@look.styled
def relative_errors(validation: Validation, out_dir: Path, caption: str) -> list[Path]:
    """Relative error of each figure at each level, with the targets as shaded bands."""
    levels = sorted(validation.levels, key=lambda lv: lv.rate_per_s)
    figures = [("throughput_per_s", "throughput"), ("latency_mean_s", "mean"), ("latency_p50_s", "p50"),
               ("latency_p95_s", "p95"), ("latency_p99_s", "p99")]
    fig, ax = look.figure()
    width = 0.8 / len(levels)
    x = np.arange(len(figures))
    for i, lv in enumerate(levels):
        errors = [100 * (lv.error(f) if lv.error(f) is not None else np.nan) for f, _ in figures]
        label = f"{lv.level} ({lv.rate_per_s:.0f}/s){' hold-out' if lv.hold_out else ''}"
        ax.bar(x + (i - (len(levels) - 1) / 2) * width, errors, width, color=look.PALETTE[i % 7], label=label,
               hatch="//" if lv.hold_out else None, edgecolor="white")
    for j, (figure, _) in enumerate(figures):
        limit = TARGETS.get(figure)
        if limit is not None:
            ax.fill_between([j - 0.45, j + 0.45], -100 * limit, 100 * limit, color="0.85", zorder=0)
    ax.axhline(0, color="0.3", lw=1)
    ax.set_xticks(x, [name for _, name in figures])
    ax.set_ylabel("predicted vs measured (%)")
    ax.set_title("Relative error per level (grey: the target)")
    ax.legend(loc="best")
    look.caption(fig, caption)
    return look.save(fig, out_dir, "relative-errors")
