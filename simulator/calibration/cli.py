"""``archsim calibrate``: fit the simulator to measurements and report how well it predicts.

Registered on the main app by ``simulator.cli`` with :func:`register`; the calibration machinery
is imported only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import ArchsimError

DEFAULT_CALIBRATED = Path("calibrated")


def calibrate(
    from_dir: Annotated[Optional[Path], typer.Option("--from", metavar="DIR", help="Rebuild the calibration and report from a stored measurement folder (no containers).")] = None,
    calibrated: Annotated[Optional[Path], typer.Option("--calibrated", metavar="FILE", help="Where to write the calibrated scenario (default: calibrated/<style>.yaml).")] = None,
    report_dir: Annotated[Optional[Path], typer.Option("--report", metavar="DIR", help="Report folder (default: <measurements>/report).")] = None,
) -> None:
    """Fit demands, shapes and per-hop cost to measurements; write the calibrated scenario and a validation report."""
    from ..cli import stderr, stdout
    from .rebuild import rebuild

    if from_dir is None:
        raise ArchsimError("calibrate: give --from DIR (a measurement folder)")
    if not from_dir.is_dir():
        raise ArchsimError(f"--from {from_dir}: no such folder")
    from .folder import read

    style = read(from_dir).manifest.style
    target = calibrated if calibrated is not None else DEFAULT_CALIBRATED / f"{style}.yaml"
    outcome = rebuild(from_dir, target, report_dir)
    for line in outcome.calibration.warnings:
        stderr.print(f"[yellow]warning:[/yellow] {line}", highlight=False)
    for verdict in outcome.validation.verdicts:
        stdout.print(("met     " if verdict.met else "MISSED  " if verdict.met is False else "-       ") + verdict.text(), highlight=False)
    stdout.print(f"calibrated scenario: {outcome.scenario_file}")
    stdout.print(f"report: {outcome.report_html} (and {outcome.report_md.name})")


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to the ``archsim`` app."""
    app.command()(calibrate)
