"""The Python entry point of load tests: :func:`run_load_test` (what ``archsim loadtest`` calls).

Calibration and other tools call it to run an open-model test at a rate and get the measured run
directory back::

    from simulator.loadtest import run_load_test

    run = run_load_test("scenarios/styles-baseline.yaml", "http://127.0.0.1:18080",
                        variant="monolith", rate_per_s=150, duration_s=60, warmup_s=10,
                        out="calibration/monolith/150")
    run.run_dir, run.status, run.passed, run.summary["variants"]["monolith"]["overall"]

It raises :class:`~simulator.errors.ArchsimError` (exit code 2) for bad input before anything
runs, :class:`~simulator.loadtest.verdict.RunFailed` (exit code 1; ``.run_dir`` and ``.summary``
hold what was measured) when the target refused or died or Locust failed, and
``KeyboardInterrupt`` after writing what was measured. A run whose generator fell behind
(``status: invalid``) or whose thresholds failed is returned, with ``passed`` false.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ArchsimError
from ..results.rundir import default_run_dir
from ..scenario import load_scenario
from ..scenario.slo import Slo, Threshold, parse_thresholds
from .plan import DEFAULT_LATENCY_BOUND_S, LoadPlan, plan_for
from .remote import advertised_host, worker_command
from .run import HTTP_LOCUSTFILE, REPO_LOCUSTFILES, check_tasks, free_port, measure
from .target import check_target
from .verdict import exit_code

DEFAULT_VARIANT = "measured"
DEFAULT_RESULTS = Path("results")


@dataclass
class MeasuredRun:
    """A finished load test: where it is and what it says."""

    run_dir: Path
    summary: dict[str, Any]
    plan: LoadPlan
    variant: str
    problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.summary["status"]

    @property
    def passed(self) -> bool:
        """Valid (status ``ok``) and every threshold passed."""
        return bool(self.summary.get("passed"))

    @property
    def exit_code(self) -> int:
        return exit_code(self.summary)

    @property
    def block(self) -> dict[str, Any]:
        """The measured variant's block of ``summary.json``."""
        return self.summary["variants"][self.variant]


def default_locustfile(variant: str) -> Path:
    """``loadtests/locustfiles/<variant>.py`` when the variant is named after a style."""
    candidate = REPO_LOCUSTFILES / f"{variant.replace('-', '_')}.py"
    if candidate.exists() and not candidate.name.startswith("archsim_"):
        return candidate
    raise ArchsimError(
        f"--locustfile: none given, the request classes have no `http:` blocks, and there is no locustfile named after "
        f"variant '{variant}' in {REPO_LOCUSTFILES}; give each class an `http:` request or pass --locustfile PATH"
    )


