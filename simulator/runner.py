"""Run a loaded scenario into a run directory: every variant, every replication, then the files.

This is the one place that ties the engine to the results: it writes ``summary.json`` with status
``running`` before simulating, keeps each finished task under ``tasks/`` (the work queue of
:mod:`simulator.sweep`), aggregates a variant as soon as its replications are in, and on failure or
Ctrl-C writes the status, the error and whatever had finished, so no run loses its results
silently and ``archsim run --resume DIR`` carries on from there.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .engine.experiment import aggregate
from .engine.metrics import ReplicationResult
from .errors import ArchsimError
from .results import rundir
from .scenario.load import LoadedScenario
from .suggest import shown
from .sweep.executors import make_executor
from .sweep.processes import signals_deferred
from .sweep.queue import QueueCounts, run_queue
from .sweep.store import TaskStore
from .sweep.table import sweep_header, sweep_point, write_sweep_table
from .sweep.tasks import Task, plan

#: ``progress(tasks_done, tasks_total)``; ``tasks_done`` is fractional while a task runs in this process.
ProgressCallback = Callable[[float, int], None]


def resolved_scenarios(loaded: LoadedScenario) -> dict[str, Any]:
    """Each variant's fully validated scenario with defaults filled in (for ``resolved.json``)."""
    return {
        "file": loaded.file,
        "variants": {
            v.name: v.scenario.model_dump(mode="json", by_alias=True, exclude={"variants"}) for v in loaded.variants
        },
    }


class Terminated(ArchsimError):
    """The process was asked to stop (SIGTERM, SIGHUP): recorded as the run's error, then re-raised;
    the command exits 128 + the signal (143 for SIGTERM, 129 for SIGHUP), as shells report a process
    a signal ended and as ``archsim calibrate`` does."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by signal {signal.Signals(signum).name}")
        self.exit_code = 128 + signum


@contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` while a run writes its directory, so a
    killed run leaves ``status: error`` and the reason instead of ``running`` (SIGKILL cannot be
    caught). Only in the main thread, where Python delivers signals."""

    def stop(signum: int, _frame: Any) -> None:
        raise Terminated(signum)

    try:
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def check_simulable(loaded: LoadedScenario, variants: list) -> None:
    """A load-test-only scenario (``http:`` classes, no ``services``) cannot be simulated: say so in one line."""
    for variant in variants:
        scenario = variant.scenario
        if not scenario.services:
            raise ArchsimError(f"{loaded.file}: services: none defined; archsim run needs services to simulate "
                               f"(without them the scenario can be load-tested: archsim loadtest {loaded.file} --host URL)")
        bare = next((name for name, cls in scenario.classes.items() if not cls.calls and cls.route is None), None)
        if bare is not None:
            raise ArchsimError(f"{loaded.file}: classes.{bare}: has only `http:`; archsim run needs its `calls` (or `route`) to simulate it")


