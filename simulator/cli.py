"""The ``archsim`` command.

Every user-facing failure is an :class:`~simulator.errors.ArchsimError`: it is printed as one line
(``error: <file>:<line>: <field>: <what is expected>``) and the exit code is 2. Tracebacks are for
bugs only.

The console script is :func:`simulator.entry.main`, which imports this module while it holds
Ctrl-C, so a Ctrl-C while the imports run is one line and exit 130; ``python3 -m simulator.cli``
imports it before any of archsim's code can hold anything (a known gap, stated in
tests/test_entry_interrupts.py). Once :func:`main` runs, a Ctrl-C Python would drop is delivered
again (:mod:`.interrupts`).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from . import __version__, formatting, interrupts
from .console import stderr, stdout
from .errors import ArchsimError

app = typer.Typer(
    name="archsim",
    help="Architecture trade-off simulator: compare monoliths, microservices, event-driven and space-based designs on VMs or containers, in numbers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


DEFAULT_RESULTS = Path("results")


def _version(value: bool) -> None:
    if value:
        print(f"archsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, metavar="", help="Print the version and exit.")] = False,
) -> None:
    """archsim: numbers instead of opinions."""


# --- validate / schema ---------------------------------------------------------------------------


@app.command()
def validate(file: Annotated[Path, typer.Argument(metavar="FILE", help="Scenario YAML file.")]) -> None:
    """Check a scenario file; print what it defines or one line saying what is wrong."""
    from .scenario import load_scenario

    loaded = load_scenario(file)
    base = loaded.base
    sizes = {len(v.scenario.services) for v in loaded.variants}
    if len(sizes) == 1:
        names = ", ".join(v.name for v in loaded.variants)
        services = f"{sizes.pop()} service(s)"
    else:  # variants differ in structure (e.g. architecture styles): count each
        names = ", ".join(f"{v.name}: {len(v.scenario.services)} services" for v in loaded.variants)
        services = ""
    if base.sweep is not None:  # a sweep: say what it sweeps instead of listing every point
        shown = [v.name for v in loaded.variants]
        names = ", ".join(shown[:6]) + (f", ... {len(shown) - 6} more" if len(shown) > 6 else "")
        names += f"; sweep of {len(loaded.variants) // (len(base.variants) or 1)} point(s) over {', '.join(base.sweep.paths())}"
    print(
        f"{file}: ok: scenario '{base.name}', {services + ', ' if services else ''}{len(base.classes)} request class(es), "
        f"{len(loaded.variants)} variant(s) ({names})"
    )


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (point your editor's YAML plugin at it)."""
    from .scenario.model import Scenario

    print(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2))


# --- run -----------------------------------------------------------------------------------------


def _figure(block: dict[str, Any], key: str, unit: str) -> str:
    """``block[key]`` (an estimate ``{mean, ci95}``) written by :mod:`simulator.formatting`."""
    item = block.get(key) or {}
    return formatting.figure(item.get("mean"), item.get("ci95"), unit)


def _nested(block: dict[str, Any], *path: str) -> dict[str, Any]:
    node: Any = block
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


#: Optional columns, shown when any variant has the figure: (header, path into a variant, formatter).
EXTRA_COLUMNS: list[tuple[str, tuple[str, ...], str]] = [
    ("async e2e p95", ("classes", "*", "async_latency_p95_s"), "s"),  # events, write-behind
    ("SLO recovery", ("extras", "recovery", "time_to_slo_recovery_s"), "s"),
    ("availability", ("extras", "availability", "overall"), "%"),
    ("$/M requests", ("extras", "cost", "per_million_requests_usd"), "usd"),
]


