"""Events on a time axis: spans shaded on every panel, moments as markers on a thin event strip.

A run with an autoscaler records dozens of moments (every scale-up, every instance start-up); one
dashed line and one text label each would bury the data. So a time-series chart shows:

- **spans** (spike, outage, error burst, rollout) shaded on every panel and named once on the strip;
- **moments** (scale up/down, start-up done, crash, rollback, ...) as markers on the strip, one
  row per kind, with a legend that counts them;
- only the important moments (:data:`IMPORTANT`: crash, host failure, rollback) are also drawn as
  a thin line across the panels and named, and only while there are at most
  :data:`LABEL_AT_MOST` of their kind.

Events come from ``summary.json`` (``{"time_s", "kind", ...}``, written by ``Simulation.mark``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

#: Span kind -> shading colour (Okabe-Ito).
SPAN_COLOURS = {"spike": "#E69F00", "outage": "#D55E00", "errors": "#CC79A7", "rollout": "#56B4E9"}
#: Moment kind -> (marker, colour, name in the legend), in strip order (top row first).
MOMENTS = {
    "crash": ("X", "#D55E00", "crash"),
    "host_failed": ("X", "#7F2704", "host failure"),
    "rollback": ("<", "#CC79A7", "rollback"),
    "restart": ("o", "#D55E00", "restart"),
    "scale_up": ("^", "#009E73", "scale up"),
    "scale_down": ("v", "#0072B2", "scale down"),
    "startup": ("|", "0.35", "start-up done"),
    "host_added": ("s", "0.45", "host added"),
    "host_removed": ("D", "0.45", "host removed"),
}
IMPORTANT = ("crash", "host_failed", "rollback")  #: Moments also drawn across the panels and named.
LABEL_AT_MOST = 3  #: Name an important moment only while its kind occurs at most this often.
#: Kinds that close a span opened by ``<name>_start``; never drawn on their own.
_ENDS = {"outage_end": "outage", "errors_end": "errors", "rollout_end": "rollout"}


@dataclass(frozen=True)
class Span:
    """A stretch of the run shaded on every panel (``end_s`` None: until the end of the run)."""

    kind: str
    start_s: float
    end_s: float | None
    label: str


@dataclass(frozen=True)
class Moment:
    """An instantaneous event, a marker on the event strip."""

    kind: str
    time_s: float
    label: str


def _target(event: dict) -> str:
    return f" {event['service']}" if isinstance(event.get("service"), str) else ""


def split_events(events: list[dict]) -> tuple[list[Span], list[Moment]]:
    """Spans (``spike``, ``<x>_start`` … ``<x>_end`` pairs, anything with ``duration_s``) and moments."""
    spans: list[Span] = []
    moments: list[Moment] = []
    open_spans: dict[tuple[str, str], dict] = {}
    for event in sorted((e for e in events if isinstance(e.get("time_s"), (int, float))), key=lambda e: e["time_s"]):
        kind = str(event.get("kind", "event"))
        time_s = float(event["time_s"])
        duration = event.get("duration_s") if isinstance(event.get("duration_s"), (int, float)) else None
        if kind in _ENDS:
            base = _ENDS[kind]
            opened = open_spans.pop((base, _target(event)), None)
            if opened is not None:
                spans.append(_span(base, opened, time_s))
            elif duration and kind == "rollout_end":  # the end carries the rollout's length
                spans.append(_span(base, {**event, "time_s": time_s - duration}, time_s))
            already = any(m.kind == "rollback" and m.label.endswith(_target(event)) for m in moments)
            if kind == "rollout_end" and event.get("rolled_back") and not already:
                moments.append(Moment("rollback", time_s, f"rolled back{_target(event)}"))
            continue
        if kind.endswith("_start"):
            base = kind[: -len("_start")]
            if duration:
                spans.append(_span(base, event, time_s + duration))
            else:
                open_spans[(base, _target(event))] = event
            continue
        if duration and kind not in MOMENTS:
            spans.append(_span(kind, event, time_s + duration))
            continue
        moments.append(Moment(kind, time_s, f"{MOMENTS.get(kind, ('', '', kind.replace('_', ' ')))[2]}{_target(event)}"))
    spans += [_span(base, event, None) for (base, _), event in open_spans.items()]
    return spans, moments


def _span(kind: str, event: dict, end_s: float | None) -> Span:
    detail = f" ×{event['factor']:g}" if isinstance(event.get("factor"), (int, float)) else ""
    if isinstance(event.get("error_rate"), (int, float)):
        detail = f" {event['error_rate']:.0%}"
    return Span(kind, float(event["time_s"]), end_s, f"{kind}{_target(event)}{detail}")


LABEL_CHAR_WIDTH = 0.0095  #: Width of one label character as a share of the time axis (10 pt on ~8 in).


def label_lines(starts: list[float], labels: list[str], end_s: float) -> list[int]:
    """The line each label goes on so that none prints over another: a label takes the first line
    whose previous label ends before it starts."""
    ends: list[float] = []
    lines = []
    for start, label in zip(starts, labels):
        width = (len(label) + 2) * LABEL_CHAR_WIDTH * end_s
        line = next((i for i, end in enumerate(ends) if end <= start), len(ends))
        if line == len(ends):
            ends.append(0.0)
        ends[line] = start + width
        lines.append(line)
    return lines


def strip_rows(moments: list[Moment]) -> list[str]:
    """Moment kinds present, in strip order (known kinds first, then the rest by name)."""
    present = {m.kind for m in moments}
    return [k for k in MOMENTS if k in present] + sorted(present - set(MOMENTS))


def shade_spans(ax, spans: list[Span], end_s: float) -> None:
    """Shade every span on one panel."""
    for span in spans:
        ax.axvspan(span.start_s, span.end_s if span.end_s is not None else end_s,
                   color=SPAN_COLOURS.get(span.kind, "0.5"), alpha=0.13, linewidth=0)


def mark_important(ax, moments: list[Moment]) -> None:
    """A thin line across one panel for each important moment whose kind is rare enough to name."""
    counts = Counter(m.kind for m in moments)
    for m in moments:
        if m.kind in IMPORTANT and counts[m.kind] <= LABEL_AT_MOST:
            ax.axvline(m.time_s, color=MOMENTS[m.kind][1], linestyle=":", linewidth=1.2, alpha=0.8)


def draw_strip(ax, spans: list[Span], moments: list[Moment], end_s: float) -> None:
    """The event strip: span names on the top lines, one marker row per moment kind, a legend.

    No two labels print over each other: span names stack on as many lines as they need, and a
    moment's name is left out when it would cover the previous one of its row (its marker stays)."""
    rows = strip_rows(moments)
    counts = Counter(m.kind for m in moments)
    top = len(rows)  # the span-name lines sit above the marker rows
    shade_spans(ax, spans, end_s)
    handles = []
    for row, kind in enumerate(rows):
        marker, colour, name = MOMENTS.get(kind, ("o", "0.4", kind.replace("_", " ")))
        y = top - 1 - row
        times = [m.time_s for m in moments if m.kind == kind]
        ax.scatter(times, [y] * len(times), marker=marker, color=colour, s=60 if marker != "|" else 120,
                   linewidths=1.5, zorder=3, clip_on=False)
        handles.append(Line2D([], [], linestyle="none", marker=marker, color=colour, markersize=8, label=f"{name} ({counts[kind]})"))
        if kind in IMPORTANT and counts[kind] <= LABEL_AT_MOST:
            free_from = -float("inf")
            for m in sorted((m for m in moments if m.kind == kind), key=lambda m: m.time_s):
                if m.time_s < free_from:
                    continue
                ax.annotate(m.label, xy=(m.time_s, y), xytext=(7, 0), textcoords="offset points", va="center",
                            fontsize=10, color=colour, fontweight="bold")
                free_from = m.time_s + (len(m.label) + 2) * LABEL_CHAR_WIDTH * end_s
    lines = label_lines([s.start_s for s in spans], [s.label for s in spans], end_s)
    for span, line in zip(spans, lines):
        colour = SPAN_COLOURS.get(span.kind, "0.4")
        ax.annotate(span.label, xy=(max(span.start_s, 0.0), top + 0.8 * line), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=10, color=colour, fontweight="bold")
    for kind in dict.fromkeys(s.kind for s in spans):
        handles.append(Patch(color=SPAN_COLOURS.get(kind, "0.5"), alpha=0.35, label=kind))
    ax.set_ylim(-0.7, top + 0.8 * max(lines, default=0) + 0.6)
    ax.set_yticks([])
    ax.grid(False, axis="y")
    ax.spines["left"].set_visible(False)
    ax.set_ylabel("events", rotation=0, ha="right", va="center")
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=10,
                  ncols=2 if len(handles) > 4 else 1, handletextpad=0.3, columnspacing=0.8)


def strip_height(spans: list[Span], moments: list[Moment], end_s: float | None = None) -> float:
    """Inches the strip needs: a line per moment kind, the span-name lines, and room for its legend."""
    entries = len(strip_rows(moments)) + len({s.kind for s in spans})
    legend_lines = entries if entries <= 4 else (entries + 1) // 2
    span_lines = 1 + max(label_lines([s.start_s for s in spans], [s.label for s in spans], end_s), default=0) if spans and end_s else 1
    return 0.35 + 0.24 * max(len(strip_rows(moments)) + span_lines, legend_lines)
