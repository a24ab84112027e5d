"""The trade-off scorecard as radar charts: one small radar per variant, its stars from the runs
(filled, in the variant's colour) over Richards & Ford's published stars for its style (dashed).

Small multiples rather than one radar with every polygon: identical shapes (the monolith and the
microkernel often score alike) would hide each other, and each variant's shape against the book's
is what a reviewer compares. The axes are the characteristics the runs measured; stars from the
runs are relative to the variants compared, the book's are absolute across styles.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .look import caption, figure, legend_label, save, styled, subtitle

if TYPE_CHECKING:
    from ..scorecard import Scorecard

PUBLISHED_COLOUR = "0.25"
ABBREVIATIONS = {"Fault tolerance": "Fault\ntolerance", "Deployability": "Deploy-\nability"}


def _radar(ax, titles: list[str], stars: list[int], published: list[int] | None, colour: str, title: str, show_labels: bool,
           title_size: int = 13) -> None:
    angles = np.linspace(0, 2 * np.pi, len(titles), endpoint=False).tolist()
    loop = angles + angles[:1]
    ax.plot(loop, stars + stars[:1], color=colour, linewidth=2.2)
    ax.fill(loop, stars + stars[:1], color=colour, alpha=0.25)
    if published is not None:
        ax.plot(loop, published + published[:1], color=PUBLISHED_COLOUR, linewidth=1.6, linestyle=(0, (4, 2)))
    ax.set_xticks(angles, [ABBREVIATIONS.get(t, t) for t in titles] if show_labels else [""] * len(titles), fontsize=9)
    ax.tick_params(axis="x", pad=1)
    ax.set_ylim(0, 5)
    ax.set_yticks([1, 2, 3, 4, 5], ["", "", "", "", ""])
    ax.grid(alpha=0.35)
    ax.set_title(title, fontsize=title_size, pad=26, color=colour, fontweight="bold")


@styled
def draw_radar(scorecard: "Scorecard", out_dir: Path, stem: str = "scorecard-radar") -> list[Path]:
    """One radar per variant (runs vs published stars); nothing with fewer than 3 measured axes."""
    rows = [ch for ch in scorecard.characteristics if ch.measured]
    if len(rows) < 3 or not scorecard.variants:
        return []
    titles = [ch.title for ch in rows]
    n = len(scorecard.variants)
    ncols = min(n, 3 if n <= 6 else 4 if n <= 12 else 6)
    nrows = -(-n // ncols)
    small = n > 12
    fig, axes = figure(nrows, ncols, right=0.0, height=max(6.75, (2.5 if small else 3.3) * nrows + 1.6), bottom=0.35,
                       subplot_kw={"projection": "polar"}, squeeze=False)
    fig.subplots_adjust(left=0.09, right=0.91, wspace=0.6, hspace=0.55, top=1 - 0.9 / fig.get_figheight())
    any_published = False
    for ax, variant in zip(axes.flat, scorecard.variants):
        stars = [ch.stars.get(variant.label) or 0 for ch in rows]
        published = [ch.published.get(variant.label) for ch in rows]
        has_published = all(p is not None for p in published)
        any_published |= has_published
        title = legend_label(variant)
        if small and len(title) > 12 and "-" in title:  # "microservices-1000" over two lines, not into its neighbour
            title = "\n".join(title.rsplit("-", 1))
        _radar(ax, titles, stars, published if has_published else None, variant.colour, title, True, 11 if small else 13)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    sources = {v.source for v in scorecard.variants}
    ours = "simulated" if sources == {"simulation"} else "measured" if sources == {"measured"} else "these runs"
    handles = [Patch(facecolor="0.55", alpha=0.5, edgecolor="0.3", label=f"{ours}: stars relative to the variants compared (5 = best of them)")]
    if any_published:
        handles.append(Line2D([], [], color=PUBLISHED_COLOUR, linestyle=(0, (4, 2)), linewidth=1.6,
                              label="Richards & Ford 2020: the style's published stars (5 = best across styles)"))
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.01, 0.045), ncols=1, frameon=False, fontsize=11)
    fig.suptitle("Trade-off scorecard: each variant's stars beside the published ones", fontsize=16, fontweight="bold")
    caption(fig, "rings: 1-5 stars · " + subtitle(scorecard.variants))
    return save(fig, out_dir, stem)
