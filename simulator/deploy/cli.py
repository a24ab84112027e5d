"""``archsim deploy``: run the reference services in containers and point Locust at them."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from simulator.errors import ArchsimError

from . import images, lifecycle, manifests
from . import rollout as rollouts
from . import project as projects
from . import topology as topologies
from .engine import detect

app = typer.Typer(help="Run the reference services in containers.", no_args_is_help=True)
console = Console()

EngineOption = typer.Option("auto", "--engine", help="Container engine: podman, docker, or auto (the first that works).")
ProjectOption = typer.Option(
    projects.DEFAULT_PROJECT, "--project", envvar=projects.PROJECT_ENV, show_envvar=True,
    help="Deployment namespace: prefixes container and network names and labels them; 'down' removes only its own.",
)


def _fail(error: ArchsimError) -> None:
    console.print(f"[red]error:[/red] {error.message}", highlight=False, soft_wrap=True)
    raise typer.Exit(error.exit_code)


def _log(message: str) -> None:
    console.print(message, highlight=False, soft_wrap=True)  # URLs and commands stay on one line for copy-paste


@app.command()
def build(
    engine: str = EngineOption,
    base: str = typer.Option("auto", help="Builder image (build stages only): pull (python:3.11-slim), debootstrap (made locally), or auto."),
    rebuild: bool = typer.Option(False, help="Rebuild images that are current too."),
) -> None:
    """Build the images that are missing or out of date (base, app, postgres, broker) and report their sizes."""
    try:
        chosen = detect(engine)
        seconds = images.build_all(chosen, base_source=base, rebuild=rebuild, log=_log)
        _print_sizes(chosen, seconds)
    except ArchsimError as error:
        _fail(error)


@app.command()
def up(
    style: str = typer.Argument(..., help=f"One of: {', '.join(topologies.STYLES)}."),
    replicas: int = typer.Option(1, "--replicas", min=1, max=8, help="Replicas of each scalable service."),
    port: int | None = typer.Option(None, "--port", help="Host port of the entry point (127.0.0.1 only); default: a free one."),
    project: str = ProjectOption,
    engine: str = EngineOption,
    timeout: float = typer.Option(180.0, "--timeout", help="Seconds to wait for readiness."),
) -> None:
    """Build what is missing, start STYLE and wait until it answers; prints its URL."""
    if style not in topologies.STYLES:
        _fail(ArchsimError(f"unknown style {style!r}: use one of {', '.join(topologies.STYLES)}"))
    try:
        name = projects.validated(project)
        chosen = detect(engine)
        images.build_all(chosen, log=_log)
        started = time.monotonic()
        url = lifecycle.up(chosen, style, replicas=replicas, port=port, project=name, timeout_s=timeout, log=_log)
    except ArchsimError as error:
        _fail(error)
    except KeyboardInterrupt:
        console.print(f"interrupted: removed every container of project {project}")
        raise typer.Exit(130) from None
    console.print(f"{style} is ready in {time.monotonic() - started:.1f} s at [bold]{url}[/bold]", soft_wrap=True)
    console.print("load it:")
    # printed whole, never wrapped: a wrapped command breaks copy-paste
    console.print(f"  locust -f loadtests/locustfiles/{style.replace('-', '_')}.py --host {url}", soft_wrap=True, highlight=False)


@app.command()
def status(
    project: str = ProjectOption,
    all_projects: bool = typer.Option(False, "--all-projects", help="List the containers of every project."),
    engine: str = EngineOption,
) -> None:
    """List the project's containers, its URL, and the image sizes."""
    try:
        name = "*" if all_projects else projects.validated(project)
        chosen = detect(engine)
        found = lifecycle.running(chosen, name)
        if not found:
            console.print("no archsim containers" if all_projects else f"no containers in project {name}")
        else:
            table = Table("project", "container", "style", "role", "state")
            for item in found:
                table.add_row(item.project, item.name, item.style, item.role, item.state)
            console.print(table)
            for item in found:
                if item.url:
                    health = "healthy" if lifecycle.healthy(item.url) else "not answering"
                    console.print(f"{item.project} {item.style}: {item.url} ({health})", soft_wrap=True, highlight=False)
        _print_sizes(chosen, None)
    except ArchsimError as error:
        _fail(error)


@app.command()
def down(project: str = ProjectOption, engine: str = EngineOption) -> None:
    """Remove the project's containers and network, and nothing else (safe to run again)."""
    try:
        name = projects.validated(project)
        removed = lifecycle.down(detect(engine), name)
    except ArchsimError as error:
        _fail(error)
    console.print(f"removed {removed} container(s) of project {name}" if removed else f"nothing to remove in project {name}")


@app.command()
def release(
    version: str = typer.Argument(..., help="Version name; the image is tagged localhost/archsim-app:VERSION."),
    fails_readiness: bool = typer.Option(False, "--fails-readiness", help="A bad release: its /health never answers 200."),
    engine: str = EngineOption,
) -> None:
    """Build a release of the app image for 'deploy rollout': one layer naming the version (X-Archsim-Version header)."""
    try:
        chosen = detect(engine)
        images.build_all(chosen, log=_log)
        rollouts.build_release(chosen, version, fails_readiness=fails_readiness, log=_log)
    except ArchsimError as error:
        _fail(error)


def _rollout_options(max_surge: int, max_unavailable: int, progress_deadline: float, drain: float) -> dict:
    return {"max_surge": max_surge, "max_unavailable": max_unavailable, "progress_deadline_s": progress_deadline,
            "drain_s": drain, "log": _log}


