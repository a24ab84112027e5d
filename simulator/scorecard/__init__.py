"""The trade-off scorecard: architecture characteristics measured from runs, scored 1-5 relative
to the variants compared, beside Richards & Ford's published ratings of the same styles.

:func:`build_scorecard` measures every characteristic (:mod:`.measures`), turns the scored
measures into stars (:mod:`.stars`), looks up the published stars (:mod:`.published`) and lists
where the two agree and disagree. The report shows it as a star table, the charts as a radar.
Definitions of every measure: ``docs/scorecard.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..paired import shared_randomness
from ..results.rundata import VariantRun
from .measures import CHARACTERISTICS, Measure
from .published import CITATION, published_stars
from .stars import positions, star_text, to_stars

__all__ = ["CITATION", "Characteristic", "Finding", "Scorecard", "build_scorecard", "ranking", "ranking_text", "star_text"]

AGREE_WITHIN = 1  #: Measured and published stars "agree" when they differ by at most this.


@dataclass
class Characteristic:
    """One row group of the scorecard: its measures, the stars they give, and the published stars."""

    key: str
    title: str
    measures: list[Measure]
    stars: dict[str, int | None] = field(default_factory=dict)  #: Variant label -> measured stars.
    published: dict[str, int | None] = field(default_factory=dict)  #: Variant label -> R&F stars.

    @property
    def measured(self) -> bool:
        return any(s is not None for s in self.stars.values())

    @property
    def basis(self) -> str:
        """What the stars were scored on, e.g. "p95 at nominal load"."""
        return " + ".join(m.label for m in self.measures if m.scored and m.present) or "not measured"


@dataclass(frozen=True)
class Finding:
    """Where measured and published stars agree or disagree, for one variant and characteristic."""

    variant: str
    style: str
    characteristic: str
    measured: int
    published: int

    @property
    def agrees(self) -> bool:
        return abs(self.measured - self.published) <= AGREE_WITHIN

    def sentence(self) -> str:
        verdict = "agrees with" if self.agrees else ("beats" if self.measured > self.published else "falls short of")
        style = f" ({self.style})" if self.style and self.style != self.variant else ""
        return (f"{self.variant}{style}, {self.characteristic}: measured {star_text(self.measured)} "
                f"{verdict} published {star_text(self.published)}")


@dataclass
class Scorecard:
    """Every characteristic for a set of variants."""

    variants: list[VariantRun]
    characteristics: list[Characteristic]
    citation: str = CITATION
    paired: bool = False  #: Differences tested on paired per-replication values (else Welch).
    can_rank: bool = True  #: False with one replication: no stars are handed out on noise.

    @property
    def method(self) -> str:
        """How the stars were tested, as a sentence for the CLI and the reports."""
        return ranking_text(self.can_rank, self.paired)

    def findings(self) -> list[Finding]:
        """Each (variant, characteristic) that has both measured and published stars."""
        out = []
        for ch in self.characteristics:
            for v in self.variants:
                mine, theirs = ch.stars.get(v.label), ch.published.get(v.label)
                if mine is not None and theirs is not None:
                    out.append(Finding(v.label, v.style or "", ch.title.lower(), mine, theirs))
        return out


def ranking_text(can_rank: bool, paired: bool) -> str:
    """What the scorecard's stars rest on (or why there are none)."""
    if not can_rank:
        return ("cannot rank: one replication, so no difference can be told from noise and no stars are given; "
                "run with --replications 3 or more")
    if paired:
        return ("stars from paired per-replication differences (same seed and replications: common random numbers); "
                "differences not significant at 95% give equal stars")
    return "stars from Welch's unpaired intervals (the runs differ in seed or replications); differences not significant at 95% give equal stars"


def ranking(summaries: list[dict]) -> tuple[bool, bool]:
    """``(can_rank, paired)`` for runs with these ``summary.json``: ranking needs at least two
    replications everywhere; pairing needs one seed and replication count for all."""
    can_rank = all((s.get("replications") or 1) >= 2 for s in summaries)
    paired = all(shared_randomness(summaries[0], s) for s in summaries[1:]) if summaries else False
    return can_rank, paired


def score(measures: list[Measure], labels: list[str], paired: bool) -> dict[str, int | None]:
    """Stars per variant: the mean of each scored measure's relative position, as 1-5 stars."""
    scored = [positions(m.values, m.better, paired) for m in measures if m.scored]
    scored = [p for p in scored if p is not None]
    out: dict[str, int | None] = {}
    for label in labels:
        places = [p[label] for p in scored if label in p]
        out[label] = to_stars(sum(places) / len(places)) if places else None
    return out


def build_scorecard(variants: list[VariantRun]) -> Scorecard:
    """Measure, score and compare every characteristic for ``variants``."""
    labels = [v.label for v in variants]
    can_rank, paired = ranking([v.summary for v in variants])
    rows = []
    for key, (title, measure) in CHARACTERISTICS.items():
        measures = measure(variants)
        stars = score(measures, labels, paired) if can_rank else {label: None for label in labels}
        rows.append(Characteristic(
            key, title, measures, stars,
            {v.label: published_stars(v.style, key) for v in variants},
        ))
    return Scorecard(variants, rows, paired=paired, can_rank=can_rank)