def run_scenario(
    loaded: LoadedScenario,
    run_dir: Path,
    *,
    jobs: int = 1,
    dask: str | None = None,
    progress: ProgressCallback | None = None,
    only: list[str] | None = None,
    resume: bool = False,
    options: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Simulate every variant of ``loaded`` and write the run directory; returns the summary.

    Every task (variant x replication, sweep points included) goes to one work queue
    (:mod:`simulator.sweep.queue`) on the executor ``jobs`` and ``dask`` choose; each task's result
    is kept under ``tasks/`` as it finishes, and with ``resume`` the tasks found there are not run
    again. ``options`` (the scenario file and the flags it was loaded with) are recorded for
    ``archsim run --resume``.
    """
    base = loaded.base
    variants = [v for v in loaded.variants if not only or v.name in only]
    check_simulable(loaded, variants)
    run_dir.mkdir(parents=True, exist_ok=True)
    resolved = resolved_scenarios(loaded)
    store = TaskStore(run_dir)
    if resume:
        _check_same_scenario(run_dir, resolved)
    else:
        store.write_run(options or {"file": loaded.file})
    rundir.write_scenario(run_dir, loaded.raw, resolved)
    tasks = plan(variants)
    executor = make_executor(jobs, dask, len(tasks))
    started = time.perf_counter()
    summary = rundir.new_summary(
        loaded, source="simulation", seed=base.seed, replications=base.replications, duration_s=base.duration_s,
        warmup_s=base.warmup_s, metrics_interval_s=base.metrics_interval_s, jobs=jobs, **executor.describe(),
        overrides=overrides or {},  # what the command line changed (--set, --seed, --replications)
    )
    if base.sweep is not None:
        summary["sweep"] = sweep_header(base.sweep, variants)
    rundir.write_json(run_dir / "summary.json", summary)
    collector = _Collector(variants, run_dir, summary, started)
    counts = QueueCounts(len(tasks))
    summary["run"]["tasks"] = counts.__dict__
    on_progress = (lambda done, total: progress(done, total)) if progress else None
    with _stop_signals_raise():
        try:
            with executor:
                summary["run"].update(executor.describe())
                run_queue(tasks, store, executor, collector.add, resume=resume, on_progress=on_progress, counts=counts)
            summary["status"] = "ok"
        except KeyboardInterrupt:
            summary["status"] = "interrupted"
            summary["error"] = f"interrupted by the user (Ctrl-C); finished tasks are kept: archsim run --resume {run_dir}"
            raise
        except BaseException as exc:  # noqa: BLE001 - recorded, then re-raised for the CLI to report
            summary["status"] = "error"
            summary["error"] = exc.message if isinstance(exc, ArchsimError) else shown(f"{exc.__class__.__name__}: {exc}", 500)
            raise
        finally:
            with signals_deferred(stopping=summary["status"] != "ok"):  # a second Ctrl-C must not cut the last files short
                collector.finish()
                summary["run"]["tasks"] = dict(counts.__dict__)
                summary["run"]["wall_time_s"] = time.perf_counter() - started
                summary["run"]["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
                rundir.write_json(run_dir / "summary.json", summary)
    return summary


def _check_same_scenario(run_dir: Path, resolved: dict[str, Any]) -> None:
    """Resume only the scenario that was run: the variants' resolved scenarios must be unchanged."""
    try:
        before = json.loads((run_dir / "resolved.json").read_text(encoding="utf-8")).get("variants")
    except (OSError, ValueError, AttributeError):
        return  # no record to compare with: the per-task fingerprints still guard every result
    now = json.loads(json.dumps(resolved["variants"]))
    if before != now:
        changed = next((name for name in now if before.get(name) != now[name]), None) or next(iter(before), "")
        raise ArchsimError(f"--resume {run_dir}: the scenario changed since the run (variant {changed!r} differs); start a new run")


#: Rewrite summary.json at most this often while tasks finish (a big sweep has thousands).
SUMMARY_EVERY_S = 2.0


class _Collector:
    """Results as tasks finish: a variant is aggregated and its files written once all its
    replications are in; :meth:`finish` orders the variants as planned and writes the rest."""

    def __init__(self, variants: list[Any], run_dir: Path, summary: dict[str, Any], started: float):
        self.variants = {v.name: v for v in variants}
        self.run_dir, self.summary, self.started = run_dir, summary, started
        self.results: dict[str, dict[int, ReplicationResult]] = {v.name: {} for v in variants}
        self.blocks: dict[str, dict[str, Any]] = {}
        self.written_at = 0.0

    def add(self, task: Task, result: ReplicationResult) -> None:
        got = self.results[task.variant]
        got[task.replication] = result
        variant = self.variants[task.variant]
        if len(got) == variant.scenario.replications:
            self._aggregate(variant, interrupted=False)
            now = time.perf_counter()
            if now - self.written_at >= SUMMARY_EVERY_S:
                self.summary["run"]["wall_time_s"] = now - self.started
                rundir.write_json(self.run_dir / "summary.json", self.summary)
                self.written_at = now

    def _aggregate(self, variant: Any, *, interrupted: bool) -> None:
        results = [self.results[variant.name][r] for r in sorted(self.results[variant.name])]
        block = aggregate(variant, results)
        if interrupted:
            block["interrupted"] = True
        if variant.point is not None:
            block["sweep"] = sweep_point(variant)
        self.blocks[variant.name] = block
        self.summary["variants"][variant.name] = block
        rundir.atomic_write(self.run_dir / f"{variant.name}_stats.csv", rundir.locust_stats_csv(block))

    def finish(self) -> None:
        """Variants that did not finish keep their finished replications (marked ``interrupted``);
        then every file is written in plan order."""
        for name, variant in self.variants.items():
            if name not in self.blocks and self.results[name]:
                self._aggregate(variant, interrupted=True)
        self.summary["variants"] = {name: self.blocks[name] for name in self.variants if name in self.blocks}
        rows = [
            {"variant": name, "replication": r, **row}
            for name in self.variants
            for r, result in sorted(self.results[name].items())
            for row in result.timeseries
        ]
        rundir.atomic_write(self.run_dir / "timeseries.csv", rundir.timeseries_csv(rows))
        if "sweep" in self.summary and self.blocks:
            write_sweep_table(self.run_dir, self.summary)
