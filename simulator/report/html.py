"""The HTML report: one self-contained file a reviewer can open, mail or attach to a design review.

Self-contained means no external URL at all: charts are embedded as base64 PNG data URIs, the
style sheet is inline and there is no script. Sections: what was run, the summary table, the
trade-off scorecard (stars beside Richards & Ford's), the numbers behind the stars, every chart,
and the scenario file that produced each run.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from .. import __version__
from ..results.rundata import VariantRun
from ..scorecard import Scorecard
from .tables import CANNOT_RANK, NOT_MEASURED, SUMMARY_COLUMNS, measure_rows, overrides_text, scorecard_rows, summary_rows
from .thresholds import HEADER as THRESHOLD_HEADER, threshold_rows  # archsim loadtest's checks

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
main { max-width: 1320px; margin: 0 auto; padding: 28px 36px 60px; }
h1 { font-size: 30px; margin: 0 0 4px; } h2 { font-size: 22px; margin: 36px 0 10px; border-bottom: 2px solid #d9dde5; padding-bottom: 4px; }
h3 { font-size: 17px; margin: 22px 0 8px; }
.lead { color: #4a5263; margin: 0 0 16px; }
.runs { font-size: 14px; color: #4a5263; }
table { border-collapse: collapse; background: white; font-size: 14px; margin: 8px 0; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
th, td { padding: 6px 10px; border-bottom: 1px solid #e6e9ef; text-align: right; white-space: nowrap; }
th { background: #eef1f6; font-weight: 600; } td:first-child, th:first-child { text-align: left; }
td.left, th.left { text-align: left; white-space: normal; min-width: 7em; max-width: 15em; }
.when { white-space: nowrap; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; vertical-align: middle; }
.stars { color: #c98a00; letter-spacing: 1px; } .published { color: #5c6475; font-size: 12px; display: block; }
.na { color: #9aa1ae; }
ul.findings li { margin: 3px 0; } .agree { color: #1b7f4b; font-weight: 600; } .disagree { color: #b3401d; font-weight: 600; }
figure { background: white; margin: 16px 0; padding: 12px; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
figure img { width: 100%; height: auto; display: block; } figcaption { font-size: 13px; color: #4a5263; margin-top: 6px; }
pre { background: #1d2330; color: #e8ebf1; padding: 14px; overflow-x: auto; font-size: 13px; }
footer { margin-top: 40px; font-size: 12px; color: #6b7383; }
.scroll { overflow-x: auto; }
"""

#: What each chart shows, keyed by file-name prefix, used as the figure caption.
CAPTIONS = {
    "latency-percentiles": "Response-time percentiles per variant; error bars are 95% confidence intervals over replications.",
    "latency-cdf": "Response-time distribution (cumulative, log time axis) from the merged HDR histograms.",
    "saturation": "Throughput and p95 against offered load; the knee is where p95 reaches twice its low-load value.",
    "scalability-usl": "Capacity against instances with a Universal Scalability Law fit (σ contention, κ coherency).",
    "cost-utilisation": "Cost per million requests (if modelled) and utilisation: bars are instance-weighted means, ticks the busiest service.",
    "utilisation": "Utilisation per variant: bars are instance-weighted means, ticks the busiest service (no cost: the scenario sets no prices).",
    "startup-breakdown": "Instance start-up time by phase, per platform.",
    "scorecard-radar": "The trade-off scorecard as radars: measured (relative) and published (Richards & Ford 2020).",
    "timeseries": "Offered load, throughput, latency, instances and queues over time; shaded spans are events.",
}


