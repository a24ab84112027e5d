"""A calibration that meets a fault ends with one line and a non-zero exit, keeps what it measured, and
leaves no container behind.

The erroring target, the target that dies mid-calibration and the interruption are real: the
example server of ``loadtests/examples/cpu_server.py`` on a free loopback port, calibrated through
the real command (``--scenario``; no containers). The deployment that fails to start is an adapter
unit test of the style path with the deploy lifecycle replaced (the real container calibration is
``tests/containers/test_calibration_monolith.py``): it checks that the containers of the project
are removed and the folder is kept when ``deploy up`` fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.calibration import orchestrate
from simulator.errors import EnvironmentProblem

sys.path.insert(0, str(Path(__file__).parent))
from test_calibration_user import REPO, SCENARIO, SHORT, Server, calibrate  # noqa: E402


def manifest(folder: Path) -> dict:
    return json.loads((folder / "measurements.json").read_text())


def last_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert "Traceback" not in stderr
    return lines[-1]


def test_a_target_that_answers_only_errors_ends_the_calibration_in_one_line_and_keeps_the_run(tmp_path):
    server = Server("--fail-after", "0")
    try:
        done = calibrate("--scenario", str(SCENARIO), "--host", server.url, *SHORT, "--out", str(tmp_path / "m"), cwd=tmp_path)
    finally:
        server.stop()
    assert done.returncode == 2
    line = last_line(done.stderr)
    assert line.startswith("error: load test ramp-20 at 20/s failed (exit 1): error: no request succeeded")
    assert "status 500" in line and "readable by --from" in line and "archsim started no containers" in line
    runs = manifest(tmp_path / "m")["extras"]["ramp_runs"]
    assert [r["status"] for r in runs] == ["error"]
    assert (tmp_path / "m" / "ramp" / "ramp-20" / "summary.json").is_file()  # the failed run's measurements are kept


def wait_for(predicate, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def ok_ramp_runs(folder: Path) -> int:
    try:
        return sum(r["status"] == "ok" for r in manifest(folder)["extras"].get("ramp_runs", []))
    except (OSError, ValueError, KeyError):
        return 0


def start_calibration(server: Server, folder: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "400"}
    return subprocess.Popen([sys.executable, "-m", "simulator.cli", "calibrate", "--scenario", str(SCENARIO), "--host", server.url,
                             *SHORT, "--out", str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=folder.parent)


def test_a_target_that_stops_answering_mid_calibration_ends_it_in_one_line(tmp_path):
    server = Server()
    folder = tmp_path / "m"
    process = start_calibration(server, folder)
    try:
        wait_for(lambda: ok_ramp_runs(folder) >= 1, 300)
        server.stop()  # connection refused from now on
        _, stderr = process.communicate(timeout=300)
    finally:
        server.stop()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2
    line = last_line(stderr)
    assert "readable by --from" in line and "archsim started no containers" in line
    kept = manifest(folder)
    statuses = [r["status"] for r in kept["extras"]["ramp_runs"] + kept["runs"]]  # the ramp's runs, then the levels'
    assert statuses[0] == "ok" and statuses[-1] == "error" and "the target does not accept connections" in line


def test_sigterm_ends_a_calibration_with_one_line_exit_143_and_the_folder_readable_by_from(tmp_path):
    server = Server()
    folder = tmp_path / "m"
    process = start_calibration(server, folder)
    try:
        wait_for(lambda: ok_ramp_runs(folder) >= 1, 300)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    finally:
        server.stop()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143
    line = last_line(stderr)
    assert line.startswith("interrupted (SIGTERM): measurements so far in") and "readable by --from" in line
    runs = manifest(folder)["extras"]["ramp_runs"]
    assert runs[0]["status"] == "ok" and runs[-1]["status"] in ("ok", "interrupted")  # the signal may fall between two runs
    assert all(r["status"] != "error" for r in runs)
    rebuilt = calibrate("--from", str(folder), cwd=tmp_path)  # too few runs to fit, said in one line
    assert rebuilt.returncode == 2
    assert "need at least 2 completed runs outside the hold-out to fit, found 0" in last_line(rebuilt.stderr)


class FakeEngine:
    """Stands in for the container engine: the style path must call ``down`` for its project."""


def test_a_deployment_that_fails_to_start_removes_the_projects_containers_and_keeps_the_folder(tmp_path, monkeypatch):
    removed: list[str] = []

    def up(engine, style, *, project, **_options):
        raise EnvironmentProblem(f"deploy up {style}: container {project}-monolith-1 exited with code 1 (bad image tag)")

    def down(engine, project):
        removed.append(project)
        return 2

    monkeypatch.setattr(orchestrate, "detect", lambda _name: FakeEngine())
    monkeypatch.setattr(orchestrate.lifecycle, "up", up)
    monkeypatch.setattr(orchestrate.lifecycle, "down", down)
    loop = orchestrate.Loop("monolith", tmp_path / "m", levels=[0.5], hold_out=None, duration_s=10, warmup_s=2, repetitions=2,
                            ramp_step_s=4, log=lambda _line: None)
    with pytest.raises(EnvironmentProblem, match="exited with code 1"):
        loop.run()
    assert removed == [loop.project]
    assert manifest(tmp_path / "m")["style"] == "monolith"


@pytest.mark.parametrize("args, says", [
    (["--scenario", "scenarios/http-site.yaml", "--host", "http://127.0.0.1:9"], "no `services`"),
    (["--scenario", str(SCENARIO), "--host", "http://127.0.0.1:9", "--cpu-source", "cgroup:/no/such/cgroup"], "no cgroup v2 cpu.stat"),
    (["--scenario", str(SCENARIO), "--host", "http://127.0.0.1:9", "--cpu-source", "gpu"], "expected cgroup:PATH, header:NAME or none"),
    (["--scenario", str(SCENARIO)], "--scenario FILE and --host URL go together"),
    (["monolith", "--scenario", str(SCENARIO), "--host", "http://127.0.0.1:9"], "STYLE and --scenario exclude each other"),
])
def test_bad_input_to_a_user_calibration_is_one_line_and_exit_2_before_any_load(args, says, tmp_path):
    done = calibrate(*args, "--out", str(tmp_path / "m"), cwd=REPO)
    assert done.returncode == 2 and says in last_line(done.stderr)
    assert not (tmp_path / "m").exists()
