"""Stopping a run at any moment: a real ``archsim run`` on two worker processes, sent a signal the
way a terminal's Ctrl-C sends it (to the whole foreground process group: the run, its forkserver
and its workers), while it starts, while its pool starts, while tasks run and while it writes a
result. Every time it exits 130 with one line, keeps every finished task (``--resume`` carries on)
and leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from simulator.sweep.processes import default_jobs, signals_deferred

ROOT = Path(__file__).resolve().parent.parent

#: 4 points x 2 variants x 2 replications = 16 tasks of about half a second each.
SCENARIO = {
    "name": "stop", "seed": 3, "duration": "300s", "warmup": "10s", "replications": 2, "metrics_interval": "60s",
    "workload": {"rate": "50/s"}, "classes": {"get": {"calls": ["api.get"]}},
    "services": {"api": {"instances": 1, "cores": 2, "operations": {"get": {"service_time": "exp(20ms)"}}}},
    "variants": [{"name": "one", "set": {"services.api.instances": 1}}, {"name": "two", "set": {"services.api.instances": 2}}],
    "sweep": {"grid": {"workload.rate": [20, 40, 60, 80]}},
}
TASKS = 16


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stop") / "stop.yaml"
    path.write_text(yaml.safe_dump(SCENARIO, sort_keys=False))
    return path


def start(*args: str) -> subprocess.Popen:
    """``archsim run`` in a session of its own: its process group stands for the terminal's."""
    return subprocess.Popen([sys.executable, "-m", "simulator.cli", "run", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def session_processes(session: int) -> list[str]:
    """``pid: command line`` of every live process of a session (zombies are already gone)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        state, _, _, sid = text[text.rindex(")") + 2:].split()[:4]
        if int(sid) == session and state != "Z":
            found.append(f"{stat.parent.name}: {command}")
    return found


def leftovers(session: int, within_s: float = 10.0) -> list[str]:
    """The session's processes still alive ``within_s`` after the run exited (the forkserver and the
    resource tracker exit by themselves once the run is gone; workers must have been stopped)."""
    deadline = time.monotonic() + within_s
    while (alive := session_processes(session)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def task_files(run_dir: Path) -> set[str]:
    return {str(p.relative_to(run_dir)) for p in run_dir.glob("tasks/*/replication-*.json")}


def wait_for(condition, process: subprocess.Popen, timeout_s: float = 120.0, step_s: float = 0.01) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never got there"
        time.sleep(step_s)


def stopped(process: subprocess.Popen, sig: int = signal.SIGINT) -> tuple[int, list[str]]:
    """Send ``sig`` to the run's whole process group; its exit code and its stderr lines."""
    os.killpg(process.pid, sig)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, [line for line in stderr.splitlines() if line.strip()]


def forkserver_started(session: int) -> bool:
    """The run's forkserver is up: the run command has begun (it starts the forkserver before it
    imports the engine and loads the scenario)."""
    return any("multiprocessing.forkserver import main" in line for line in session_processes(session))


#: When the signal is sent: a condition on the session and the run directory, polled every 10 ms.
MOMENTS = {
    "while it imports the engine and loads the scenario": lambda session, run_dir: forkserver_started(session),
    "while its pool starts": lambda session, run_dir: (run_dir / "summary.json").exists(),
    "while tasks run": lambda session, run_dir: len(task_files(run_dir)) >= 4,
    "while it writes a result": lambda session, run_dir: len(task_files(run_dir)) >= TASKS - 2,
}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_ctrl_c_at_any_moment_exits_130_with_one_line_keeps_finished_tasks_and_leaves_no_process(scenario_file, tmp_path, moment):
    run_dir = tmp_path / "run"
    process = start(str(scenario_file), "--jobs", "2", "-q", "--no-charts", "--out", str(run_dir))
    wait_for(lambda: MOMENTS[moment](process.pid, run_dir), process, step_s=0.002)
    finished_before = task_files(run_dir)
    code, lines = stopped(process)

    assert code == 130, lines
    assert len(lines) == 1 and lines[0].startswith("interrupted"), lines
    assert leftovers(process.pid) == []
    assert finished_before <= task_files(run_dir)
    if (run_dir / "summary.json").exists():
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["status"] == "interrupted"
        assert lines == [f"interrupted: finished tasks are kept in {run_dir}; carry on with: archsim run --resume {run_dir}"]
        assert summary["run"]["tasks"]["ran"] == len(task_files(run_dir)) < TASKS


def test_after_ctrl_c_resume_runs_only_the_unfinished_tasks(scenario_file, tmp_path):
    run_dir = tmp_path / "run"
    process = start(str(scenario_file), "--jobs", "2", "-q", "--no-charts", "--out", str(run_dir))
    wait_for(lambda: len(task_files(run_dir)) >= 6, process)
    code, _ = stopped(process)
    assert code == 130
    kept = len(task_files(run_dir))

    resumed = start("--resume", str(run_dir), "--jobs", "2", "--no-charts")
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert f"resumed: {kept} finished task(s) kept, {TASKS - kept} run now" in stderr
    assert json.loads((run_dir / "summary.json").read_text())["run"]["tasks"] == {"total": TASKS, "reused": kept, "ran": TASKS - kept}


def test_sigterm_while_tasks_run_records_the_stop_keeps_finished_tasks_and_leaves_no_process(scenario_file, tmp_path):
    """SIGTERM (a scheduler or ``kill`` stopping the run) is a failed run, not a user's Ctrl-C: exit
    143 (128 + SIGTERM) and ``status: error``, with the same guarantees."""
    run_dir = tmp_path / "run"
    process = start(str(scenario_file), "--jobs", "2", "-q", "--no-charts", "--out", str(run_dir))
    wait_for(lambda: len(task_files(run_dir)) >= 4, process)
    finished_before = task_files(run_dir)
    code, lines = stopped(process, signal.SIGTERM)

    assert (code, lines) == (143, ["error: stopped by signal SIGTERM"])
    assert leftovers(process.pid) == []
    assert finished_before <= task_files(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "error" and summary["run"]["tasks"]["ran"] == len(task_files(run_dir))


def test_jobs_default_to_one_per_core_and_a_single_task_runs_in_this_process(scenario_file, tmp_path):
    sweep = start(str(scenario_file), "--set", "duration=20s", "--set", "metrics_interval=10s", "-q", "--no-charts", "--out", str(tmp_path / "sweep"))
    single = start("scenarios/mm1.yaml", "--set", "duration=20s", "--set", "warmup=1s", "--replications", "1", "-q", "--no-charts",
                   "--out", str(tmp_path / "single"))
    for process in (sweep, single):
        assert process.wait(timeout=300) == 0, process.stderr.read()
    run = json.loads((tmp_path / "sweep" / "summary.json").read_text())["run"]
    cores = default_jobs()
    assert (run["jobs"], run["executor"], run["workers"]) == (cores, "processes" if cores > 1 else "inline", cores)
    run = json.loads((tmp_path / "single" / "summary.json").read_text())["run"]
    assert (run["jobs"], run["executor"], run["workers"]) == (cores, "inline", 1)


def test_a_ctrl_c_during_a_held_step_is_raised_once_the_step_is_done():
    log = []
    with pytest.raises(KeyboardInterrupt):
        with signals_deferred():
            signal.raise_signal(signal.SIGINT)
            log.append("step done")
        log.append("after the step")
    assert log == ["step done"]


def test_a_ctrl_c_during_the_clean_up_of_a_stopping_run_is_not_raised_again():
    log = []
    with signals_deferred(stopping=True):
        signal.raise_signal(signal.SIGINT)
        log.append("clean-up done")
    log.append("after the clean-up")
    assert log == ["clean-up done", "after the clean-up"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
