"""What a calibration run records besides Locust's figures: the load generator's CPU, the machine's, the host's cores.

The counters are checked against CPU of known size (a child process that spins for 0.4 s of its
own CPU), and a real ``archsim loadtest`` through the calibration loop against the example server
(``loadtests/examples/cpu_server.py``, 6.4 ms of CPU per request at its mix) must leave a
``cpu.csv`` whose load-generator and machine series are consistent with what the server reports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from test_calibration_user import PER_REQUEST_MS, SCENARIO, Server

from simulator.calibration import collect
from simulator.calibration import folder as folders
from simulator.calibration.structure import GENERATOR_TIER
from simulator.calibration.user import CpuSource, UserLoop

SPIN = "import time\nend = time.thread_time() + {cpu_s}\nwhile time.thread_time() < end: pass\ntime.sleep({sleep_s})\n"


def test_the_host_cores_are_the_cores_this_process_may_use():
    assert collect.host_cores() == len(os.sched_getaffinity(0))


def test_a_process_tree_counter_adds_up_the_cpu_of_every_descendant():
    # the root spawns a child that spins 0.4 s of CPU, then both sleep: the tree used at least 0.4 s
    child = SPIN.format(cpu_s=0.4, sleep_s=1.5)
    root = subprocess.Popen([sys.executable, "-c", f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {child!r}])"])
    try:
        counter = collect.ProcessTreeCpu(root.pid)
        samples = []
        for _ in range(30):  # until the child has spun (it may wait for a core on a shared machine)
            time.sleep(0.2)
            samples.append(counter())
            if samples[-1] >= 0.4:
                break
        assert samples[-1] >= 0.4
        assert samples == sorted(samples)  # cumulative: never goes back
        assert len(counter.seen) == 2  # the root and its child
    finally:
        root.wait(timeout=30)
    assert counter() == pytest.approx(samples[-1], abs=0.2)  # both exited: what they used is kept, not lost


def test_the_machine_counter_counts_cpu_spent_here():
    before = collect.machine_cpu_s()
    end = time.thread_time() + 0.3
    while time.thread_time() < end:
        pass
    assert collect.machine_cpu_s() - before >= 0.3 * 0.95  # our 0.3 s, and whatever else ran meanwhile


def test_a_real_load_test_records_the_generators_cpu_per_request_and_the_machines(tmp_path):
    lines: list[str] = []
    server = Server()
    try:
        loop = UserLoop(SCENARIO, server.url, tmp_path / "m", cpu_source=CpuSource("header", "X-CPU-Time-Ms"), allow_remote=False,
                        levels=[0.5], hold_out=None, duration_s=10.0, warmup_s=2.0, repetitions=2, ramp_step_s=4.0, log=lines.append)
        run = folders.RunRecord("30-per-s", "30%", 1, 30.0, 2.0, 10.0)
        summary = loop.load_test(run, tmp_path / "run")
    finally:
        server.stop()
    assert loop.manifest.deployment["host_cores"] == len(os.sched_getaffinity(0))
    assert loop.manifest.deployment["shares_host"] is True  # a loopback target
    cores = folders.tier_cores(tmp_path / "run" / folders.CPU_SERIES, run.warmup_s, run.duration_s)
    throughput_per_s = next(iter(summary["variants"].values()))["overall"]["throughput_per_s"]["mean"]
    assert throughput_per_s == pytest.approx(30.0, rel=0.25)
    generator_per_request_s = cores[GENERATOR_TIER] / throughput_per_s
    # Locust's FastHttpUser with the archsim shape: 0.3-3 ms of CPU per request on this machine when written
    # (the run's fixed cost, its stats and pacing, spread over only 30 requests a second)
    assert 0.1e-3 < generator_per_request_s < 10e-3
    server_cores = throughput_per_s * PER_REQUEST_MS / 1e3
    # the machine did at least the generator's and the server's work (counters of one clock, 1 s samples)
    assert cores[collect.MACHINE] >= 0.9 * (cores[GENERATOR_TIER] + server_cores)
    assert any("load generator" in line and "cores busy" in line for line in lines)
