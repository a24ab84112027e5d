"""The Markdown summary of a report: the same tables as the HTML, charts linked, for a PR or wiki."""

from __future__ import annotations

from pathlib import Path

from ..results.rundata import VariantRun
from ..scorecard import Scorecard
from .tables import SUMMARY_COLUMNS, measure_rows, overrides_text, scorecard_rows, summary_rows
from .thresholds import HEADER as THRESHOLD_HEADER, threshold_rows


def _table(header: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(title: str, variants: list[VariantRun], card: Scorecard, charts: list[Path], base: Path) -> str:
    """Markdown text; chart links are relative to ``base`` (the folder the file is written to)."""
    parts = [f"# {title}", ""]
    for run_dir in dict.fromkeys(v.run_dir for v in variants):
        summary = next(v.summary for v in variants if v.run_dir == run_dir)
        scenario = summary.get("scenario", {})
        parts.append(f"- `{run_dir}`: {summary.get('source', 'simulation')} run of **{scenario.get('name', '?')}** "
                     f"({summary.get('replications', '?')} replication(s), status {summary.get('status', '?')}) "
                     f"{scenario.get('description') or ''}".rstrip()
                     + (f"; overridden: `{changed}`" if (changed := overrides_text(summary)) else ""))
    parts += ["", "## Summary (means ± 95% CI half-width)", "", _table(SUMMARY_COLUMNS, summary_rows(variants)), ""]
    if threshold_rows(variants):  # archsim loadtest's checks
        parts += ["## Thresholds and validity", "", _table(THRESHOLD_HEADER, threshold_rows(variants)), ""]
    header, rows = scorecard_rows(card)
    parts += ["## Trade-off scorecard", "", "Stars are relative to the variants compared (5 = best of them); "
              "R&F = published rating by Richards & Ford (2020), absolute across styles.", "",
              f"**{card.method[0].upper() + card.method[1:]}.**", "", _table(header, rows), ""]
    findings = card.findings()
    if findings:
        parts += ["### Agreements and disagreements with the published ratings", ""]
        parts += [f"- {'agrees' if f.agrees else '**disagrees**'}: {f.sentence()}" for f in findings]
        parts.append("")
    header, rows = measure_rows(card)
    parts += ["### The numbers behind the stars", "", _table(header, rows), ""]
    pngs = [p for p in charts if p.suffix == ".png"]
    if pngs:
        parts += ["## Charts", ""]
        parts += [f"![{p.stem}]({p.relative_to(base).as_posix() if p.is_relative_to(base) else p})" for p in pngs]
        parts.append("")
    parts += [f"Published ratings: {card.citation}. Definitions: docs/scorecard.md.", ""]
    return "\n".join(parts)
