"""``archsim deploy``: run the reference services in containers and point Locust at them."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from simulator.errors import ArchsimError

from . import images, lifecycle, manifests
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
