"""The look shared by every chart: colours per style and variant, slide-sized figures, units, saving.

Charts go on slides in design reviews, so figures are 16:9, fonts are large, and a variant keeps
its colour in every chart of a report. Colours come from one qualitative palette of
:data:`PALETTE` (12 colours: Okabe & Ito's, which survive the common colour-vision deficiencies,
then six of Paul Tol's "muted"); a colour belongs to a **style** when variants name one (all
``monolith-*`` variants are shades of the monolith's blue, in every chart, the saturation curves
included), else to the variant. Past 12 colours, series also differ by line style
(:data:`LINESTYLES`) and bars by hatching.

The charts here use fixed margins (:func:`figure` with ``right=``), not constrained layout: the
layout solver measured every text of every chart twice and took a third of the drawing time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np

matplotlib.use("Agg")  # no display: charts are files

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex, to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter  # noqa: E402

from .. import formatting  # noqa: E402

if TYPE_CHECKING:
    from ..results.rundata import VariantRun

#: 12 qualitative colours: Okabe & Ito (2008) without yellow and black (too faint / kept for
#: text and reference lines), then Paul Tol's muted scheme, skipping its near-duplicates.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
           "#332288", "#117733", "#882255", "#999933", "#AA4499", "#44AA99"]
#: Line style of the n-th round through the palette (series 13-24 dashed, 25-36 dotted ...).
LINESTYLES = ["-", "--", ":", "-."]
HATCHES = {"-": None, "--": "//", ":": "..", "-.": "xx"}  #: Bars carry the line style as a hatch.
#: Each style's own colour, so a style reads the same in every report.
STYLE_COLOURS = {"monolith": PALETTE[0], "microservices": PALETTE[1], "event-driven": PALETTE[2],
                 "space-based": PALETTE[3], "service-based": PALETTE[4], "microkernel": PALETTE[5]}
FACET_AFTER = 8  #: More series than this: one small panel per style (or per group of variants).
SLIDE_SIZE = (12.0, 6.75)  #: Inches, 16:9; at 150 dpi a PNG is 1800x1012 pixels.
DPI = 150
FORMATS = ("png", "svg")  #: Every chart is written in both formats.
#: ``savefig`` options per format: SVG without a date, so files are reproducible (PNG: see :func:`save`).
SAVE_OPTIONS = {"svg": {"metadata": {"Date": None}}}
#: Figure margins in inches (left, right, top, bottom), before room for outside legends.
MARGINS = (1.1, 0.3, 0.6, 1.0)

STYLE = {
    "font.size": 14,
    "axes.titlesize": 16,
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
}


def _shade(colour: str, index: int, count: int) -> str:
    """The ``index``-th of ``count`` shades of ``colour``, light to dark (the middle one is the colour)."""
    if count <= 1:
        return colour
    r, g, b = to_rgb(colour)
    t = index / (count - 1) * 2 - 1  # -1 .. 1
    if t < 0:  # towards white
        mix = -t * 0.55
        return to_hex((r + (1 - r) * mix, g + (1 - g) * mix, b + (1 - b) * mix))
    mix = t * 0.45  # towards black
    return to_hex((r * (1 - mix), g * (1 - mix), b * (1 - mix)))


def colour_key(variant: "VariantRun") -> str:
    """What owns a colour: the variant's style if it names one, else the variant itself."""
    return variant.style or variant.label


def assign_colours(variants: Iterable["VariantRun"]) -> None:
    """Give each variant its colour and line style.

    Styles keep their own colour (:data:`STYLE_COLOURS`); other keys take the next free palette
    colour in order of appearance. Several variants of one style get shades of its colour, light
    to dark in order. Past 12 keys the palette repeats with the next line style.
    """
    variants = list(variants)
    keys = list(dict.fromkeys(colour_key(v) for v in variants))
    free = [c for c in PALETTE if c not in {STYLE_COLOURS[k] for k in keys if k in STYLE_COLOURS}]
    base: dict[str, tuple[str, str]] = {}
    n_other = 0
    for key in keys:
        if key in STYLE_COLOURS:
            base[key] = (STYLE_COLOURS[key], "-")
        else:
            colour = free[n_other % len(free)] if n_other < len(free) else PALETTE[n_other % len(PALETTE)]
            round_ = 0 if n_other < len(free) else 1 + (n_other - len(free)) // len(PALETTE)
            base[key] = (colour, LINESTYLES[round_ % len(LINESTYLES)])
            n_other += 1
    members: dict[str, list[str]] = {}
    for v in variants:
        members.setdefault(colour_key(v), [])
        if v.label not in members[colour_key(v)]:
            members[colour_key(v)].append(v.label)
    for v in variants:
        colour, linestyle = base[colour_key(v)]
        group = members[colour_key(v)]
        v.colour = _shade(colour, group.index(v.label), len(group))
        v.linestyle = linestyle


