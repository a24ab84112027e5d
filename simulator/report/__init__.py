"""Reports: one self-contained HTML page and a Markdown summary built from run directories.

:func:`build_report` is what ``archsim run`` (through :func:`draw_all`) and
``archsim report`` call: it loads the runs, draws every chart that has data, builds the trade-off
scorecard and writes ``report.html`` and ``report.md`` beside a ``charts/`` folder.
:mod:`.compare` holds the differences between two runs for ``archsim compare``.
"""

from __future__ import annotations

from pathlib import Path

from ..charts import CHARTS_DIR, draw_charts
from ..results.rundata import load_runs
from ..results.rundir import atomic_write
from ..scorecard import build_scorecard
from .html import render_html
from .markdown import render_markdown

__all__ = ["build_report", "draw_all", "report_title"]


def report_title(variants) -> str:
    names = list(dict.fromkeys(v.summary.get("scenario", {}).get("name", "?") for v in variants))
    return f"archsim report: {', '.join(names)}"


def build_report(run_dirs: list[Path], out_dir: Path) -> list[Path]:
    """Charts in ``out_dir/charts``, then ``out_dir/report.html`` and ``out_dir/report.md``; returns all files."""
    out_dir = Path(out_dir)
    variants = load_runs([Path(d) for d in run_dirs])
    card = build_scorecard(variants)
    charts = draw_charts(variants, out_dir / CHARTS_DIR, card)
    title = report_title(variants)
    html_path, md_path = out_dir / "report.html", out_dir / "report.md"
    atomic_write(html_path, render_html(title, variants, card, charts))
    atomic_write(md_path, render_markdown(title, variants, card, charts, out_dir))  # mode: 0666 less the umask
    return charts + [html_path, md_path]


def draw_all(run_dir: Path, *, report: bool = True) -> list[Path]:
    """Charts into ``run_dir/charts`` and (if ``report``) ``report.html`` + ``report.md`` into ``run_dir``.

    Called by ``archsim run`` after the run directory is written. Returns every file written.
    """
    run_dir = Path(run_dir)
    if report:
        return build_report([run_dir], run_dir)
    return draw_charts(load_runs(run_dir), run_dir / CHARTS_DIR)
