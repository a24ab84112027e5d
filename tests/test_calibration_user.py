"""``archsim calibrate --scenario FILE --host URL`` fits a user's running system, end to end.

The system is real: ``loadtests/examples/cpu_server.py``, a Python HTTP server on a free loopback
port whose two paths cost a known CPU time (``/light`` 4 ms, ``/heavy`` 12 ms of the handling
thread's own CPU, so 0.7 × 4 + 0.3 × 12 = 6.4 ms per request at the example's mix), run inside a
cgroup v2 directory the test creates. The calibration is the real command in a subprocess, with
short load tests (ramp steps of 4 s, two levels × two repetitions of 8 s).

Tolerance: 25%. The CPU counters measure CPU, not wall time, so contention from the other
processes of this shared 2-core machine does not bias them; what separates the fit from the
known cost is the server's own per-request HTTP handling (parsing, the response, the thread
switch: about 0.1-0.5 ms, 2-8% of 6.4 ms) and the noise of four 6-second windows (the
regression's bootstrap standard error was 0.1 ms, under 2%, in the runs that set this bound).
25% leaves that a margin of three: a correct calibration does not fail it by chance; a wrong
attribution of CPU (a factor of the mix, a unit slip) does. Measured when written (12:50 UTC,
machine shared by seven sessions): 6.34 ms and 6.39 ms per request (−1%, 0%).

With the header, each path's demand in the calibrated file *is* its reports' mean (the
response-time estimator only cross-checks it), so it is asserted per path within the same 25%.
The per-path split from response times alone (the cgroup run) is *not* asserted: it rests on
latency differences between the paths, which the shared machine's contention blurs run to run;
docs/calibration.md reports it. The calibrated file of this loopback target shares the machine's
cores with the load generator (``hosts:``), whose CPU per request is measured from its processes.
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
import yaml

from simulator.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "loadtests" / "examples" / "cpu_server.py"
SCENARIO = REPO / "loadtests" / "examples" / "cpu-server.yaml"
KNOWN_MS = {"light": 4.0, "heavy": 12.0}
MIX = {"light": 0.7, "heavy": 0.3}
PER_REQUEST_MS = sum(MIX[c] * KNOWN_MS[c] for c in MIX)  #: 6.4 ms
TOLERANCE = 0.25
SHORT = ["--levels", "30%,70%", "--hold-out", "none", "--duration", "8s", "--warmup", "2s", "--ramp-step", "4s"]


def cgroup2_root() -> Path | None:
    """Where cgroup v2 is mounted, if this process may create cgroups there (root)."""
    if os.geteuid() != 0:
        return None
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[2] == "cgroup2":
            return Path(fields[1])
    return None


class Server:
    """The example server as a child process on a free port (optionally in a new cgroup)."""

    def __init__(self, *args: str, cgroup: Path | None = None):
        argv = [sys.executable, str(SERVER), "--port", "0", *args, *(["--cgroup", str(cgroup)] if cgroup else [])]
        self.cgroup = cgroup
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        assert line.startswith("listening on "), line
        self.url = line.removeprefix("listening on ")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.cgroup is not None and self.cgroup.is_dir():
            for _ in range(50):  # the kernel empties the cgroup just after the process exits
                try:
                    self.cgroup.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


def calibrate(*args: str, cwd: Path, timeout_s: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "400"}  # one line stays one line
    return subprocess.run([sys.executable, "-m", "simulator.cli", "calibrate", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout_s)


@pytest.fixture(scope="module")
def cgroup_calibration(tmp_path_factory):
    root = cgroup2_root()
    if root is None:
        pytest.skip("needs root and a cgroup v2 mount to put the example server in a cgroup of its own")
    where = tmp_path_factory.mktemp("user-cgroup")
    server = Server(cgroup=root / f"archsim-test-{os.getpid()}")
    try:
        done = calibrate("--scenario", str(SCENARIO), "--host", server.url, "--cpu-source", f"cgroup:{server.cgroup}",
                         *SHORT, "--out", str(where / "m"), "--calibrated", str(where / "cpu-server.yaml"), cwd=where)
    finally:
        server.stop()
    return where, done


def test_a_cgroup_calibration_writes_the_users_scenario_with_fitted_demands_and_a_report(cgroup_calibration):
    where, done = cgroup_calibration
    assert done.returncode == 0, done.stderr[-2000:]
    assert "archsim starts no containers" in done.stderr
    calibrated = where / "cpu-server.yaml"
    text = calibrated.read_text()
    data = yaml.safe_load(text)
    assert data["name"] == "cpu-server" and data["classes"]["light"]["http"]["path"] == "/light"  # the user's file
    fitted = [line for line in text.splitlines() if "service_time:" in line]
    assert len(fitted) == 2 and all("# fitted mean" in line and "response-time estimator over 4 runs" in line and "±" in line
                                    for line in fitted)
    assert "exp(1ms)" not in text  # the guesses are gone
    load_scenario(calibrated, ["workload.rate=30/s"])  # simulates at a rate of the user's choosing
    report = (where / "m" / "report" / "report.md").read_text()
    assert "cgroup:" in report and (where / "m" / "report" / "report.html").is_file()
    manifest = json.loads((where / "m" / "measurements.json").read_text())
    assert manifest["source"] == "user-system" and all(r["status"] == "ok" for r in manifest["runs"]) and len(manifest["runs"]) == 4


def test_the_cgroup_cpu_per_request_is_the_servers_known_cost(cgroup_calibration):
    where, done = cgroup_calibration
    assert done.returncode == 0, done.stderr[-2000:]
    checks = json.loads((where / "m" / "report" / "calibration.json").read_text())["cross_checks"]
    regression = next(c["other"] for c in checks if c["other"]["source"].startswith("utilisation regression"))
    assert regression["value"] * 1e3 == pytest.approx(PER_REQUEST_MS, rel=TOLERANCE)


def test_a_cpu_header_gives_each_paths_known_cost_and_its_shape(tmp_path):
    server = Server()
    try:
        done = calibrate("--scenario", str(SCENARIO), "--host", server.url, "--cpu-source", "header:X-CPU-Time-Ms",
                         *SHORT, "--out", str(tmp_path / "m"), "--calibrated", str(tmp_path / "cal.yaml"), cwd=tmp_path)
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr[-2000:]
    calibration = json.loads((tmp_path / "m" / "report" / "calibration.json").read_text())
    for op, known_ms in KNOWN_MS.items():
        check = next(c for c in calibration["cross_checks"] if c["quantity"] == f"app.{op}: demand")
        demand = calibration["parameters"]["demands"][f"app.{op}"]
        assert "per-request CPU reports" in demand["source"] and check["model"] == demand  # the reports are the model's demand
        assert check["other"]["source"].startswith("response-time estimator")  # ... and the estimator checks it
        assert demand["value"] * 1e3 == pytest.approx(known_ms, rel=TOLERANCE)
    text = (tmp_path / "cal.yaml").read_text()
    assert "cv" in text and "assumed exponential" not in text  # the shape is fitted from the reports
    hosts = yaml.safe_load(text)["hosts"]  # the server shared this machine with the load generator
    assert hosts["cores"] == len(os.sched_getaffinity(0)) and hosts["cpu"] == "shared"
    assert 0.1 < float(hosts["load_generator"]["cpu_per_request"].removesuffix("ms")) < 10  # measured from Locust's processes
    load_scenario(tmp_path / "cal.yaml", ["workload.rate=30/s"])


def test_without_a_cpu_source_only_the_response_time_estimator_runs_and_the_report_says_so(tmp_path):
    server = Server()
    try:
        done = calibrate("--scenario", str(SCENARIO), "--host", server.url, "--cpu-source", "none",
                         *SHORT, "--out", str(tmp_path / "m"), "--calibrated", str(tmp_path / "cal.yaml"), cwd=tmp_path)
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr[-2000:]
    calibration = json.loads((tmp_path / "m" / "report" / "calibration.json").read_text())
    assert calibration["cross_checks"] == []
    assert "response-time estimation alone" in (tmp_path / "m" / "report" / "report.md").read_text()
    assert "response-time estimation alone" in (tmp_path / "cal.yaml").read_text()