def _extra_value(variant: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    if path[:2] == ("classes", "*"):  # the largest over request classes (e.g. the class that publishes)
        found = [c[path[2]] for c in variant.get("classes", {}).values() if isinstance(c.get(path[2]), dict) and c[path[2]].get("mean") is not None]
        return max(found, key=lambda e: e["mean"]) if found else {}
    return _nested(variant, *path)


def summary_table(summary: dict[str, Any]) -> Table:
    """One row per variant: throughput, latency percentiles, errors, busiest service, and where the
    runs measured them, end-to-end event latency, recovery after a load change, availability and cost."""
    table = Table(title=f"{summary['scenario']['name']}: {summary['replications']} replication(s), means ± 95% CI", title_justify="left")
    extras = [
        (header, path, kind)
        for header, path, kind in EXTRA_COLUMNS
        if any(_extra_value(v, path).get("mean") is not None for v in summary["variants"].values())
    ]
    for column in ("variant", "throughput", "p50", "p95", "p99", "errors", "busiest service", *[e[0] for e in extras]):
        # a figure is never broken over two lines (headers may be)
        table.add_column(column, justify="left" if column in ("variant", "busiest service") else "right", no_wrap=True)
    for name, variant in summary["variants"].items():
        overall = variant["overall"]
        services = variant["services"]
        busiest = max(services.items(), key=lambda kv: kv[1]["utilisation"]["mean"] or 0.0) if services else None
        busy = f"{busiest[0]} {formatting.percent(busiest[1]['utilisation']['mean'])}" if busiest else formatting.MISSING
        unfinished = (overall.get("unfinished_fraction") or {}).get("mean") or 0.0
        table.add_row(
            name + (f" ({formatting.percent(unfinished)} unfinished)" if unfinished > UNFINISHED_WARNING else ""),
            _figure(overall, "throughput_per_s", "/s"),
            _figure(overall, "latency_p50_s", "s"),
            _figure(overall, "latency_p95_s", "s"),
            _figure(overall, "latency_p99_s", "s"),
            _figure(overall, "error_rate", "%"),
            busy,
            *[_figure({"x": _extra_value(variant, path)}, "x", unit) for _, path, unit in extras],
        )
    return table


#: Share of the requests that arrived but had no answer at the end beyond which a variant is flagged.
UNFINISHED_WARNING = 0.01


def overload_warnings(summary: dict[str, Any], threshold: float = UNFINISHED_WARNING) -> list[str]:
    """Variants with more than 1% of their arrivals unfinished at the end: their queues were still
    growing, so latency figures describe only the requests that got through."""
    lines = []
    for name, variant in summary["variants"].items():
        unfinished = (variant.get("overall", {}).get("unfinished_fraction") or {}).get("mean")
        if unfinished is None or unfinished <= threshold:
            continue
        services = variant.get("services", {})
        busiest = max(services.items(), key=lambda kv: kv[1]["utilisation"]["mean"] or 0.0, default=None)
        where = f" (busiest: {busiest[0]} at {busiest[1]['utilisation']['mean']:.0%})" if busiest else ""
        lines.append(
            f"variant '{name}' left {unfinished:.1%} of the requests that arrived unfinished at the end{where}: it is "
            "overloaded, its queues grow through the run, and its latencies describe only the requests that got through"
        )
    return lines


def command_line_overrides(assignments: list[str] | None, seed: int | None, replications: int | None) -> dict[str, Any]:
    """What the command line changed in the scenario, for ``summary.json`` (``run.overrides``):
    ``{"set": {"workload.rate": "120/s"}, "seed": 7}``; empty when nothing was overridden."""
    out: dict[str, Any] = {}
    if assignments:
        out["set"] = {text.split("=", 1)[0].strip(): text.split("=", 1)[1].strip() for text in assignments if "=" in text}
    if seed is not None:
        out["seed"] = seed
    if replications is not None:
        out["replications"] = replications
    return out


def _compact(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without histograms and per-replication values (for ``--json``)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("histograms", "async_histograms", "values")}
        return value

    return strip(summary)


_said_interrupted = False  #: The one line for a Ctrl-C is printed (Typer turns a Ctrl-C into a silent exit 130).


def _interrupted(line: str) -> typer.Exit:
    """Print the one line for a Ctrl-C (never wrapped); the exit to raise."""
    global _said_interrupted
    print(line, file=sys.stderr)
    _said_interrupted = True
    return typer.Exit(130)


def _ctrl_c_says_interrupted(command):
    """Ctrl-C anywhere in ``command`` exits 130 with one line (Typer would exit 130 silently)."""

    @functools.wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):  # archsim's own exits, "interrupted" included: already said
            raise
        except BaseException as error:
            if interrupts.stands_for_interrupt(error):
                raise _interrupted("interrupted") from None
            raise

    return wrapped


