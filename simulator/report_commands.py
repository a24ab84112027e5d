"""``archsim report`` and ``archsim compare``: the report commands, registered on the root CLI app.

``simulator.cli`` calls :func:`register` with its ``typer.Typer``; the commands raise
:class:`~simulator.errors.ArchsimError` for user errors (a folder that is not a run directory),
which the CLI prints on one line with exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import ArchsimError


def _check(run_dirs: list[Path]) -> None:
    for run_dir in run_dirs:
        if not (run_dir / "summary.json").is_file():
            raise ArchsimError(f"{run_dir}: not a run directory (no summary.json)")


def report(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories (simulated or measured) to report on together.")],
    out: Annotated[Optional[Path], typer.Option(help="Folder for report.html, report.md and charts/ (default: the run directory if one, else ./report).")] = None,
) -> None:
    """Build one self-contained HTML report (charts, tables, scorecard, scenario) plus a Markdown summary."""
    from .report import build_report

    _check(run_dirs)
    target = out if out is not None else (run_dirs[0] if len(run_dirs) == 1 else Path("report"))
    made = build_report(run_dirs, target)
    charts = sum(1 for p in made if p.suffix == ".png")
    print(f"{target / 'report.html'}: {charts} chart(s); summary in {target / 'report.md'}")
    print(f"scorecard: {scorecard_ranking(run_dirs)}")


def scorecard_ranking(run_dirs: list[Path]) -> str:
    """The scorecard's ranking sentence for these runs: paired, Welch, or cannot rank (one replication)."""
    from .results.rundata import read_summary
    from .scorecard import ranking, ranking_text

    return ranking_text(*ranking([read_summary(d) for d in run_dirs]))


def compare(
    run_a: Annotated[Path, typer.Argument(help="Baseline run directory (A).")],
    run_b: Annotated[Path, typer.Argument(help="Run directory compared against it (B).")],
    out: Annotated[Optional[Path], typer.Option(help="Folder for the comparison chart (default: RUN_B/compare).")] = None,
) -> None:
    """Print B − A for each shared variant's headline metrics with 95% CIs (paired when the runs
    share seed and replications, Welch otherwise), and chart them."""
    from rich.console import Console
    from rich.table import Table

    from . import formatting
    from .paired import shared_randomness
    from .results.rundata import load_runs, read_summary
    from .report.compare import comparability_warnings, differences, draw_differences, methods

    _check([run_a, run_b])
    summary_a, summary_b = read_summary(run_a), read_summary(run_b)
    warnings = comparability_warnings(summary_a, summary_b)
    for warning in warnings:
        print(f"warning: {warning}")
    paired = shared_randomness(summary_a, summary_b)
    diffs = differences(load_runs(run_a), load_runs(run_b), paired)
    why = ("paired per-replication differences: same seed and replications" if paired
           else "Welch's t: the runs differ in seed or replications, so they are not paired")
    print(f"intervals: {methods(diffs)} ({why})")
    table = Table(title=f"B = {run_b}  vs  A = {run_a} (B − A, 95% CI, {methods(diffs)})", title_justify="left")
    for column in ("variant", "metric", "A", "B", "B − A", "± 95% CI", "relative", "verdict"):
        table.add_column(column, justify="left" if column in ("variant", "metric", "verdict") else "right")
    for d in diffs:
        change = formatting.figure(abs(d.diff), None, d.unit)
        table.add_row(d.pair, d.metric, formatting.figure(d.a, None, d.unit), formatting.figure(d.b, None, d.unit),
                      ("−" if d.diff < 0 else "+") + change if d.diff else change,
                      formatting.MISSING if d.ci95 is None else formatting.figure(d.ci95, None, d.unit),
                      formatting.relative(d.relative), d.verdict)
    Console(width=160).print(table)
    made = draw_differences(diffs, out if out is not None else run_b / "compare", f"{run_b.name} vs {run_a.name}",
                            warnings=warnings)
    if made:
        print(f"chart: {made[0]}")


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``compare`` to the root ``archsim`` app."""
    app.command()(report)
    app.command()(compare)
