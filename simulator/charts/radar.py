"""The trade-off scorecard as radar charts: measured stars beside Richards & Ford's published stars.

One axis per characteristic the runs measured, one polygon per variant in its report colour. The
left radar is what the runs say (relative to the variants compared), the right one what Richards
& Ford rate the same styles (absolute, across all styles), so shape differences stand out.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .look import caption, figure, legend_label, save, styled, subtitle

if TYPE_CHECKING:
    from ..scorecard import Scorecard


def _radar(ax, axes_titles: list[str], polygons: list[tuple[str, str, list[int]]], title: str) -> None:
    angles = np.linspace(0, 2 * np.pi, len(axes_titles), endpoint=False).tolist()
    for label, colour, stars in polygons:
        values = stars + stars[:1]
        ax.plot(angles + angles[:1], values, color=colour, linewidth=2.2, label=label)
        ax.fill(angles + angles[:1], values, color=colour, alpha=0.08)
    ax.set_xticks(angles, [title.replace(" ", "\n", 1) for title in axes_titles])  # narrow labels beside the circle
    ax.tick_params(axis="x", pad=10)
    for label, angle in zip(ax.get_xticklabels(), angles):
        # labels beside the circle lean away from it instead of straddling it
        x = np.cos(angle)
        label.set_horizontalalignment("left" if x > 0.1 else "right" if x < -0.1 else "center")
    ax.set_ylim(0, 5)
    ax.set_yticks([1, 2, 3, 4, 5], ["1", "2", "3", "4", "5★"], fontsize=10, color="0.45")
    ax.set_rlabel_position(180 / len(axes_titles))  # star numbers between two axes, clear of the polygons' labels
    ax.set_title(title, pad=40)


@styled
def draw_radar(scorecard: "Scorecard", out_dir: Path, stem: str = "scorecard-radar") -> list[Path]:
    """Measured (and, if any variant has a style, published) stars as radars; nothing if < 3 axes."""
    rows = [ch for ch in scorecard.characteristics if ch.measured]
    if len(rows) < 3:
        return []
    titles = [ch.title for ch in rows]
    measured = [(legend_label(v), v.colour, [ch.stars.get(v.label) or 0 for ch in rows]) for v in scorecard.variants]
    published = [(legend_label(v), v.colour, [ch.published.get(v.label) or 0 for ch in rows])
                 for v in scorecard.variants if all(ch.published.get(v.label) for ch in rows)]
    panels = 2 if published else 1
    fig, axes = figure(1, panels, subplot_kw={"projection": "polar"})
    axes = list(axes) if panels == 2 else [axes]
    _radar(axes[0], titles, measured, "Measured (relative to these variants)")
    if published:
        _radar(axes[1], titles, published, "Published (Richards & Ford 2020)")
    # Fixed layout: constrained layout cannot see polar tick labels and puts an outside legend on
    # top of the caption. One legend below both radars, clear of every title and axis label.
    fig.set_layout_engine("none")
    lefts = [0.1, 0.59] if panels == 2 else [0.375]
    for ax, left in zip(axes, lefts):
        ax.set_position([left, 0.19, 0.25, 0.6])  # room beside each circle for its axis labels
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.05), ncols=min(len(labels), 6),
               frameon=False, fontsize=12)
    caption(fig, "5★ = best of the variants compared (left) · best across styles (right) · " + subtitle(scorecard.variants))
    return save(fig, out_dir, stem)
