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
    style: Annotated[Optional[str], typer.Argument(metavar="STYLE", help="Deploy this style, measure it and calibrate (any of the six deployable styles, e.g. monolith).")] = None,
    scenario: Annotated[Optional[Path], typer.Option("--scenario", metavar="FILE", help="Calibrate your own scenario (services + http: classes) against --host.")] = None,
    host: Annotated[Optional[str], typer.Option("--host", metavar="URL", help="Your running deployment (with --scenario); loopback only unless --allow-remote.")] = None,
    cpu_source: Annotated[str, typer.Option("--cpu-source", metavar="SRC", help="With --scenario: cgroup:PATH (cgroup v2 cpu.stat), header:NAME (per-request CPU ms) or none.")] = "none",
    allow_remote: Annotated[bool, typer.Option("--allow-remote", help="Allow a --host that is not a loopback address.")] = False,
    levels: Annotated[str, typer.Option("--levels", metavar="P,P,...", help="Load levels as percentages of the measured saturation.")] = "20%,50%,80%",
    hold_out: Annotated[str, typer.Option("--hold-out", metavar="P", help="A level measured but not fitted, for validation ('none' for none).")] = "65%",
    duration: Annotated[str, typer.Option("--duration", metavar="D", help="Length of each load test, warm-up included.")] = "60s",
    warmup: Annotated[str, typer.Option("--warmup", metavar="D", help="Warm-up of each load test (discarded).")] = "10s",
    repetitions: Annotated[int, typer.Option("--repetitions", min=2, metavar="N", help="Load tests per level (at least 2).")] = 2,
    ramp_step: Annotated[str, typer.Option("--ramp-step", metavar="D", help="Length of each step of the saturation ramp.")] = "10s",
    out: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", help="Measurement folder (default: results/calibration/<name>-<timestamp>).")] = None,
    from_dir: Annotated[Optional[Path], typer.Option("--from", metavar="DIR", help="Rebuild the calibration and report from a stored measurement folder (no containers).")] = None,
    calibrated: Annotated[Optional[Path], typer.Option("--calibrated", metavar="FILE", help="Where to write the calibrated scenario (default: calibrated/<name>.yaml).")] = None,
    report_dir: Annotated[Optional[Path], typer.Option("--report", metavar="DIR", help="Report folder (default: <measurements>/report).")] = None,
    predict_dir: Annotated[Optional[Path], typer.Option("--predict", metavar="DIR", help="Predict this measurement folder's style from --from-calibrated (no fitting to it).")] = None,
    from_calibrated: Annotated[Optional[Path], typer.Option("--from-calibrated", metavar="FILE", help="With --predict: the calibrated scenario of another style (e.g. calibrated/monolith.yaml).")] = None,
) -> None:
    """Fit demands, shapes and per-hop cost to measurements; write the calibrated scenario and a validation report."""
    from ..console import stderr, stdout
    from .rebuild import rebuild

    given = [name for name, value in (("STYLE", style), ("--scenario", scenario), ("--from", from_dir), ("--predict", predict_dir))
             if value is not None]
    if not given:
        raise ArchsimError("calibrate: give a STYLE to measure (e.g. monolith), --scenario FILE --host URL (your own system), "
                           "--from DIR (a stored measurement folder), or --predict DIR --from-calibrated FILE (another style's calibration)")
    if len(given) > 1:
        raise ArchsimError(f"calibrate: {' and '.join(given)} exclude each other; give one")
    if (predict_dir is None) != (from_calibrated is None):
        raise ArchsimError("calibrate: --predict DIR and --from-calibrated FILE go together (the style to predict, and the calibration to predict it from)")
    if predict_dir is not None:
        _predict(predict_dir, from_calibrated, calibrated, report_dir)
        return
    if (scenario is None) != (host is None):
        raise ArchsimError("calibrate: --scenario FILE and --host URL go together (your scenario, and where your deployment answers)")
    if scenario is not None and not scenario.is_file():
        raise ArchsimError(f"--scenario {scenario}: no such file")
    if from_dir is None:
        from datetime import datetime

        from .orchestrate import Interrupted, Loop, interruptible

        fractions = _fractions("--levels", levels)
        held = None if hold_out.strip().lower() == "none" else _fractions("--hold-out", hold_out)[0]
        duration_s, warmup_s = duration_option_s("--duration", duration), duration_option_s("--warmup", warmup)
        if warmup_s >= duration_s:
            raise ArchsimError(f"--warmup {warmup} must be shorter than --duration {duration}")
        name = style if style is not None else scenario.stem
        from_dir = out if out is not None else Path("results") / "calibration" / f"{name}-{datetime.now():%Y%m%d-%H%M%S}"
        options = dict(levels=fractions, hold_out=held, duration_s=duration_s, warmup_s=warmup_s, repetitions=repetitions,
                       ramp_step_s=duration_option_s("--ramp-step", ramp_step), log=lambda line: stderr.print(line, highlight=False))
        if scenario is not None:
            from .user import UserLoop, parse_cpu_source

            loop = UserLoop(scenario, host, from_dir, cpu_source=parse_cpu_source(cpu_source), allow_remote=allow_remote, **options)
            cleaned = "archsim started no containers"
        else:
            loop = Loop(style, from_dir, **options)
            cleaned = f"every container of project {loop.project} removed"
        try:
            with interruptible():
                loop.run()
        except KeyboardInterrupt as exc:
            code = exc.exit_code if isinstance(exc, Interrupted) else 130
            stderr.print(f"interrupted ({exc or 'SIGINT'}): measurements so far in {from_dir} (readable by --from); {cleaned}", highlight=False)
            raise typer.Exit(code) from None
        except ArchsimError as exc:
            raise ArchsimError(f"{exc.message} (measurements so far in {from_dir}, readable by --from; {cleaned})") from None
    elif not from_dir.is_dir():
        raise ArchsimError(f"--from {from_dir}: no such folder")
    from .folder import read

    style = read(from_dir).manifest.style
    target = calibrated if calibrated is not None else DEFAULT_CALIBRATED / f"{style}.yaml"
    outcome = rebuild(from_dir, target, report_dir)
    for line in outcome.calibration.warnings:
        stderr.print(f"[yellow]warning:[/yellow] {line}", highlight=False)
    for verdict in outcome.validation.verdicts:
        stdout.print(("-       " if verdict.met is None else "met     " if verdict.met else "MISSED  ") + verdict.text(), highlight=False)
    stdout.print(f"calibrated scenario: {outcome.scenario_file}")
    stdout.print(f"report: {outcome.report_html} (and {outcome.report_md.name})")


def _predict(target: Path, calibrated_file: Path, scenario_file: Optional[Path], report_dir: Optional[Path]) -> None:
    from ..console import stdout
    from .predict import predict

    if not target.is_dir():
        raise ArchsimError(f"--predict {target}: no such folder")
    outcome = predict(target, calibrated_file, scenario_file, report_dir)
    stdout.print(f"{outcome.target_style} predicted from the {outcome.source.style} calibration {calibrated_file}:", highlight=False)
    for verdict in outcome.validation.verdicts:
        stdout.print(("-       " if verdict.met is None else "met     " if verdict.met else "MISSED  ") + verdict.text(), highlight=False)
    stdout.print(f"predicted scenario: {outcome.scenario_file}")
    stdout.print(f"report: {outcome.report_html} (and {outcome.report_md.name})")


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to the ``archsim`` app."""
    app.command()(calibrate)