MaxSurgeOption = typer.Option(1, "--max-surge", help="Replicas above the desired count while rolling (Kubernetes maxSurge).")
MaxUnavailableOption = typer.Option(0, "--max-unavailable", help="Replicas below the desired count while rolling (maxUnavailable).")
DeadlineOption = typer.Option(60.0, "--progress-deadline", help="Seconds a new replica may take to pass readiness before the rollout is rolled back.")
DrainOption = typer.Option(2.0, "--drain", help="Seconds an old replica keeps serving its requests in flight after leaving the gateway's routes.")
OutOption = typer.Option(None, "--out", help="Write the steps as JSON here (with --under-load: also rollout.json in the run directory).")


@app.command()
def rollout(
    style: str = typer.Argument(..., help=f"One of: {', '.join(rollouts.ROLLED_GROUPS)} (deployed with --replicas 2 or more); every replicated group is rolled."),
    to: str = typer.Option(..., "--to", help="Image to roll out, e.g. localhost/archsim-app:v2 (see 'deploy release')."),
    max_surge: int = MaxSurgeOption,
    max_unavailable: int = MaxUnavailableOption,
    pause_after: int | None = typer.Option(None, "--pause-after", help="Pause after this many replicas were replaced; 'deploy resume' (or the same command again) continues."),
    progress_deadline: float = DeadlineOption,
    drain: float = DrainOption,
    under_load: Path | None = typer.Option(None, "--under-load", help="Scenario to load the deployment with (archsim loadtest) while rolling."),
    rate: float | None = typer.Option(None, "--rate", help="With --under-load: open-model rate in requests/s."),
    load_duration: float = typer.Option(90.0, "--load-duration", help="With --under-load: seconds of load (the rollout starts after the warm-up)."),
    load_out: Path | None = typer.Option(None, "--load-out", help="With --under-load: the measured run directory."),
    out: Path | None = OutOption,
    project: str = ProjectOption,
    engine: str = EngineOption,
) -> None:
    """Replace STYLE's replicas with another image one step at a time, with readiness checks, like a Deployment."""
    try:
        name = projects.validated(project)
        chosen = detect(engine)
        options = _rollout_options(max_surge, max_unavailable, progress_deadline, drain)
        if under_load is None:
            record = rollouts.rollout(chosen, style, to, project=name, pause_after=pause_after, **options)
        else:
            record, run_dir = rollouts.under_load(chosen, style, to, under_load, project=name, pause_after=pause_after,
                                                  rate_per_s=rate, duration_s=load_duration, out=load_out, **options)
            console.print(f"measured run: {run_dir}", soft_wrap=True, highlight=False)
    except ArchsimError as error:
        _fail(error)
    _report(record, out)


def _report(record: rollouts.Record, out: Path | None) -> None:
    """Write the steps where asked; a rollout that ended rolled back exits 1."""
    if out is not None:
        console.print(f"steps: {record.write(out)}", soft_wrap=True, highlight=False)
    if record.outcome == "rolled_back":
        raise typer.Exit(1)


@app.command()
def rollback(
    style: str = typer.Argument(..., help=f"One of: {', '.join(rollouts.ROLLED_GROUPS)}."),
    max_surge: int = MaxSurgeOption,
    max_unavailable: int = MaxUnavailableOption,
    progress_deadline: float = DeadlineOption,
    drain: float = DrainOption,
    out: Path | None = OutOption,
    project: str = ProjectOption,
    engine: str = EngineOption,
) -> None:
    """Roll STYLE back to the image it ran before the last rollout (recorded in the project's state), also from a paused rollout."""
    try:
        record = rollouts.rollback(detect(engine), style, project=projects.validated(project),
                                   **_rollout_options(max_surge, max_unavailable, progress_deadline, drain))
    except ArchsimError as error:
        _fail(error)
    _report(record, out)


@app.command()
def pause(
    style: str = typer.Argument(..., help=f"One of: {', '.join(rollouts.ROLLED_GROUPS)}."),
    project: str = ProjectOption,
) -> None:
    """Pause STYLE's rollout (kubectl rollout pause): a running one stops at its next step, one started later before its first."""
    try:
        name = projects.validated(project)
        rollouts.pause(name, style)
    except ArchsimError as error:
        _fail(error)
    console.print(f"paused rollouts of {style} in project {name}; continue with 'archsim deploy resume {style} --project {name}'",
                  soft_wrap=True, highlight=False)


@app.command()
def resume(
    style: str = typer.Argument(..., help=f"One of: {', '.join(rollouts.ROLLED_GROUPS)}."),
    out: Path | None = OutOption,
    project: str = ProjectOption,
    engine: str = EngineOption,
) -> None:
    """Clear the pause and continue STYLE's paused rollout with the options it started with (kubectl rollout resume)."""
    try:
        record = rollouts.resume(detect(engine), style, project=projects.validated(project), log=_log)
    except ArchsimError as error:
        _fail(error)
    if record is not None:
        _report(record, out)


@app.command("manifests")
def write_manifests(
    out: Path = typer.Option(Path("loadtests/deploy"), "--out", help="Folder for the YAML files."),
    replicas: int = typer.Option(1, "--replicas", min=1),
) -> None:
    """Write Kubernetes manifests and compose files for every style."""
    for path in manifests.write_all(out, replicas):
        console.print(str(path))


def _print_sizes(engine, seconds: dict[str, float] | None) -> None:
    """Image sizes; with ``seconds`` (after a build) also how long each image took, "kept" for those not rebuilt."""
    table = Table("image", "size (MB)", *(["built in (s)"] if seconds is not None else []))
    for tag, size in images.sizes_mb(engine).items():
        cells = [tag, f"{size:.0f}" if size is not None else "not built"]
        if seconds is not None:
            cells.append(f"{seconds[tag]:.0f}" if tag in seconds else "kept")
        table.add_row(*cells)
    console.print(table)
