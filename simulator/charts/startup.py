"""Start-up breakdown per platform: where the seconds go before an instance takes traffic.

A stacked horizontal bar per platform (or per variant, when runs do not name their platform):
provisioning, image pull, runtime start, application init and readiness, from
``extras.platform.<service>.startup_breakdown_s``, averaged over the services of each variant.
This is why a microVM scales out faster than a VM, and a process faster than both.

A variant whose platform reads a measured start-up profile (``archsim probe startup``) is drawn
hatched, so phases measured on a machine stand out from the documented defaults beside them.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from .look import caption, figure, save, styled, subtitle
from ..results.rundata import VariantRun

#: Phases in start-up order, with their display names and colours.
PHASES = (
    ("provisioning", "provisioning", "#0072B2"),
    ("image_pull", "image pull", "#56B4E9"),
    ("runtime", "runtime start", "#009E73"),
    ("app_init", "app init", "#E69F00"),
    ("readiness", "readiness", "#CC79A7"),
)


def measured(variant: VariantRun) -> bool:
    """True when some service of the variant started from a measured profile."""
    platform = (variant.block.get("extras") or {}).get("platform")
    return isinstance(platform, dict) and any(isinstance(block, dict) and block.get("startup_profile") for block in platform.values())


def startup_breakdown(variant: VariantRun) -> dict[str, float] | None:
    """Mean seconds per start-up phase over the variant's services; None if not recorded."""
    platform = (variant.block.get("extras") or {}).get("platform")
    if not isinstance(platform, dict):
        return None
    sums: dict[str, list[float]] = defaultdict(list)
    for service in platform:
        for phase, _, _ in PHASES:
            est = variant.get(f"extras.platform.{service}.startup_breakdown_s.{phase}")
            if est is not None:
                sums[phase].append(est.mean)
    if not sums:
        return None
    return {phase: float(np.mean(values)) for phase, values in sums.items()}


@styled
def draw_startup(variants: list[VariantRun], out_dir: Path, stem: str = "startup-breakdown") -> list[Path]:
    """Stacked start-up phases per platform; nothing when no run records start-ups."""
    rows: dict[str, list[dict[str, float]]] = defaultdict(list)
    hatched: set[str] = set()
    shown = []
    by_platform = [variant.platform for variant in variants if startup_breakdown(variant)]
    shared = len(set(by_platform)) < len(by_platform)  # one platform several times: name rows by variant
    for variant in variants:
        breakdown = startup_breakdown(variant)
        if breakdown:
            name = variant.label if shared or not variant.platform else variant.platform
            rows[name].append(breakdown)
            if measured(variant):
                hatched.add(name)
            shown.append(variant)
    if not rows:
        return []
    names = list(rows)
    fig, ax = figure(height=max(3.5, 1.0 + 0.8 * len(names)))
    left = np.zeros(len(names))
    for phase, title, colour in PHASES:
        widths = np.array([np.mean([b.get(phase, 0.0) for b in rows[n]]) for n in names])
        if not widths.any():
            continue
        bars = ax.barh(names, widths, left=left, color=colour, label=title, edgecolor="white")
        for name, bar in zip(names, bars):
            if name in hatched:
                bar.set_hatch("//")
        left += widths
    for y, total in enumerate(left):
        ax.annotate(f"{total:.1f} s", xy=(total, y), xytext=(5, 0), textcoords="offset points", va="center", fontsize=12, fontweight="bold")
    ax.invert_yaxis()
    ax.set_xlim(0, left.max() * 1.15)
    ax.set_xlabel("time from request to ready (s)")
    mixed = hatched and len(hatched) < len(names)
    ax.set_title("Instance start-up: measured (hatched) vs assumed" if mixed else "Instance start-up breakdown per platform")
    if hatched:
        from matplotlib.patches import Patch

        ax.add_artist(ax.legend(handles=[Patch(facecolor="white", edgecolor="#444444", hatch="//", label="measured on this machine (start-up profile)"),
                                         Patch(facecolor="white", edgecolor="#444444", label="assumed (documented defaults)")],
                                loc="lower right", frameon=False))
    ax.legend(ncols=5, loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)
    caption(fig, subtitle(shown))
    return save(fig, out_dir, stem)
