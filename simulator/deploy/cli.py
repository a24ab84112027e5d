"""``archsim deploy``: run the reference services in containers and point Locust at them."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from simulator.errors import ArchsimError

from . import images, lifecycle, manifests
from . import topology as topologies
from .engine import detect

app = typer.Typer(help="Run the reference services (four styles) in containers.", no_args_is_help=True)
console = Console()

EngineOption = typer.Option("auto", "--engine", help="Container engine: podman, docker, or auto (the first that works).")


def _fail(error: ArchsimError) -> None:
    console.print(f"[red]error:[/red] {error.message}", highlight=False, soft_wrap=True)
    raise typer.Exit(error.exit_code)


def _log(message: str) -> None:
    console.print(message, highlight=False)


@app.command()
def build(
    engine: str = EngineOption,
    base: str = typer.Option("auto", help="Base image: pull (python:3.11-slim), debootstrap (made locally), or auto."),
    rebuild: bool = typer.Option(False, help="Rebuild images that already exist."),
) -> None:
    """Build the images (base, app, postgres, broker) and report their sizes."""
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
    port: int = typer.Option(topologies.DEFAULT_HOST_PORT, "--port", help="Host port of the entry point (127.0.0.1 only)."),
    engine: str = EngineOption,
    timeout: float = typer.Option(180.0, "--timeout", help="Seconds to wait for readiness."),
) -> None:
    """Build what is missing, start STYLE and wait until it answers; prints its URL."""
    if style not in topologies.STYLES:
        _fail(ArchsimError(f"unknown style {style!r}: use one of {', '.join(topologies.STYLES)}"))
    try:
        chosen = detect(engine)
        images.build_all(chosen, log=_log)
        started = time.monotonic()
        url = lifecycle.up(chosen, style, replicas=replicas, port=port, timeout_s=timeout, log=_log)
    except ArchsimError as error:
        _fail(error)
    except KeyboardInterrupt:
        console.print("interrupted: removed every archsim container")
        raise typer.Exit(130) from None
    console.print(f"{style} is ready in {time.monotonic() - started:.1f} s at [bold]{url}[/bold]")
    console.print(f"load it: locust -f loadtests/locustfiles/{style.replace('-', '_')}.py --host {url}")


@app.command()
def status(engine: str = EngineOption) -> None:
    """List archsim containers, the URL, and image sizes."""
    try:
        chosen = detect(engine)
        found = lifecycle.running(chosen)
        if not found:
            console.print("no archsim containers")
        else:
            table = Table("container", "style", "role", "state")
            for item in found:
                table.add_row(item.name, item.style, item.role, item.state)
            console.print(table)
            for item in found:
                if item.url:
                    health = "healthy" if lifecycle.healthy(item.url) else "not answering"
                    console.print(f"{item.style}: {item.url} ({health})")
        _print_sizes(chosen, {})
    except ArchsimError as error:
        _fail(error)


@app.command()
def down(engine: str = EngineOption) -> None:
    """Remove every archsim container and network (safe to run again)."""
    try:
        removed = lifecycle.down(detect(engine))
    except ArchsimError as error:
        _fail(error)
    console.print(f"removed {removed} container(s)" if removed else "nothing to remove")


@app.command("manifests")
def write_manifests(
    out: Path = typer.Option(Path("loadtests/deploy"), "--out", help="Folder for the YAML files."),
    replicas: int = typer.Option(1, "--replicas", min=1),
) -> None:
    """Write Kubernetes manifests and compose files for every style."""
    for path in manifests.write_all(out, replicas):
        console.print(str(path))


def _print_sizes(engine, seconds: dict[str, float]) -> None:
    table = Table("image", "size (MB)", "built in (s)")
    for tag, size in images.sizes_mb(engine).items():
        table.add_row(tag, f"{size:.0f}" if size is not None else "not built", f"{seconds[tag]:.0f}" if tag in seconds else "")
    console.print(table)
