"""The look shared by every chart: colours per variant, slide-sized figures, units, saving.

Charts go on slides in design reviews, so figures are 16:9, fonts are large, and a variant keeps
its colour in every chart of a report. Colours are the Okabe-Ito palette (distinguishable with
the common colour-vision deficiencies), then tab20 for long lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # no display: charts are files

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

if TYPE_CHECKING:
    from ..results.rundata import VariantRun

#: Okabe & Ito (2008) colour-blind-safe palette, without black (kept for text and knees).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
SLIDE_SIZE = (12.0, 6.75)  #: Inches, 16:9; at 150 dpi a PNG is 1800x1012 pixels.
DPI = 150
FORMATS = ("png", "svg")  #: Every chart is written in both formats.
#: ``savefig`` options per format: a fast lossless PNG compression level (zlib 6 takes about a
#: quarter of the drawing time for ~10% smaller files); SVG without a date, so files are reproducible.
SAVE_OPTIONS = {"png": {"pil_kwargs": {"compress_level": 2}}, "svg": {"metadata": {"Date": None}}}

STYLE = {
    "font.size": 14,
    "axes.titlesize": 17,
    "axes.titleweight": "bold",
    "axes.labelsize": 14,
    "legend.fontsize": 12,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # text stays text in SVG: searchable and small
    "figure.constrained_layout.use": True,
}


def assign_colours(variants: Iterable["VariantRun"]) -> None:
    """Give each variant a colour by its position; the same label always gets the same colour."""
    extra = [matplotlib.colors.to_hex(c) for c in plt.get_cmap("tab20").colors]
    colours = PALETTE[:-1] + extra
    by_label: dict[str, str] = {}
    for variant in variants:
        if variant.label not in by_label:
            by_label[variant.label] = colours[len(by_label) % len(colours)]
        variant.colour = by_label[variant.label]


def figure(nrows: int = 1, ncols: int = 1, *, height: float | None = None, **kwargs) -> tuple[Figure, object]:
    """A slide-sized figure (call inside a :func:`styled` chart function so the style applies)."""
    return plt.subplots(nrows, ncols, figsize=(SLIDE_SIZE[0], height or SLIDE_SIZE[1]), **kwargs)


def styled(function):
    """Decorator: run a chart function inside the shared matplotlib style."""

    def wrapper(*args, **kwargs):
        with plt.rc_context(STYLE):
            return function(*args, **kwargs)

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    wrapper.__wrapped__ = function
    return wrapper


def save(fig: Figure, out_dir: Path, stem: str) -> list[Path]:
    """Write ``fig`` as ``<stem>.png`` and ``<stem>.svg`` in ``out_dir``, close it, return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in FORMATS:
        path = out_dir / f"{stem}.{fmt}"
        options = SAVE_OPTIONS.get(fmt, {})
        fig.savefig(path, dpi=DPI, format=fmt, **options)
        paths.append(path)
        # The layout is settled by the first save; later formats reuse it instead of re-solving it
        # (constrained layout measures every text twice per save: a third of the drawing time).
        fig.set_layout_engine("none")
    plt.close(fig)
    return paths


def subtitle(variants: list["VariantRun"]) -> str:
    """Where the numbers come from, for a chart's caption line: scenarios, replications, sources."""
    scenarios = sorted({v.summary.get("scenario", {}).get("name", "?") for v in variants})
    reps = sorted({int(v.block.get("replications") or v.summary.get("replications") or 1) for v in variants})
    sources = sorted({v.source for v in variants})
    rep_text = f"{reps[0]}" if len(reps) == 1 else f"{reps[0]}-{reps[-1]}"
    return f"{', '.join(scenarios)} · {rep_text} replication(s) · {' + '.join(sources)}"


def seconds_label(max_s: float) -> tuple[float, str]:
    """Scale and unit to show durations around ``max_s``: (1000, "ms") or (1, "s")."""
    return (1.0, "s") if max_s >= 2.0 else (1000.0, "ms")


def number_formatter() -> FuncFormatter:
    """Tick labels like 20, 150, 1.2k, 3M: readable on a slide."""

    def fmt(x: float, _pos: int) -> str:
        if abs(x) >= 1e6:
            return f"{x / 1e6:g}M"
        if abs(x) >= 1e3:
            return f"{x / 1e3:g}k"
        return f"{x:g}"

    return FuncFormatter(fmt)


def mark_source(ax, variants: list["VariantRun"]) -> None:
    """Hatched note when measured runs sit beside simulated ones, so no one mistakes which is which."""
    if len({v.source for v in variants}) > 1:
        ax.text(0.99, 0.01, "measured runs marked (measured)", transform=ax.transAxes, ha="right", va="bottom", fontsize=10, alpha=0.7)


def legend_label(variant: "VariantRun") -> str:
    """A variant's legend entry; measured runs say so."""
    return f"{variant.label} (measured)" if variant.source == "measured" and "(measured)" not in variant.label else variant.label


def caption(fig: Figure, line: str) -> None:
    """A small grey line under the chart saying where the numbers come from (space kept by the layout)."""
    fig.supxlabel(line, fontsize=10, color="0.4", x=0.995, ha="right")
