"""The trade-off scorecard: architecture characteristics measured from runs, scored 1-5 relative
to the variants compared, beside Richards & Ford's published ratings of the same styles.

:func:`build_scorecard` measures every characteristic (:mod:`.measures`), turns the scored
measures into stars (:mod:`.stars`), looks up the published stars (:mod:`.published`) and lists
where the two agree and disagree. The report shows it as a star table, the charts as a radar.
Definitions of every measure: ``docs/scorecard.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..results.rundata import VariantRun
from .measures import CHARACTERISTICS, Measure
from .published import CITATION, published_stars
from .stars import positions, star_text, to_stars

__all__ = ["CITATION", "Characteristic", "Finding", "Scorecard", "build_scorecard", "star_text"]

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

    def findings(self) -> list[Finding]:
        """Each (variant, characteristic) that has both measured and published stars."""
        out = []
        for ch in self.characteristics:
            for v in self.variants:
                mine, theirs = ch.stars.get(v.label), ch.published.get(v.label)
                if mine is not None and theirs is not None:
                    out.append(Finding(v.label, v.style or "", ch.title.lower(), mine, theirs))
        return out


def score(measures: list[Measure], labels: list[str]) -> dict[str, int | None]:
    """Stars per variant: the mean of each scored measure's relative position, as 1-5 stars."""
    scored = [positions(m.values, m.better) for m in measures if m.scored]
    scored = [p for p in scored if p is not None]
    out: dict[str, int | None] = {}
    for label in labels:
        places = [p[label] for p in scored if label in p]
        out[label] = to_stars(sum(places) / len(places)) if places else None
    return out


def build_scorecard(variants: list[VariantRun]) -> Scorecard:
    """Measure, score and compare every characteristic for ``variants``."""
    labels = [v.label for v in variants]
    rows = []
    for key, (title, measure) in CHARACTERISTICS.items():
        measures = measure(variants)
        rows.append(Characteristic(
            key, title, measures, score(measures, labels),
            {v.label: published_stars(v.style, key) for v in variants},
        ))
    return Scorecard(variants, rows)
