"""``archsim calibrate``: fit the simulator to measurements and report how well it predicts.

Registered on the main app by ``simulator.cli`` with :func:`register`; the calibration machinery
is imported only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import ArchsimError
from ..units import duration_option_s

DEFAULT_CALIBRATED = Path("calibrated")


def _fractions(option: str, text: str) -> list[float]:
    try:
        values = [float(part.strip().rstrip("%")) / 100 for part in text.split(",") if part.strip()]
    except ValueError:
        raise ArchsimError(f"{option}: expected percentages of saturation such as 20%,50%,80%, got {text!r}") from None
    if not values or any(not 0 < v < 1.5 for v in values):
        raise ArchsimError(f"{option}: each level must be between 0% and 150% of saturation, got {text!r}")
    return values


def calibrate(
    style: Annotated[Optional[str], typer.Argument(metavar="STYLE", help="Deploy this style, measure it and calibrate (monolith).")] = None,
    levels: Annotated[str, typer.Option("--levels", metavar="P,P,...", help="Load levels as percentages of the measured saturation.")] = "20%,50%,80%",
    hold_out: Annotated[str, typer.Option("--hold-out", metavar="P", help="A level measured but not fitted, for validation ('none' for none).")] = "65%",
    duration: Annotated[str, typer.Option("--duration", metavar="D", help="Length of each load test, warm-up included.")] = "60s",
    warmup: Annotated[str, typer.Option("--warmup", metavar="D", help="Warm-up of each load test (discarded).")] = "10s",
    repetitions: Annotated[int, typer.Option("--repetitions", min=2, metavar="N", help="Load tests per level (at least 2).")] = 2,
    ramp_step: Annotated[str, typer.Option("--ramp-step", metavar="D", help="Length of each step of the saturation ramp.")] = "10s",
    out: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", help="Measurement folder (default: results/calibration/<style>-<timestamp>).")] = None,
    from_dir: Annotated[Optional[Path], typer.Option("--from", metavar="DIR", help="Rebuild the calibration and report from a stored measurement folder (no containers).")] = None,
    calibrated: Annotated[Optional[Path], typer.Option("--calibrated", metavar="FILE", help="Where to write the calibrated scenario (default: calibrated/<style>.yaml).")] = None,
    report_dir: Annotated[Optional[Path], typer.Option("--report", metavar="DIR", help="Report folder (default: <measurements>/report).")] = None,
) -> None:
    """Fit demands, shapes and per-hop cost to measurements; write the calibrated scenario and a validation report."""
    from ..console import stderr, stdout
    from .rebuild import rebuild

    if from_dir is None and style is None:
        raise ArchsimError("calibrate: give a STYLE to measure (e.g. monolith) or --from DIR (a stored measurement folder)")
    if from_dir is None:
        from datetime import datetime

        from .orchestrate import Loop

        fractions = _fractions("--levels", levels)
        held = None if hold_out.strip().lower() == "none" else _fractions("--hold-out", hold_out)[0]
        duration_s, warmup_s = duration_option_s("--duration", duration), duration_option_s("--warmup", warmup)
        if warmup_s >= duration_s:
            raise ArchsimError(f"--warmup {warmup} must be shorter than --duration {duration}")
        from_dir = out if out is not None else Path("results") / "calibration" / f"{style}-{datetime.now():%Y%m%d-%H%M%S}"
        loop = Loop(style, from_dir, levels=fractions, hold_out=held, duration_s=duration_s, warmup_s=warmup_s,
                    repetitions=repetitions, ramp_step_s=duration_option_s("--ramp-step", ramp_step), log=lambda line: stderr.print(line, highlight=False))
        try:
            loop.run()
        except KeyboardInterrupt:
            stderr.print(f"interrupted: measurements so far in {from_dir}; every container of project {loop.project} removed")
            raise typer.Exit(130) from None
        except ArchsimError as exc:
            raise ArchsimError(f"{exc.message} (measurements so far in {from_dir}; containers removed)") from None
    elif not from_dir.is_dir():
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
