"""``archsim probe startup``: measure start-up on this machine and write start-up profiles."""

from __future__ import annotations

import json
import os
import platform as host_platform
import socket
import time
from datetime import datetime, timezone
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from simulator.deploy.engine import detect
from simulator.errors import ArchsimError, EnvironmentProblem

from . import container, microvm, process
from .phases import StartUp
from .profile import SHOWN, Series

app = typer.Typer(help="Measure platform behaviour on this machine.", no_args_is_help=True)
console = Console()
PLATFORMS = ("process", "container", "microvm")
SCHEMA = "archsim.startup-probe/1"


def _cell(summary: dict[str, float]) -> str:
    """``71 ms (46-108)``: median, then p10-p90 in the same unit."""
    if summary["p90_s"] < 10:
        return f"{summary['median_s'] * 1000:.0f} ms ({summary['p10_s'] * 1000:.0f}-{summary['p90_s'] * 1000:.0f})"
    return f"{summary['median_s']:.1f} s ({summary['p10_s']:.1f}-{summary['p90_s']:.1f})"


def _measure(series: Series, start, repeat: int) -> None:
    for i in range(repeat):
        try:
            run: StartUp = start()
            run.phases_s()
            series.runs.append(run)
        except (TimeoutError, ValueError) as problem:
            series.failures.append(f"run {i + 1}: {problem}")
            console.print(f"[yellow]{series.name} run {i + 1} failed:[/yellow] {problem}", soft_wrap=True, highlight=False)


def _microvm_accelerator(notes: dict[str, str]) -> str:
    """``kvm`` if a KVM boot answers, else ``tcg``; why goes into ``notes``."""
    if not microvm.kvm_usable():
        notes["accelerator_reason"] = "/dev/kvm is missing or not accessible: software emulation (TCG)"
        return "tcg"
    try:
        microvm.start_once("kvm", silent_limit_s=microvm.KVM_TRIAL_S)
    except (TimeoutError, OSError) as problem:
        notes["accelerator_reason"] = f"KVM failed ({str(problem)[:160]}): software emulation (TCG)"
        return "tcg"
    notes["accelerator_reason"] = "KVM works"
    return "kvm"


def _table(all_series: list[Series]) -> Table:
    """One row per phase, one column per series: median and p10-p90."""
    summaries = {series.name: series.summary() for series in all_series}
    table = Table("phase", *summaries, title="start-up on this machine: median (p10-p90)")
    for phase in SHOWN:
        cells = []
        for summary in summaries.values():
            s = summary.get(phase)
            cells.append(_cell(s) if s else "-")
        if any(cell != "-" for cell in cells):
            table.add_row(phase, *cells)
    table.add_row("runs", *(f"{len(s.runs)} of {len(s.runs) + len(s.failures)}" for s in all_series))
    return table


def _write(out: Path, all_series: list[Series], repeat: int, host: dict, interrupted: bool) -> list[Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    stamp = host["measured_at"]
    report = {"schema": SCHEMA, **host, "repeat": repeat, "interrupted": interrupted, "series": {}}
    written = []
    for series in all_series:
        entry = {"kind": series.kind, "description": series.description, "notes": series.notes(),
                 "summary_s": series.summary(), "failures": series.failures,
                 "runs": [run.phases_s() for run in series.runs]}
        if series.runs:
            path = out.with_name(f"{out.stem}.{series.name}.json")
            source = (f"archsim probe startup on {host['hostname']} at {stamp}: {series.description}; "
                      f"{len(series.runs)} runs; {', '.join(f'{k} {v}' for k, v in series.notes().items())}")
            path.write_text(json.dumps(series.profile(source), indent=2) + "\n")
            entry["profile"] = path.name
            written.append(path)
        report["series"][series.name] = entry
    out.write_text(json.dumps(report, indent=2) + "\n")
    return [out, *written]


@app.command()
def startup(
    platforms: list[str] = typer.Option(list(PLATFORMS), "--platform", help="process, container or microvm; repeat the option for several (default: all)."),
    repeat: int = typer.Option(5, "--repeat", min=1, max=100, help="Start-ups per platform (and per container state)."),
    out: Path = typer.Option(Path("results/probe/startup.json"), "--out",
                             help="Report file; the profiles are written beside it as <stem>.<series>.json."),
    engine: str = typer.Option("auto", "--engine", help="Container engine: podman, docker, or auto."),
) -> None:
    """Time from asking for an instance to its first HTTP 200, per platform, with its phases; write start-up profiles."""
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown:
        console.print(f"[red]error:[/red] --platform: expected one of {', '.join(PLATFORMS)}, got {unknown[0]!r}")
        raise typer.Exit(2)
    explicit = set(platforms) != set(PLATFORMS)
    host = {"measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "hostname": socket.gethostname(),
            "cpus": os.cpu_count(), "kernel": host_platform.release(), "load_average_at_start": list(os.getloadavg())}
    all_series: list[Series] = []
    interrupted = False
    started = time.monotonic()
    try:
        for name in dict.fromkeys(platforms):
            try:
                if name == "process":
                    series = Series("process", "process", "the responder as a plain process (fork + exec of this machine's Python)")
                    all_series.append(series)
                    process.responder()
                    _measure(series, process.start_once, repeat)
                elif name == "container":
                    chosen = detect(engine)
                    container.ensure_image(chosen, log=lambda m: console.print(m, highlight=False))
                    saved = container.archive(chosen)
                    warm = Series("container", "container", f"a {chosen.name} container of {container.images.PROBE_IMAGE}, image present (warm)")
                    cold = Series("container-cold", "container",
                                  f"the same after 'rmi', image loaded from a local archive with '{chosen.name} load' (cold; no registry, so no network transfer)")
                    all_series += [warm, cold]
                    _measure(warm, lambda: container.start_once(chosen, cold=False), repeat)
                    _measure(cold, lambda: container.start_once(chosen, cold=True, saved=saved), repeat)
                else:
                    microvm.kernel(), microvm.qemu(), microvm.initramfs()
                    series = Series("microvm", "microvm", "a QEMU microVM: Debian cloud kernel + busybox initramfs running httpd")
                    all_series.append(series)
                    notes: dict[str, str] = {}
                    accelerator = _microvm_accelerator(notes)
                    _measure(series, lambda: microvm.start_once(accelerator), repeat)
                    for run in series.runs:
                        run.notes.update(notes)
                    console.print(f"microvm: {notes['accelerator_reason']}", highlight=False, soft_wrap=True)
            except EnvironmentProblem as problem:
                if explicit:
                    raise
                console.print(f"[yellow]skipped {name}:[/yellow] {problem.message}", soft_wrap=True, highlight=False)
    except ArchsimError as error:
        console.print(f"[red]error:[/red] {error.message}", soft_wrap=True, highlight=False)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        interrupted = True
    all_series = [s for s in all_series if s.runs or s.failures]
    if all_series:
        console.print(_table(all_series))
        for path in _write(out, all_series, repeat, host, interrupted):
            console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    console.print(f"probe took {time.monotonic() - started:.0f} s (machine load at start {host['load_average_at_start'][0]:.2f}; shared cores)",
                  highlight=False)
    if interrupted:
        console.print("interrupted: kept the start-ups that finished; no probe container or VM is left")
        raise typer.Exit(130)
    if not all_series or any(not s.runs for s in all_series):
        raise typer.Exit(1)