def hatch(variant: "VariantRun") -> str | None:
    """Bar hatching: measured runs are hatched ``//``; past the palette, the line style's hatch."""
    if variant.source == "measured":
        return "//"
    return HATCHES.get(variant.linestyle)


def figure(nrows: int = 1, ncols: int = 1, *, height: float | None = None, width: float | None = None,
           right: float | None = None, bottom: float = 0.0, **kwargs) -> tuple[Figure, object]:
    """A slide-sized figure (call inside a :func:`styled` chart function).

    With ``right`` (inches kept free right of the axes for a legend, may be 0) the figure has fixed
    margins, :data:`MARGINS` plus ``right`` and ``bottom``: no layout solver runs. Without it the
    figure uses matplotlib's constrained layout.
    """
    w, h = width or SLIDE_SIZE[0], height or SLIDE_SIZE[1]
    if right is None:
        return plt.subplots(nrows, ncols, figsize=(w, h), layout="constrained", **kwargs)
    fig, axes = plt.subplots(nrows, ncols, figsize=(w, h), layout="none", **kwargs)
    left_in, right_in, top_in, bottom_in = MARGINS
    fig.subplots_adjust(left=left_in / w, right=1 - (right_in + right) / w, top=1 - top_in / h,
                        bottom=(bottom_in + bottom) / h, wspace=0.25, hspace=0.35)
    return fig, axes


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
    """Write ``fig`` as ``<stem>.png`` and ``<stem>.svg`` in ``out_dir``, close it, return the paths.

    The PNG is the Agg canvas written as RGB at zlib level 1: charts are opaque, and the alpha
    channel and a higher level cost a fifth of the drawing time for ~10% smaller files."""
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in FORMATS:
        path = out_dir / f"{stem}.{fmt}"
        if fmt == "png":
            fig.set_dpi(DPI)
            fig.canvas.draw()
            rgba = np.asarray(fig.canvas.buffer_rgba())
            Image.fromarray(rgba[:, :, :3]).save(path, format="png", compress_level=1, dpi=(DPI, DPI))
        else:
            fig.savefig(path, dpi=DPI, format=fmt, **SAVE_OPTIONS.get(fmt, {}))
        paths.append(path)
        # A constrained layout is settled by the first save; later formats reuse it.
        fig.set_layout_engine("none")
    plt.close(fig)
    return paths


def replications(variants: list["VariantRun"]) -> list[int]:
    return sorted({int(v.block.get("replications") or v.summary.get("replications") or 1) for v in variants})


def subtitle(variants: list["VariantRun"]) -> str:
    """Where the numbers come from, for a chart's caption line: scenarios, replications, sources."""
    scenarios = sorted({v.summary.get("scenario", {}).get("name", "?") for v in variants})
    reps = replications(variants)
    sources = sorted({v.source for v in variants})
    rep_text = f"{reps[0]}" if len(reps) == 1 else f"{reps[0]}-{reps[-1]}"
    return f"{', '.join(scenarios)} · {rep_text} replication{'s' if reps[-1] > 1 else ''} · {' + '.join(sources)}"


def interval_note(variants: list["VariantRun"]) -> str:
    """What the error bars are: 95% CIs over replications, or nothing to promise at one."""
    reps = replications(variants)
    if reps[-1] < 2:
        return "one replication: no confidence intervals"
    return "error bars: 95% confidence interval over replications"