@app.command()
@_ctrl_c_says_interrupted
def run(
    file: Annotated[Optional[Path], typer.Argument(metavar="FILE", help="Scenario YAML file (omit with --resume).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", metavar="PATH=VALUE", help="Override a field (repeatable), e.g. workload.rate=50/s.")] = None,
    seed: Annotated[Optional[int], typer.Option(metavar="N", help="Override the scenario's seed.")] = None,
    replications: Annotated[Optional[int], typer.Option(metavar="N", help="Override the number of replications.")] = None,
    out: Annotated[Optional[str], typer.Option(metavar="DIR", help="Run directory (default: a new folder in results/ named after the scenario and the UTC start time).")] = None,
    variant: Annotated[Optional[list[str]], typer.Option(metavar="NAME", help="Run only this variant (repeatable).")] = None,
    jobs: Annotated[str, typer.Option(metavar="N|auto", help="Worker processes for the run's tasks (every point x variant x replication): a number, or 'auto': one per core (in this process if there is one core or one task); with --dask local, the number of Dask workers.")] = "auto",
    dask: Annotated[Optional[str], typer.Option(metavar="tcp://HOST:PORT|local", help="Run the tasks on a Dask cluster (its scheduler's address), or on a LocalCluster started for the run ('local'). Needs the archsim\\[dask] extra.")] = None,
    resume: Annotated[Optional[Path], typer.Option(metavar="DIR", help="Carry on an interrupted or killed run in DIR: same scenario and options, finished tasks are not run again.")] = None,
    charts: Annotated[bool, typer.Option("--charts/--no-charts", metavar="", help="Draw the comparison charts into the run directory.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", metavar="", help="No progress bar and no table; print the run directory only.")] = False,
    as_json: Annotated[bool, typer.Option("--json", metavar="", help="Print the summary as JSON on stdout.")] = False,
    force: Annotated[bool, typer.Option("--force", metavar="", help="Run even if the run budget estimates it would take too long.")] = False,
) -> None:
    """Simulate a scenario (every variant, every replication, every sweep point) and write a run directory."""
    from .sweep.processes import default_jobs, start_forkserver

    try:
        n_jobs = default_jobs() if jobs == "auto" else int(jobs)
        if n_jobs < 1:
            raise ValueError
    except ValueError:
        raise ArchsimError(f"--jobs: expected a positive number or 'auto', got {jobs!r}") from None
    if (n_jobs > 1 and dask is None) or dask == "local":  # a LocalCluster's workers fork from it too (and need Dask)
        start_forkserver(dask=dask == "local")  # it imports the simulator for the workers while this process loads the scenario

    from .budget import check as check_budget
    from .results.rundir import default_run_dir
    from .runner import check_simulable, run_scenario
    from .scenario import load_scenario
    from .sweep.store import TaskStore

    if dask is not None and dask != "local" and "://" not in dask:
        raise ArchsimError(f"--dask: expected a scheduler address like tcp://host:8786 or 'local', got {dask!r}")
    if resume is not None:
        given = [flag for flag, value in (("FILE", file), ("--set", set_), ("--seed", seed), ("--replications", replications),
                                          ("--variant", variant), ("--out", out)) if value is not None]
        if given:
            raise ArchsimError(f"--resume: {given[0]} cannot be given; a resumed run keeps the scenario and options it started with")
        if not resume.is_dir():
            raise ArchsimError(f"--resume {resume}: no such run directory")
        options = TaskStore(resume).read_run()
        file, set_, seed, replications, variant = (Path(options["file"]), options.get("overrides") or [], options.get("seed"),
                                                   options.get("replications"), options.get("variants"))
        loaded = load_scenario(options.get("path") or file, set_, seed=seed, replications=replications)
        loaded.file = str(file)
        run_dir = resume
    else:
        if file is None:
            raise typer.BadParameter("missing: give a scenario FILE (or --resume DIR)", param_hint="FILE")
        loaded = load_scenario(file, set_ or [], seed=seed, replications=replications)
        check_simulable(loaded, loaded.variants)  # before --out is created: nothing to run, nothing written
        options = {"file": str(file), "path": str(file.resolve()), "overrides": set_ or [], "seed": seed,
                   "replications": replications, "variants": variant}
        run_dir = usable_run_dir(out) if out is not None else default_run_dir(DEFAULT_RESULTS, loaded.base.name)
    if variant:
        unknown = [v for v in variant if v not in {x.name for x in loaded.variants}]
        if unknown:
            raise ArchsimError(f"{file}: --variant {unknown[0]}: no such variant; the file has: {', '.join(v.name for v in loaded.variants)}")
    check_budget(loaded, force=force or resume is not None, only=variant)
    show = not quiet and not as_json and sys.stderr.isatty()
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[count]}"), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=stderr, disable=not show, transient=True,
    )
    bar = progress.add_task(loaded.base.name, total=None, count="")

    def on_progress(done: float, total: int) -> None:
        progress.update(bar, total=total, completed=done, count=f"{int(done)}/{total} tasks")

    with progress:
        try:
            summary = run_scenario(loaded, run_dir, jobs=n_jobs, dask=dask, progress=on_progress, only=variant,
                                   resume=resume is not None, options=options,
                                   overrides=command_line_overrides(set_, seed, replications))
        except BaseException as error:
            if not interrupts.stands_for_interrupt(error):
                raise
            raise _interrupted(f"interrupted: finished tasks are kept in {run_dir}; carry on with: archsim run --resume {run_dir}") from None
    tasks = summary["run"].get("tasks") or {}
    if resume is not None and not quiet and not as_json:
        stderr.print(f"resumed: {tasks.get('reused', 0)} finished task(s) kept, {tasks.get('ran', 0)} run now")
    if charts:
        _draw_charts(run_dir, quiet or as_json)
    if as_json:
        print(json.dumps(_compact(summary), indent=2))
    elif quiet:
        print(run_dir)
    else:
        stdout.print(summary_table(summary))
        for line in overload_warnings(summary):
            stderr.print(f"[yellow]warning:[/yellow] {line}")
        stdout.print(f"results: {run_dir}")


