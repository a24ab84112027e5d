"""Run a loaded scenario into a run directory: every variant, every replication, then the files.

This is the one place that ties the engine to the results: it writes ``summary.json`` with status
``running`` before simulating, rewrites it after each variant, and on failure or Ctrl-C writes the
status, the error and whatever variants had finished, so no run loses its results silently.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .engine.experiment import aggregate, run_variant
from .errors import ArchsimError
from .results import rundir
from .scenario.load import LoadedScenario
from .suggest import shown

#: ``progress(variant_name, simulated_seconds_done, simulated_seconds_total)``
ProgressCallback = Callable[[str, float, float], None]


def resolved_scenarios(loaded: LoadedScenario) -> dict[str, Any]:
    """Each variant's fully validated scenario with defaults filled in (for ``resolved.json``)."""
    return {
        "file": loaded.file,
        "variants": {
            v.name: v.scenario.model_dump(mode="json", by_alias=True, exclude={"variants"}) for v in loaded.variants
        },
    }


class Terminated(ArchsimError):
    """The process was asked to stop (SIGTERM, SIGHUP): recorded as the run's error, then re-raised."""

    exit_code = 1  #: The run failed (it did not finish), not bad input.


@contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` while a run writes its directory, so a
    killed run leaves ``status: error`` and the reason instead of ``running`` (SIGKILL cannot be
    caught). Only in the main thread, where Python delivers signals."""

    def stop(signum: int, _frame: Any) -> None:
        raise Terminated(f"stopped by signal {signal.Signals(signum).name}")

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


def _check_simulable(loaded: LoadedScenario, variants: list) -> None:
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
    progress: ProgressCallback | None = None,
    only: list[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Simulate every variant of ``loaded`` and write the run directory; returns the summary."""
    base = loaded.base
    variants = [v for v in loaded.variants if not only or v.name in only]
    _check_simulable(loaded, variants)
    run_dir.mkdir(parents=True, exist_ok=True)
    rundir.write_scenario(run_dir, loaded.raw, resolved_scenarios(loaded))
    started = time.perf_counter()
    summary = rundir.new_summary(
        loaded, source="simulation", seed=base.seed, replications=base.replications, duration_s=base.duration_s,
        warmup_s=base.warmup_s, metrics_interval_s=base.metrics_interval_s, jobs=jobs,
        overrides=overrides or {},  # what the command line changed (--set, --seed, --replications)
    )
    rundir.write_json(run_dir / "summary.json", summary)
    timeseries: list[dict[str, Any]] = []
    with _stop_signals_raise():
        _run_variants(loaded, variants, run_dir, summary, timeseries, started, jobs, progress)
    return summary


def _run_variants(
    loaded: LoadedScenario,
    variants: list[Any],
    run_dir: Path,
    summary: dict[str, Any],
    timeseries: list[dict[str, Any]],
    started: float,
    jobs: int,
    progress: ProgressCallback | None,
) -> None:
    """The variants one after another, rewriting the files after each; on any failure the summary
    records the status and the reason before the exception goes on to the caller."""
    variant = variants[0] if variants else None
    try:
        for variant in variants:
            scenario = variant.scenario
            total = scenario.duration_s * scenario.replications
            callback = (lambda t, name=variant.name, total=total: progress(name, t, total)) if progress else None
            results = run_variant(variant, scenario.replications, jobs=jobs, on_progress=callback)
            summary["variants"][variant.name] = aggregate(variant, results)
            for result in results:
                for row in result.timeseries:
                    timeseries.append({"variant": variant.name, "replication": result.replication, **row})
            rundir.atomic_write(run_dir / f"{variant.name}_stats.csv", rundir.locust_stats_csv(summary["variants"][variant.name]))
            rundir.atomic_write(run_dir / "timeseries.csv", rundir.timeseries_csv(timeseries))
            summary["run"]["wall_time_s"] = time.perf_counter() - started
            rundir.write_json(run_dir / "summary.json", summary)
        summary["status"] = "ok"
    except KeyboardInterrupt as exc:
        summary["status"] = "interrupted"
        summary["error"] = "interrupted by the user (Ctrl-C); finished variants and replications are kept"
        partial = getattr(exc, "results", None)
        if partial:  # the variant that was running keeps its finished replications
            block = aggregate(variant, partial)
            block["interrupted"] = True
            summary["variants"][variant.name] = block
            rundir.atomic_write(run_dir / f"{variant.name}_stats.csv", rundir.locust_stats_csv(block))
            for result in partial:
                for row in result.timeseries:
                    timeseries.append({"variant": variant.name, "replication": result.replication, **row})
            rundir.atomic_write(run_dir / "timeseries.csv", rundir.timeseries_csv(timeseries))
        raise
    except BaseException as exc:  # noqa: BLE001 - recorded, then re-raised for the CLI to report
        summary["status"] = "error"
        summary["error"] = exc.message if isinstance(exc, ArchsimError) else shown(f"{exc.__class__.__name__}: {exc}", 500)
        raise
    finally:
        summary["run"]["wall_time_s"] = time.perf_counter() - started
        summary["run"]["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        rundir.write_json(run_dir / "summary.json", summary)