def _table(header: list[str], rows: list[list[str]], *, colours: dict[str, str] | None = None, stars: bool = False,
           wrap: tuple[int, ...] = ()) -> str:
    """A table; columns in ``wrap`` (words, not figures) may break over lines so the table fits the page."""
    colours = colours or {}
    wrap = wrap or ((1,) if stars else ())
    head = "".join(f'<th{" class=left" if i in wrap else ""}>{_swatch(colours.get(h))}{escape(h)}</th>' for i, h in enumerate(header))
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            css = ' class="left"' if i in wrap else ""
            if i == 0:
                cells.append(f"<td{css}>{_swatch(colours.get(cell))}{escape(cell)}</td>")
            elif stars and i >= 2:
                cells.append(f"<td>{_stars(cell)}</td>")
            else:
                cells.append(f"<td{css}>{escape(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _swatch(colour: str | None) -> str:
    return f'<span class="swatch" style="background:{escape(colour)}"></span>' if colour else ""


def _stars(cell: str) -> str:
    """``★★★☆☆ (R&F ★★☆☆☆)`` as measured stars over a small published line."""
    mine, _, theirs = cell.partition(" (R&F ")
    out = f'<span class="na">{escape(mine)}</span>' if mine in (NOT_MEASURED, CANNOT_RANK) else f'<span class="stars">{escape(mine)}</span>'
    if theirs:
        out += f'<span class="published">R&amp;F {escape(theirs.rstrip(")"))}</span>'
    return out


def _when(stamp) -> str:
    """``2026-12-02T07:50:55+00:00`` as ``2026-12-02 07:50 UTC``."""
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(str(stamp)).astimezone(timezone.utc)
    except ValueError:
        return str(stamp or "?")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{escape(path.stem)}" src="data:image/png;base64,{data}">'


def _caption(stem: str) -> str:
    for prefix, text in CAPTIONS.items():
        if stem.startswith(prefix):
            return text
    return stem


def render_html(title: str, variants: list[VariantRun], card: Scorecard, charts: list[Path]) -> str:
    """The report as one HTML document with every chart embedded."""
    colours = {v.label: v.colour for v in variants}
    runs = []
    scenarios = []
    for run_dir in dict.fromkeys(v.run_dir for v in variants):
        summary = next(v.summary for v in variants if v.run_dir == run_dir)
        scenario = summary.get("scenario", {})
        run = summary.get("run") or {}
        runs.append(
            f"<li><code>{escape(str(run_dir))}</code>: {escape(summary.get('source', 'simulation'))} run of "
            f"<b>{escape(str(scenario.get('name', '?')))}</b>, {summary.get('replications', '?')} replication(s), "
            f"{summary.get('duration_s', '?')} s each ({summary.get('warmup_s', 0)} s warm-up), seed {summary.get('seed', '?')}, "
            f"status {escape(str(summary.get('status', '?')))}, started <span class=\"when\">{escape(_when(run.get('started_at')))}</span>"
            + (f"<br>overridden on the command line: <code>{escape(changed)}</code>" if (changed := overrides_text(summary)) else "")
            + (f"<br><i>{escape(scenario['description'])}</i>" if scenario.get("description") else "") + "</li>"
        )
        yaml_path = run_dir / "scenario.yaml"
        if yaml_path.is_file():
            scenarios.append(f"<h3>{escape(str(yaml_path))}</h3><pre>{escape(yaml_path.read_text(encoding='utf-8'))}</pre>")

    sc_header, sc_rows = scorecard_rows(card)
    m_header, m_rows = measure_rows(card)
    findings = card.findings()
    finding_items = "".join(
        f'<li><span class="{"agree" if f.agrees else "disagree"}">{"agrees" if f.agrees else "disagrees"}</span>: {escape(f.sentence())}</li>'
        for f in sorted(findings, key=lambda f: f.agrees)
    )
    pngs = [p for p in charts if p.suffix == ".png"]
    figures = "".join(f"<figure>{_image(p)}<figcaption>{escape(_caption(p.stem))} <code>{escape(p.name)}</code> (SVG beside it)</figcaption></figure>" for p in pngs)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<h1>{escape(title)}</h1>
<p class="lead">Which architecture, on which platform, at what cost: {len(variants)} variant(s) compared. Figures are means over replications with 95% confidence intervals.</p>
<ul class="runs">{"".join(runs)}</ul>
<h2>Summary</h2>
{_table(SUMMARY_COLUMNS, summary_rows(variants), colours=colours)}
{"<h2>Thresholds and validity</h2>" + _table(THRESHOLD_HEADER, threshold_rows(variants)) if threshold_rows(variants) else ""}
<h2>Trade-off scorecard</h2>
<p class="lead">Stars are relative to the variants compared: 5 = best of them, 1 = worst, 3 each when the runs cannot tell them apart.
<strong>{escape(card.method[0].upper() + card.method[1:])}.</strong>
Grey lines are the published ratings of Richards &amp; Ford (2020) for the same style, which are absolute across styles. Definitions: <code>docs/scorecard.md</code>.</p>
{_table(sc_header, sc_rows, colours=colours, stars=True)}
{"<h3>Agreements and disagreements with the published ratings</h3><ul class='findings'>" + finding_items + "</ul>" if findings else "<p class='na'>No variant maps to a published style, so there is nothing to compare with Richards &amp; Ford.</p>"}
<h3>The numbers behind the stars</h3>
{_table(m_header, m_rows, colours=colours, wrap=(0, 1))}
<h2>Charts</h2>
{figures or "<p class='na'>No charts.</p>"}
<h2>Scenario</h2>
{"".join(scenarios) or "<p class='na'>No scenario file in the run directories (measured runs keep their test description instead).</p>"}
<footer>archsim {escape(__version__)} · published ratings: {escape(card.citation)}</footer>
</main>
</body>
</html>
"""