def usable_run_dir(out: str) -> Path:
    """The ``--out`` folder, created now so that an unusable one is refused before the run starts."""
    if not out.strip():
        raise ArchsimError("--out: empty path: give a folder for the run directory (e.g. --out results/my-run)")
    run_dir = Path(out)
    if run_dir.exists() and not run_dir.is_dir():
        raise ArchsimError(f"--out {out}: is a file; give a folder for the run directory")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchsimError(f"--out {out}: cannot create the folder ({exc.strerror or exc.__class__.__name__})") from None
    if not os.access(run_dir, os.W_OK | os.X_OK):
        raise ArchsimError(f"--out {out}: the folder is not writable")
    return run_dir


def _draw_charts(run_dir: Path, quiet: bool) -> None:
    from .report import draw_all

    made = draw_all(run_dir)
    if not quiet and made:
        from .report_commands import scorecard_ranking

        stderr.print(f"charts: {len(made)} file(s) in {run_dir / 'charts'}")
        stderr.print(f"scorecard: {scorecard_ranking([run_dir])}")


# --- analytic ------------------------------------------------------------------------------------


@app.command()
def analytic(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Scenario YAML file (a product-form network).")],
    simulate_too: Annotated[bool, typer.Option("--simulate/--no-simulate", metavar="", help="Also simulate and print theory beside simulation.")] = True,
    set_: Annotated[Optional[list[str]], typer.Option("--set", metavar="PATH=VALUE", help="Override a field (repeatable).")] = None,
    replications: Annotated[Optional[int], typer.Option(metavar="N", help="Override the number of replications.")] = None,
) -> None:
    """Queueing theory for a scenario that is a product-form network (M/M/c, Jackson, closed MVA)."""
    from .analysis.scenario import analyse, comparison_rows
    from .scenario import load_scenario

    loaded = load_scenario(file, set_ or [], replications=replications)
    table = Table(title=f"{loaded.base.name}: theory vs simulation", title_justify="left")
    for column in ("variant", "metric", "theory", "simulation (mean ± 95% CI)", "diff"):
        table.add_column(column, justify="left" if column in ("variant", "metric") else "right")
    for variant in loaded.variants:
        theory = analyse(variant.scenario, loaded.file)
        simulated = None
        if simulate_too:
            from .engine.experiment import aggregate, run_variant
            from .platforms import extensions_for

            extensions = extensions_for(variant.scenario)
            simulated = aggregate(variant, run_variant(variant, variant.scenario.replications, extensions=extensions))
        for metric, expected, measured, ci in comparison_rows(theory, simulated):
            diff = f"{(measured - expected) / expected:+.1%}" if measured is not None and expected else "-"
            shown = "-" if measured is None else (f"{measured:.5g}" + (f" ± {ci:.2g}" if ci else ""))
            table.add_row(variant.name, metric, f"{expected:.5g}", shown, diff)
    stdout.print(table)