def seconds_label(max_s: float) -> tuple[float, str]:
    """Scale and unit to show durations up to ``max_s`` on an axis: (1000, "ms"), (1, "s"), (1/60, "min")."""
    per_unit, unit = formatting.duration_unit(max_s)
    if unit == "µs":
        per_unit, unit = 1e-3, "ms"  # an axis of fractions of a millisecond still reads in ms
    return 1.0 / per_unit, unit


def plain_formatter(unit: str = "") -> FuncFormatter:
    """Tick labels of measured values: ``0.5, 2, 50, 200``; on a millisecond axis 1,000 ms and up
    read ``1 s, 10 s, 100 s`` (short, so decade labels never run into each other)."""

    def fmt(x: float, _pos: int) -> str:
        if unit == "ms" and x >= 1000:
            return f"{x / 1000:g} s"
        return f"{x:,g}"

    return FuncFormatter(fmt)


def time_axis(ax, end_s: float) -> None:
    """A run's time axis: seconds with round ticks, or minutes (``5 min``) for runs over 5 minutes."""
    if end_s > 300:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 3, 5, 6, 10]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x / 60:g}"))
        ax.set_xlabel("time (min)")
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=10, steps=[1, 2, 5, 10]))
        ax.set_xlabel("time (s)")
    ax.set_xlim(0, end_s)


def log_axis(ax, which: str, low: float, high: float, unit: str = "") -> None:
    """Make ``ax``'s ``which`` (``x`` or ``y``) axis logarithmic over ``low``..``high`` with plain
    1-2-5 ticks (``1, 2, 5, 10, 20``, never ``10⁰``), ending at a labelled tick above ``high`` so
    the tallest bar or curve sits below a number."""
    decades = max(high, 1e-12) / max(low, 1e-12)
    subs = (1.0, 2.0, 5.0) if decades < 300 else (1.0,)
    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    (ax.set_xlim if which == "x" else ax.set_ylim)(_previous_tick(low, subs), _next_tick(high, subs))
    axis.set_major_locator(LogLocator(subs=subs, numticks=15))
    axis.set_major_formatter(plain_formatter(unit))
    axis.set_minor_formatter(NullFormatter())


def _next_tick(value: float, subs) -> float:
    exponent = math.floor(math.log10(max(value, 1e-12)))
    for e in (exponent, exponent + 1):
        for sub in subs:
            tick = sub * 10**e
            if tick >= value * 1.02:
                return tick
    return 10 ** (exponent + 1)


def _previous_tick(value: float, subs) -> float:
    exponent = math.floor(math.log10(max(value, 1e-12)))
    best = 10.0**exponent
    for sub in subs:
        tick = sub * 10**exponent
        if tick <= value / 1.02:
            best = tick
    return best if best <= value else 10 ** (exponent - 1)


def number_formatter() -> FuncFormatter:
    """Tick labels like 0.5, 20, 150, 1.2k, 3M: readable on a slide, never ``10⁰``."""

    def fmt(x: float, _pos: int) -> str:
        if abs(x) >= 1e6:
            return f"{x / 1e6:g}M"
        if abs(x) >= 1e3:
            return f"{x / 1e3:g}k"
        return f"{x:g}"

    return FuncFormatter(fmt)


def legend_label(variant: "VariantRun") -> str:
    """A variant's legend entry; measured runs say so."""
    return f"{variant.label} (measured)" if variant.source == "measured" and "(measured)" not in variant.label else variant.label


def caption(fig: Figure, line: str) -> None:
    """A small grey line at the bottom right saying where the numbers come from."""
    if fig.get_layout_engine() is not None and fig.get_layout_engine().__class__.__name__ == "ConstrainedLayoutEngine":
        fig.supxlabel(line, fontsize=10, color="0.4", x=0.995, ha="right")  # the layout keeps room for it
    else:
        fig.text(0.995, 0.012, line, fontsize=10, color="0.4", ha="right", va="bottom")


def legend_outside(ax, handles=None, labels=None, *, fontsize: int = 11, **kwargs):
    """A legend to the right of ``ax``, outside the plot, so it never covers data."""
    args = (handles, labels) if handles is not None else ()
    return ax.legend(*args, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=fontsize,
                     borderaxespad=0.0, **kwargs)
