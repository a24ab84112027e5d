"""Differences between two runs, with confidence intervals: is B really better than A?

For each variant the two runs share (or the single variant of each, if they share none), each
headline metric's difference B − A is estimated from the per-replication values: with a paired
Student-t interval on the per-replication differences when the two runs share seed and
replication count (they saw the same random numbers, :mod:`simulator.paired`), else with Welch's
unpaired t interval. Every difference says which it used. A difference whose 95% interval
excludes zero is marked significant; with one replication on either side there is no interval
and the difference is shown bare.

Runs that are not like for like (another scenario, seed, duration, warm-up or replication
count, or a run that did not finish ``ok``) are still compared, with one warning per reason
(:func:`comparability_warnings`) printed before the table and shown under the chart title.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ArchsimError
from ..formatting import unit_of
from ..paired import NONE, difference
from ..results.rundata import VariantRun

#: (path in the variant block, label, lower is better).
METRICS = (
    ("overall.throughput_per_s", "throughput", False),
    ("overall.latency_mean_s", "mean latency", True),
    ("overall.latency_p50_s", "p50", True),
    ("overall.latency_p95_s", "p95", True),
    ("overall.latency_p99_s", "p99", True),
    ("overall.error_rate", "error rate", True),
    ("extras.cost.per_million_requests_usd", "cost per million requests", True),
)


@dataclass(frozen=True)
class Difference:
    """B − A for one metric of one variant pair."""

    pair: str  #: ``variant`` or ``a-variant → b-variant``.
    metric: str
    a: float
    b: float
    ci95: float | None  #: Half-width of the 95% CI of b − a, None without replications.
    lower_is_better: bool
    unit: str = ""  #: ``s``, ``/s``, ``%``, ``usd`` or plain, for :mod:`simulator.formatting`.
    method: str = NONE  #: How ``ci95`` was made: ``paired``, ``Welch``, ``exact`` or ``none``.

    @property
    def diff(self) -> float:
        return self.b - self.a

    @property
    def relative(self) -> float | None:
        return self.diff / abs(self.a) if self.a else None

    @property
    def significant(self) -> bool:
        return self.ci95 is not None and abs(self.diff) > self.ci95

    @property
    def verdict(self) -> str:
        if not self.significant:
            return "no significant difference" if self.ci95 is not None else "no CI (one replication)"
        better = (self.diff < 0) == self.lower_is_better
        return "B better" if better else "B worse"


def comparability_warnings(a: dict, b: dict) -> list[str]:
    """One line per reason the two runs' ``summary.json`` (``a``, ``b``) are not like for like.

    Different scenario name, seed, duration or warm-up, or replications, different command-line
    overrides (``--set``), or a run whose status is not ``ok`` (interrupted, failed): the
    differences are still computed, but a reader must know.
    """
    warnings = []
    name_a, name_b = (s.get("scenario", {}).get("name", "?") for s in (a, b))
    if name_a != name_b:
        warnings.append(f"different scenarios: A is {name_a!r}, B is {name_b!r}")
    for key, what, unit in (("seed", "seed", ""), ("duration_s", "duration", " s"), ("warmup_s", "warm-up", " s"),
                            ("replications", "replications", "")):
        if a.get(key) != b.get(key):
            warnings.append(f"different {what}: A {a.get(key, '?')}{unit}, B {b.get(key, '?')}{unit}")
    warnings += override_warnings(a, b)
    for side, summary in (("A", a), ("B", b)):
        status = summary.get("status", "?")
        if status != "ok":
            warnings.append(f"run {side} status is {status!r}, not 'ok': its figures may be partial")
    return warnings


def overrides(summary: dict) -> dict[str, str]:
    """The command-line overrides a run records (``run.overrides``) as ``{"--set path": value, "--seed": n}``."""
    recorded = (summary.get("run") or {}).get("overrides") or {}
    out = {f"--set {path}": str(value) for path, value in (recorded.get("set") or {}).items()}
    for flag in ("seed", "replications"):
        if flag in recorded:
            out[f"--{flag}"] = str(recorded[flag])
    return out


def override_warnings(a: dict, b: dict) -> list[str]:
    """One line per command-line override the two runs do not share (``--set`` paths, ``--seed``)."""
    mine, theirs = overrides(a), overrides(b)
    lines = []
    for flag in dict.fromkeys([*mine, *theirs]):
        if flag in ("--seed", "--replications"):
            continue  # their values are compared above, whichever way they were set
        if mine.get(flag) != theirs.get(flag):
            lines.append(f"runs differ in {flag}: A {mine.get(flag, 'not set (the file)')}, B {theirs.get(flag, 'not set (the file)')}")
    return lines


def pairs(run_a: list[VariantRun], run_b: list[VariantRun]) -> list[tuple[str, VariantRun, VariantRun]]:
    """Variants compared: those with the same name in both runs, else the only variant of each."""
    names_b = {v.name: v for v in run_b}
    shared = [(a.name, a, names_b[a.name]) for a in run_a if a.name in names_b]
    if shared:
        return shared
    if len(run_a) == 1 and len(run_b) == 1:
        return [(f"{run_a[0].name} → {run_b[0].name}", run_a[0], run_b[0])]
    raise ArchsimError(
        f"the runs share no variant name (A has {', '.join(v.name for v in run_a)}; "
        f"B has {', '.join(v.name for v in run_b)}); compare runs of the same scenario or with one variant each"
    )


def differences(run_a: list[VariantRun], run_b: list[VariantRun], paired: bool) -> list[Difference]:
    """Every metric both sides have, for every compared pair; ``paired`` when the runs share seed
    and replications (:func:`simulator.paired.shared_randomness`), Welch otherwise."""
    out = []
    for pair, a, b in pairs(run_a, run_b):
        for path, label, lower in METRICS:
            ea, eb = a.get(path), b.get(path)
            if ea is None or eb is None:
                continue
            interval = difference(ea, eb, paired)
            out.append(Difference(pair, label, ea.mean, eb.mean, interval.ci95, lower, unit_of(path), interval.method))
    return out


def methods(diffs: list[Difference]) -> str:
    """The interval methods used, for a title: ``paired``, ``Welch``, ``paired and Welch`` or ``none``."""
    used = [m for m in dict.fromkeys(d.method for d in diffs) if m not in ("none", "exact")]
    return " and ".join(used) or "none (one replication)"


def draw_differences(diffs: list[Difference], out_dir: Path, title: str, stem: str = "compare",
                     warnings: list[str] | tuple[str, ...] = ()) -> list[Path]:
    """Relative differences B vs A with their 95% CIs, one row per metric and pair.

    ``warnings`` (from :func:`comparability_warnings`) become a subtitle under the title.
    """
    from .. import formatting
    from ..charts.look import caption, figure, save, styled

    @styled
    def draw() -> list[Path]:
        shown = [d for d in diffs if d.relative is not None]
        if not shown:
            return []
        fig, ax = figure(height=max(4.0, 1.2 + 0.42 * len(shown)))
        labels = [f"{d.pair}: {d.metric}" for d in shown]
        values = [d.relative * 100 for d in shown]
        errors = [(d.ci95 / abs(d.a) * 100) if d.ci95 is not None else 0 for d in shown]
        colours = ["#009E73" if d.verdict == "B better" else "#D55E00" if d.verdict == "B worse" else "0.6" for d in shown]
        # The axis is sized by the differences, not by the widest interval: a -100% bar with a CI
        # to -277% must not squash every other bar; an interval past the edge ends in an arrow, with its end written.
        limit = max(5.0, 1.3 * max(abs(v) for v in values))
        ax.barh(labels, values, color=colours)
        for y, (value, error) in enumerate(zip(values, errors)):
            if not error:
                continue
            low, high = value - error, value + error
            ax.errorbar([value], [y], xerr=[[value - max(low, -limit)], [min(high, limit) - value]], color="black", capsize=4)
            for end, edge, side in ((low, -limit, "left"), (high, limit, "right")):
                if abs(end) > limit:
                    ax.annotate(f"CI to {formatting.relative(end / 100)}", xy=(edge, y), xytext=(-4 if side == "right" else 4, 0),
                                textcoords="offset points", ha="right" if side == "right" else "left", va="center", fontsize=10)
        ax.set_xlim(-limit, limit)
        ax.axvline(0, color="black", linewidth=1)
        ax.invert_yaxis()
        ax.set_xlabel(f"B relative to A (%, error bars: 95% CI, {methods(diffs)})")
        if warnings:
            fig.suptitle(title, fontsize=17, fontweight="bold")
            ax.set_title("\n".join(f"warning: {w}" for w in warnings), fontsize=11, fontweight="normal",
                         color="#B3401D", loc="left")
        else:
            ax.set_title(title)
        caption(fig, "green: B significantly better · orange: B significantly worse · grey: not significant")
        return save(fig, out_dir, stem)

    return draw()
