"""Run Locust headless against a deployment with a scenario's load, and write a measured run directory.

The steps: check the locustfile has a task per request class (Locust's own
``--show-task-ratio-json``), write the plan, run ``locust`` in a subprocess with the style's
locustfile plus ``archsim_shape.py`` and ``archsim_recorder.py``, then convert what the recorder
wrote into ``summary.json``, ``timeseries.csv`` and ``<variant>_stats.csv``. ``summary.json`` is
written with status ``running`` before Locust starts and rewritten at the end with ``ok``,
``error`` or ``interrupted`` and whatever was measured. Locust's own files are kept under
``locust/`` in the run directory. The Locust process never outlives the command: it is stopped
(SIGTERM, then SIGKILL) on any error or Ctrl-C.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ArchsimError, EnvironmentProblem
from ..results import rundir
from ..scenario.load import LoadedScenario
from .convert import load_extras, timeseries_rows, variant_block
from .plan import PLAN_ENV, RECORD_ENV, LoadPlan

REPO_LOCUSTFILES = Path(__file__).resolve().parents[2] / "loadtests" / "locustfiles"
SHAPE_FILE = REPO_LOCUSTFILES / "archsim_shape.py"
RECORDER_FILE = REPO_LOCUSTFILES / "archsim_recorder.py"
LOCUST_DIR = "locust"  #: Sub-folder of the run directory with Locust's own files, the plan and the record.
STOP_GRACE_S = 15.0  #: Seconds Locust gets to write its files after SIGTERM before SIGKILL.


def locust_argv() -> list[str]:
    return [sys.executable, "-m", "locust"]


def locust_tasks(locustfile: Path) -> dict[str, list[str]]:
    """User class -> task names, as Locust itself reads the file."""
    try:
        done = subprocess.run([*locust_argv(), "-f", str(locustfile), "--show-task-ratio-json"],
                              capture_output=True, text=True, timeout=60, cwd=locustfile.parent)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentProblem(f"cannot run locust to read {locustfile}: {exc}") from None
    try:
        ratios = json.loads(done.stdout)["per_class"]
    except (ValueError, KeyError):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ArchsimError(f"{locustfile}: Locust could not load it: {last}") from None
    return {user: list(info.get("tasks", {})) for user, info in ratios.items()}


def check_tasks(locustfile: Path, class_names: list[str]) -> None:
    """Every request class the scenario sends must be a task of every user class of the locustfile."""
    users = locust_tasks(locustfile)
    if not users:
        raise ArchsimError(f"{locustfile}: no User class found")
    for user, tasks in users.items():
        missing = [name for name in class_names if name not in tasks]
        if missing:
            raise ArchsimError(
                f"{locustfile}: user class {user} has no task named {', '.join(repr(m) for m in missing)} "
                f"(it has: {', '.join(tasks) or 'none'}); task names must be the scenario's request classes"
            )


def locust_command(locustfile: Path, host: str, csv_prefix: Path, plan: LoadPlan) -> list[str]:
    # The shape stops the test at plan.duration_s; -t is only a backstop should it not.
    return [
        *locust_argv(), "-f", f"{locustfile},{SHAPE_FILE},{RECORDER_FILE}",
        "--headless", "--host", host, "--csv", str(csv_prefix), "--csv-full-history",
        "-t", f"{int(plan.duration_s + 30)}s", "--stop-timeout", "0", "--only-summary",
        "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]


def _stop(process: subprocess.Popen) -> None:
    """Ask Locust to stop (it writes its files on SIGTERM), then kill it if it does not."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_locust(command: list[str], env: dict[str, str], log_path: Path, timeout_s: float, cwd: Path) -> int:
    """Run Locust to completion (stderr and stdout to ``log_path``); always reaped."""
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                                   start_new_session=True)  # Ctrl-C reaches us; we stop Locust ourselves
        try:
            return process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise EnvironmentProblem(f"locust did not finish within {timeout_s:.0f} s; see {log_path}") from None
        finally:
            _stop(process)


def measure(
    loaded: LoadedScenario,
    plan: LoadPlan,
    run_dir: Path,
    *,
    host: str,
    locustfile: Path,
    variant: str,
    description: str = "",
    extras: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the load test and write the run directory; returns the summary (status ``ok``)."""
    locust_dir = run_dir / LOCUST_DIR
    locust_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    command = locust_command(locustfile, host, locust_dir / "locust", plan)
    summary = rundir.new_summary(
        loaded, source="measured", seed=plan.seed, replications=1, duration_s=plan.duration_s,
        warmup_s=plan.warmup_s, metrics_interval_s=plan.interval_s,
        target_host=host, locustfile=str(locustfile), command=command,
    )
    rundir.write_scenario(run_dir, loaded.raw, {"file": loaded.file, "variants": {variant: _resolved(loaded, variant)}})
    plan_path, record_path = locust_dir / "plan.json", locust_dir / "record.json"
    rundir.atomic_write(plan_path, plan.to_json())
    rundir.write_json(run_dir / "summary.json", summary)
    env = {**os.environ, PLAN_ENV: str(plan_path), RECORD_ENV: str(record_path)}
    try:
        code = run_locust(command, env, locust_dir / "locust.log", plan.duration_s + 90, locustfile.parent)
        if not record_path.exists():
            tail = (locust_dir / "locust.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
            raise EnvironmentProblem(f"locust exited with code {code} and recorded nothing: {tail[0] if tail else 'no output'} (log: {locust_dir / 'locust.log'})")
        summary["status"] = "ok"
    except KeyboardInterrupt:
        summary["status"] = "interrupted"
        summary["error"] = "interrupted by the user (Ctrl-C); what was measured is kept"
        raise
    except Exception as exc:  # noqa: BLE001 - recorded, then re-raised for the CLI to report
        summary["status"] = "error"
        summary["error"] = str(exc) if isinstance(exc, ArchsimError) else f"{exc.__class__.__name__}: {exc}"
        raise
    finally:
        _write_results(summary, plan, run_dir, record_path, variant, description, host, extras)
        summary["run"]["wall_time_s"] = time.perf_counter() - started
        summary["run"]["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        rundir.write_json(run_dir / "summary.json", summary)
    return summary


def _resolved(loaded: LoadedScenario, variant: str) -> dict[str, Any]:
    chosen = next((v for v in loaded.variants if v.name == variant), None)
    scenario = chosen.scenario if chosen else loaded.base
    return scenario.model_dump(mode="json", by_alias=True, exclude={"variants"})


def _write_results(summary: dict[str, Any], plan: LoadPlan, run_dir: Path, record_path: Path, variant: str,
                   description: str, host: str, extras: dict[str, Any] | None) -> None:
    """Convert whatever the recorder left (nothing, if Locust never started)."""
    if not record_path.exists():
        return
    record = json.loads(record_path.read_text(encoding="utf-8"))
    block = variant_block(record, plan, description=description, extras={**(extras or {}), **load_extras(record, plan, host)})
    summary["variants"][variant] = block
    rundir.atomic_write(run_dir / "timeseries.csv", rundir.timeseries_csv(timeseries_rows(record, plan, variant)))
    locust_stats = run_dir / LOCUST_DIR / "locust_stats.csv"
    if locust_stats.exists():  # Locust's own numbers are the reference format: keep them as they are
        shutil.copyfile(locust_stats, run_dir / f"{variant}_stats.csv")
    else:
        rundir.atomic_write(run_dir / f"{variant}_stats.csv", rundir.locust_stats_csv(block, request_type="GET"))