def run_load_test(
    scenario_file: str | Path,
    host: str,
    *,
    variant: str = DEFAULT_VARIANT,
    rate_per_s: float | None = None,
    duration_s: float | None = None,
    warmup_s: float | None = None,
    sets: Sequence[str] = (),
    out: str | Path | None = None,
    locustfile: str | Path | None = None,
    users: int | None = None,
    latency_bound_s: float = DEFAULT_LATENCY_BOUND_S,
    workers: int = 1,
    thresholds: Sequence[str | Threshold] = (),
    allow_late: bool = False,
    allow_remote: bool = False,
    results_root: Path = DEFAULT_RESULTS,
    on_start: Callable[[str], None] | None = None,
    expect_workers: int | None = None,
    master_bind: str | None = None,
    master_port: int | None = None,
    expect_workers_max_wait_s: float = 300.0,
) -> MeasuredRun:
    """Load ``host`` with the scenario's load (an open model at ``rate_per_s`` if given) and
    write a measured run directory; see the module docstring for what it raises."""
    url = check_target(host, allow_remote=allow_remote)
    if workers < 1:
        raise ArchsimError(f"--workers: must be at least 1, got {workers}")
    if expect_workers is not None and expect_workers < 1:
        raise ArchsimError(f"--expect-workers: must be at least 1, got {expect_workers}")
    if expect_workers is not None and workers > 1:
        raise ArchsimError("--workers and --expect-workers: give one (--workers N starts workers here; --expect-workers N waits for workers started elsewhere)")
    if (master_bind is not None or master_port is not None) and expect_workers is None:
        raise ArchsimError("--master-bind and --master-port need --expect-workers N")
    overrides = list(sets)
    if rate_per_s is not None:
        if not rate_per_s > 0:
            raise ArchsimError(f"rate: must be positive, got {rate_per_s}")
        overrides.append(f"workload.rate={rate_per_s!r}/s")
    if warmup_s is not None:
        overrides.append(f"warmup={warmup_s!r}s")
    loaded = load_scenario(Path(scenario_file), overrides)
    chosen = next((v for v in loaded.variants if v.name == variant), None)
    scenario = chosen.scenario if chosen else loaded.base
    mix = scenario.workload.mix or {next(iter(scenario.classes)): 1.0}
    sent = [name for name, share in mix.items() if share > 0]
    plan = plan_for(scenario, duration_s=duration_s, users=users, latency_bound_s=latency_bound_s, workers=expect_workers or workers)
    master = None
    if expect_workers is not None:  # workers on other machines fetch this plan from the master
        plan.remote = True
        bind = master_bind or "127.0.0.1"  # loopback unless the user opts in with --master-bind
        master = (bind, master_port or free_port(bind))
    if locustfile is not None:
        file = Path(locustfile)
        if not file.is_file():
            raise ArchsimError(f"--locustfile: no such file: {file}")
        check_tasks(file.resolve(), sent)
    elif plan.http is not None:
        file = HTTP_LOCUSTFILE
    else:
        file = default_locustfile(variant)
        check_tasks(file.resolve(), sent)
    declared: list[Threshold] = list(scenario.slo.thresholds) if isinstance(scenario.slo, Slo) else []
    try:
        extra = [t if isinstance(t, Threshold) else parse_thresholds([t])[0] for t in thresholds]
    except ValueError as exc:
        raise ArchsimError(str(exc)) from None
    unknown = [t for t in declared + extra if t.request_class is not None and t.request_class not in scenario.classes]
    if unknown:
        raise ArchsimError(f"threshold {unknown[0].text!r}: no request class '{unknown[0].request_class}' (classes: {', '.join(scenario.classes)})")
    run_dir = Path(out) if out is not None else default_run_dir(results_root, loaded.base.name)
    if run_dir.exists() and not run_dir.is_dir():
        raise ArchsimError(f"--out {run_dir}: is a file; give a folder for the run directory")
    style = scenario.meta.get("style") if isinstance(scenario.meta.get("style"), str) else None
    announce = None
    if on_start is not None:
        what = (f"open, {plan.target_rate_per_s:.4g}/s target (peak {plan.peak_rate_per_s:.4g}/s), {plan.users} users"
                if plan.model == "open" else f"closed, {plan.users} users")
        workers_note = f", {plan.workers} Locust workers" if plan.workers > 1 and not plan.remote else ""
        line = f"loadtest: {url} with {file.name}, {plan.duration_s:g}s ({plan.warmup_s:g}s warm-up), {what}{workers_note}"
        lines = [line]
        if master is not None:
            address = f"{advertised_host(master[0])}:{master[1]}"
            lines.append(f"master: waiting up to {expect_workers_max_wait_s:g} s for {plan.workers} worker(s) on {master[0]}:{master[1]} "
                         f"(TCP port {master[1]} must be open to them); on each worker machine run:")
            lines.append(f"  {worker_command(address, allow_remote=allow_remote)}")
        announce = lambda: [on_start(x) for x in lines]  # once the target answered
    summary = measure(loaded, plan, run_dir, host=url, locustfile=file, variant=variant,
                      description=chosen.description if chosen else f"measured with Locust against {url}",
                      extras={"style": style} if style else None, thresholds=declared + extra, allow_late=allow_late,
                      on_running=announce, master=master, workers_wait_s=expect_workers_max_wait_s)
    return MeasuredRun(run_dir=Path(run_dir).resolve(), summary=summary, plan=plan, variant=variant,
                       problems=list(summary.get("checks", {}).get("problems", [])))
