"""Run Locust headless against a deployment with a scenario's load, and write a measured run directory.

The steps: check the target answers at all (a TCP connection, so a dead target fails in seconds),
check the locustfile has a task per request class (Locust's own ``--show-task-ratio-json``), write
the plan, run ``locust`` in a subprocess (its own process group) with the locustfile plus
``archsim_shape.py`` -- alone, or as a master with ``--workers N`` worker processes (Locust's
``--processes``) -- while :class:`~simulator.loadtest.generator.CpuWatch` samples the generator's
CPU, then merge what the processes recorded and convert it into ``summary.json``,
``timeseries.csv`` and ``<variant>_stats.csv``, judged by :mod:`.verdict`.

``summary.json`` is written with status ``running`` before Locust starts and rewritten at the end
with ``ok``, ``invalid`` (the generator fell behind), ``error`` (the target refused or died, or
Locust failed) or ``interrupted``, with whatever was measured. Locust's own files are kept under
``locust/`` in the run directory. No Locust process outlives the command: the whole process group
is stopped (SIGTERM, then SIGKILL) on any error or Ctrl-C.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from ..errors import ArchsimError, EnvironmentProblem
from ..results import rundir
from ..scenario.load import LoadedScenario
from .convert import load_extras, timeseries_rows, variant_block
from .generator import CpuWatch
from .plan import PLAN_ENV, RECORD_ENV, LoadPlan
from .recording import merge_records
from .remote import worker_report
from .verdict import RunFailed, TargetDown, Threshold, judge

REPO_LOCUSTFILES = Path(__file__).resolve().parents[2] / "loadtests" / "locustfiles"
SHAPE_FILE = REPO_LOCUSTFILES / "archsim_shape.py"
HTTP_LOCUSTFILE = REPO_LOCUSTFILES / "archsim_http.py"  #: The generic locustfile for classes with ``http:``.
LOCUST_DIR = "locust"  #: Sub-folder of the run directory with Locust's own files, the plan and the records.
STOP_GRACE_S = 15.0  #: Seconds Locust gets to write its files after SIGTERM before SIGKILL.
CONNECT_TIMEOUT_S = 3.0  #: The pre-flight connection to the target.
LOCUST_FAILURES_EXIT = 3  #: Locust's exit code when requests failed (ours, to tell it from its own errors).


def locust_argv() -> list[str]:
    return [sys.executable, "-m", "locust"]


def locust_tasks(locustfile: Path, env: dict[str, str] | None = None) -> dict[str, list[str]]:
    """User class -> task names, as Locust itself reads the file."""
    try:
        done = subprocess.run([*locust_argv(), "-f", str(locustfile), "--show-task-ratio-json"],
                              capture_output=True, text=True, timeout=60, cwd=locustfile.parent, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentProblem(f"cannot run locust to read {locustfile}: {exc}") from None
    try:
        ratios = json.loads(done.stdout)["per_class"]
    except (ValueError, KeyError):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ArchsimError(f"{locustfile}: Locust could not load it: {last}") from None
    return {user: list(info.get("tasks", {})) for user, info in ratios.items()}


def check_tasks(locustfile: Path, class_names: list[str], env: dict[str, str] | None = None) -> None:
    """Every request class the scenario sends must be a task of every user class of the locustfile."""
    users = locust_tasks(locustfile, env)
    if not users:
        raise ArchsimError(f"{locustfile}: no User class found")
    for user, tasks in users.items():
        missing = [name for name in class_names if name not in tasks]
        if missing:
            raise ArchsimError(
                f"{locustfile}: user class {user} has no task named {', '.join(repr(m) for m in missing)} "
                f"(it has: {', '.join(tasks) or 'none'}); task names must be the scenario's request classes"
            )


def check_reachable(url: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Open one TCP connection to the target; raise :class:`TargetDown` if it cannot be made."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout_s).close()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise TargetDown(f"--host {url}: the target does not accept connections ({reason}); start it first, or check the URL") from None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host if host not in ("*", "") else "0.0.0.0", 0))
        return probe.getsockname()[1]


def locust_command(locustfile: Path, host: str, csv_prefix: Path, plan: LoadPlan,
                   master: tuple[str, int] | None = None, workers_wait_s: float = 300.0) -> list[str]:
    # The shape stops the test; -t is only a backstop should it not.
    command = [
        *locust_argv(), "-f", f"{locustfile},{SHAPE_FILE}",
        "--headless", "--host", host, "--csv", str(csv_prefix), "--csv-full-history",
        "-t", f"{int(plan.duration_s + plan.drain_s + 30)}s", "--stop-timeout", "0", "--only-summary",
        "--loglevel", "WARNING", "--exit-code-on-error", str(LOCUST_FAILURES_EXIT),
    ]
    if plan.remote:  # workers on other machines (archsim loadtest-worker) connect to this master
        bind, port = master or ("127.0.0.1", free_port())
        command += ["--master", "--expect-workers", str(plan.workers), "--master-bind-host", bind,
                    "--master-bind-port", str(port), "--expect-workers-max-wait", str(int(workers_wait_s))]
    elif plan.workers > 1:  # Locust's own master/worker mode on this machine, on a free port
        port = free_port()
        command += ["--processes", str(plan.workers), "--master-bind-host", "127.0.0.1",
                    "--master-bind-port", str(port), "--master-port", str(port)]
    return command


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop(process: subprocess.Popen) -> None:
    """Ask every Locust process to stop (they write their files on SIGTERM), then kill the group."""
    pgid = process.pid  # start_new_session: the group is the Locust master's pid
    if process.poll() is None or _group_alive(pgid):
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline and (process.poll() is None or _group_alive(pgid)):
        time.sleep(0.05)
    if _group_alive(pgid):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()


def run_locust(command: list[str], env: dict[str, str], log_path: Path, timeout_s: float, cwd: Path,
               watch: CpuWatch | None = None) -> int:
    """Run Locust to completion (stderr and stdout to ``log_path``); every process always reaped."""
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                                   start_new_session=True)  # Ctrl-C reaches us; we stop Locust ourselves
        if watch is not None:
            watch.start(process.pid)
        try:
            return process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise EnvironmentProblem(f"locust did not finish within {timeout_s:.0f} s; see {log_path}") from None
        finally:
            if watch is not None:
                watch.stop()
            _stop(process)


def _log_tail(log_path: Path) -> str:
    lines = [line for line in log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else "no output"


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
    thresholds: list[Threshold] | None = None,
    allow_late: bool = False,
    on_running: Callable[[], None] | None = None,
    master: tuple[str, int] | None = None,
    workers_wait_s: float = 300.0,
) -> dict[str, Any]:
    """Run the load test and write the run directory; returns the summary (status ``ok`` or
    ``invalid``, thresholds judged). Raises :class:`RunFailed` (status ``error``, what was measured
    kept) when the target refused or died or Locust failed, and ``KeyboardInterrupt`` after
    writing what was measured (status ``interrupted``). ``on_running`` is called once the target
    accepted a connection, just before Locust starts."""
    run_dir = Path(run_dir).resolve()  # Locust runs in the locustfile's folder
    locustfile = Path(locustfile).resolve()
    locust_dir = run_dir / LOCUST_DIR
    record_dir = locust_dir / "records"
    if record_dir.exists():
        shutil.rmtree(record_dir)
    record_dir.mkdir(parents=True)
    started = time.perf_counter()
    command = locust_command(locustfile, host, locust_dir / "locust", plan, master, workers_wait_s)
    summary = rundir.new_summary(
        loaded, source="measured", seed=plan.seed, replications=1, duration_s=plan.duration_s,
        warmup_s=plan.warmup_s, metrics_interval_s=plan.interval_s,
        target_host=host, locustfile=str(locustfile), command=command, workers=plan.workers,
    )
    rundir.write_scenario(run_dir, loaded.raw, {"file": loaded.file, "variants": {variant: _resolved(loaded, variant)}})
    plan_path = locust_dir / "plan.json"
    rundir.atomic_write(plan_path, plan.to_json())
    rundir.write_json(run_dir / "summary.json", summary)
    env = {**os.environ, PLAN_ENV: str(plan_path), RECORD_ENV: str(record_dir)}
    watch = CpuWatch()
    code = None
    try:
        check_reachable(host)
        if on_running is not None:
            on_running()
        code = run_locust(command, env, locust_dir / "locust.log", plan.duration_s + plan.drain_s + 90 + (workers_wait_s if plan.remote else 0), locustfile.parent, watch)
        if not list(record_dir.glob("record-*.json")):
            raise RunFailed(f"locust exited with code {code} and recorded nothing: {_log_tail(locust_dir / 'locust.log')} (log: {locust_dir / 'locust.log'})")
        if code not in (0, LOCUST_FAILURES_EXIT):
            raise RunFailed(f"locust exited with code {code}: {_log_tail(locust_dir / 'locust.log')} (log: {locust_dir / 'locust.log'})")
        summary["status"] = "ok"
    except KeyboardInterrupt:
        summary["status"] = "interrupted"
        summary["error"] = "interrupted by the user (Ctrl-C); what was measured is kept"
        raise
    except Exception as exc:  # noqa: BLE001 - recorded, then re-raised for the caller to report
        summary["status"] = "error"
        summary["error"] = str(exc) if isinstance(exc, ArchsimError) else f"{exc.__class__.__name__}: {exc}"
        if isinstance(exc, RunFailed):
            exc.run_dir = run_dir
        raise
    finally:
        record = _write_results(summary, plan, run_dir, record_dir, variant, description, host,
                                {**(extras or {}), **({"generator": watch.summary()} if watch.samples else {})})
        if record is not None:
            verdict = judge(summary["variants"][variant], plan, record, thresholds or [], allow_late=allow_late)
            summary["checks"] = verdict.as_dict()
            if summary["status"] == "ok" and verdict.status != "ok":
                summary["status"] = verdict.status
                summary["error"] = "; ".join(verdict.problems)
            workers = worker_report(record_dir, plan, _read_records(record_dir))
            if workers is not None:  # a worker that left early or disconnected is never merged as complete
                summary["checks"]["workers"] = workers
                if workers["problems"] and summary["status"] in ("ok", "invalid"):
                    summary["status"] = "error"
                    summary["checks"]["status"] = "error"
                    summary["checks"]["problems"] = workers["problems"] + summary["checks"]["problems"]
                    summary["error"] = "; ".join(summary["checks"]["problems"])
            summary["passed"] = summary["status"] == "ok" and verdict.thresholds_passed
        else:
            summary["passed"] = False
        summary["run"]["wall_time_s"] = time.perf_counter() - started
        summary["run"]["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        rundir.write_json(run_dir / "summary.json", summary)
    if summary["status"] == "error":
        raise RunFailed(summary["error"], run_dir=run_dir, summary=summary)
    return summary


def _resolved(loaded: LoadedScenario, variant: str) -> dict[str, Any]:
    chosen = next((v for v in loaded.variants if v.name == variant), None)
    scenario = chosen.scenario if chosen else loaded.base
    return scenario.model_dump(mode="json", by_alias=True, exclude={"variants"})


def _write_results(summary: dict[str, Any], plan: LoadPlan, run_dir: Path, record_dir: Path, variant: str,
                   description: str, host: str, extras: dict[str, Any]) -> dict[str, Any] | None:
    """Merge and convert whatever the processes recorded (nothing, if Locust never started)."""
    records = _read_records(record_dir)
    if not records:
        return None
    if plan.remote and "generator" in extras:  # this machine ran the master only: add what the workers used
        extras = {**extras, "generator": remote_generator(extras["generator"], records)}
    record = merge_records(records)
    rundir.write_json(run_dir / LOCUST_DIR / "record.json", record)
    block = variant_block(record, plan, description=description, extras={**extras, **load_extras(record, plan, host)})
    summary["variants"][variant] = block
    rundir.atomic_write(run_dir / "timeseries.csv", rundir.timeseries_csv(timeseries_rows(record, plan, variant)))
    locust_stats = run_dir / LOCUST_DIR / "locust_stats.csv"
    if locust_stats.exists():  # Locust's own numbers are the reference format: keep them as they are
        shutil.copyfile(locust_stats, run_dir / f"{variant}_stats.csv")
    else:
        rundir.atomic_write(run_dir / f"{variant}_stats.csv", rundir.locust_stats_csv(block, request_type="GET"))
    return record


def _read_records(record_dir: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted(record_dir.glob("record-*.json")):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue  # a process killed while writing: its record is lost, the others count
    return records


def remote_generator(master: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """The generator's CPU with workers on other machines: the master's (watched here) plus each
    worker's own (``cpu`` in its record); the machine figures stay this machine's."""
    cpus = [r["cpu"] for r in records if isinstance(r.get("cpu"), dict)]
    return {
        **master,
        "processes": master.get("processes", 0) + len(records),
        "mean_cores": master.get("mean_cores", 0.0) + sum(c.get("mean_cores", 0.0) for c in cpus),
        "busiest_process_share": max([master.get("busiest_process_share", 0.0), *(c.get("busiest_share", 0.0) for c in cpus)]),
    }