# --- sub-applications ----------------------------------------------------------------------------


def _register_subcommands() -> None:
    from .deploy.cli import app as deploy_app

    app.add_typer(deploy_app, name="deploy", help="Build and run the real reference services in containers.")
    from .probe.cli import app as probe_app

    app.add_typer(probe_app, name="probe", help="Measure start-up of processes, containers and microVMs on this machine.")
    from .loadtest.cli import register as register_loadtest
    from .report_commands import register as register_report_commands

    register_report_commands(app)  # archsim report / archsim compare (charts imported on use)
    register_loadtest(app)  # archsim loadtest: Locust with a scenario's load shape -> measured run
    from .calibration.cli import register as register_calibrate; register_calibrate(app)  # archsim calibrate


_register_subcommands()


#: Click's base exception for usage errors. Typer 0.29+ vendors Click (``typer._click``), older
#: releases depend on the ``click`` package: take the class from Typer's own hierarchy.
ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _plain_help_flag(command) -> None:
    """``--help`` is a flag: show it without a value placeholder (Typer prints ``<bool>``), in
    every command and sub-command."""
    original = command.get_help_option

    def get_help_option(ctx):
        option = original(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = get_help_option
    for sub in (getattr(command, "commands", None) or {}).values():
        _plain_help_flag(sub)


def main() -> None:
    """Console entry point: run the app, turning user errors into one line and exit code 2."""
    interrupts.watch()
    command = typer.main.get_command(app)
    _plain_help_flag(command)
    try:
        code = command(standalone_mode=False)
    except ArchsimError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except ClickException as exc:  # unknown command or option, bad option value
        exc.show()
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):  # Click turns Ctrl-C into Abort
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except OSError as exc:  # a path the user gave that cannot be used, a full disk
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:
        if not interrupts.stands_for_interrupt(exc):  # wrapped by __set_name__, reported as text by pydantic-core...
            raise
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    # Without standalone mode Click returns a typer.Exit's code instead of exiting; a Ctrl-C while
    # Typer parses the options is such an exit 130, without a word.
    if code == 130 and not _said_interrupted:
        print("interrupted", file=sys.stderr)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # python3 -m simulator.cli; the `archsim` command goes through simulator.entry
    main()
