"""Work-queue speed: 2 local workers over 1, Dask LocalCluster against the local pool, per-task overhead.

A CPU-bound sweep (an M/M/1-like service, 8 points x 2 replications = 16 tasks of 0.6-1.8 s,
their size proportional to the rate) runs as a user runs it: ``run_scenario(jobs=...)``, the
executor each setting picks by default, fresh run directories. Each figure is the wall time of the
whole run: executor start-up (forkserver and its imports, or the LocalCluster and its nannies),
every task, writing the results, shutting the executor down. Start-up is also timed on its own,
so the overhead of Dask is given with and without it (without: what a user of an already running
cluster, ``--dask tcp://...``, pays).

Setups, repeats interleaved (every setup once per round, so a change in the machine's load hits
all of them):

- ``inline``: ``--jobs 1`` (no worker process: the user's default for one job);
- ``pool-1``: a one-worker process pool (the same machinery as ``pool-2``, so their ratio is the
  speed-up from the second worker alone);
- ``pool-2``: ``--jobs 2``; ``dask-2``: ``--jobs 2 --dask local``.

The machine may be shared: besides ``os.getloadavg`` each repeat records the CPU the rest of the
machine used meanwhile (from ``/proc/stat``, minus this process tree; for pool workers their task
time stands in for their CPU, so under contention the figure is a lower bound), in cores.

    python benchmarks/sweep.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import yaml

import simulator.runner as runner
from simulator.runner import run_scenario
from simulator.scenario import load_scenario
from simulator.sweep import executors
from simulator.sweep.processes import default_jobs

SCENARIO = {
    "name": "bench-sweep", "seed": 1, "duration": "3000s", "warmup": "10s", "replications": 2, "metrics_interval": "3000s",
    "workload": {"rate": "100/s"}, "classes": {"get": {"calls": ["api.get"]}},
    "services": {"api": {"instances": 1, "cores": 2, "operations": {"get": {"service_time": "exp(10ms)"}}}},
    "sweep": {"grid": {"workload.rate": [60, 80, 100, 120, 140, 160, 170, 180]}},
}
TASKS = 16
SETUPS = {"inline": {"jobs": 1}, "pool-1": {"jobs": 1, "pool": True}, "pool-2": {"jobs": 2}, "dask-2": {"jobs": 2, "dask": "local"}}


def machine_busy_s() -> float:
    """CPU-seconds every process on the machine has used (``/proc/stat``: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU-seconds of this process and its reaped descendants (nannies and their Dask workers; not
    pool workers: they are children of the forkserver, which lives until this process exits)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(loaded, setup: dict) -> dict[str, float]:
    """One run: wall time, summed in-task simulation time, the cores the rest of the machine used,
    and its phases (from the progress callback, which the queue calls once the executor is
    entered and after each finished task): ``entered`` (executor start-up), ``first`` and ``last``
    (results), all from the start of the run."""
    busy0, own0 = machine_busy_s(), own_cpu_s()
    marks: list[float] = []

    def progress(done: float, total: int) -> None:
        if done == int(done) and len(marks) <= done:  # the executor entered, then each finished task (not partial shares)
            marks.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        if setup.get("pool"):  # --jobs 1 would run inline: force a one-worker pool
            runner.make_executor = lambda jobs, dask, tasks: executors.PoolExecutor(1)
            try:
                summary = run_scenario(loaded, Path(out), jobs=1, progress=progress)
            finally:
                runner.make_executor = executors.make_executor
        else:
            summary = run_scenario(loaded, Path(out), jobs=setup["jobs"], dask=setup.get("dask"), progress=progress)
        wall = time.perf_counter() - started
    busy = sum(v["wall_time_s"] for v in summary["variants"].values())
    ours = (own_cpu_s() - own0) + (busy if summary["run"]["executor"] == "processes" else 0.0)  # pool workers: their task time
    others = max(0.0, (machine_busy_s() - busy0) - ours) / wall
    entered, first, last = (marks[i] - started for i in (0, 1, -1))
    return {"wall": wall, "busy": busy, "others": others, "entered": entered, "first": first, "last": last}


def start_up_s(setup: dict) -> float:
    """Entering and leaving the executor alone (no tasks)."""
    started = time.perf_counter()
    if setup.get("dask"):
        with executors.DaskExecutor(setup["dask"], setup["jobs"]):
            pass
    else:
        with executors.PoolExecutor(setup["jobs"]) as pool:
            pool._pool.submit(int).result()  # a trivial call, so the workers really start (and import the simulator)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.yaml"
        path.write_text(yaml.safe_dump(SCENARIO))
        loaded = load_scenario(path)
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {default_jobs()}")
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in SETUPS}
    starts: dict[str, list[float]] = {"pool-1": [], "pool-2": [], "dask-2": []}
    for _ in range(args.repeats):  # interleaved rounds
        for name, setup in SETUPS.items():
            runs[name].append(timed(loaded, setup))
        for name in starts:
            starts[name].append(start_up_s(SETUPS[name]))
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    med = {name: statistics.median(r["wall"] for r in rs) for name, rs in runs.items()}
    for name, rs in runs.items():
        walls = ", ".join(f"{r['wall']:.2f}" for r in rs)
        others = ", ".join(f"{r['others']:.2f}" for r in rs)
        print(f"{name}: median {med[name]:.2f} s over {args.repeats} interleaved repeats ({walls}); "
              f"rest of the machine meanwhile: {others} cores")
    print("phases (medians, seconds from the start of the run): executor entered / first result / last result / end")
    for name, rs in runs.items():
        phase = {key: statistics.median(r[key] for r in rs) for key in ("entered", "first", "last", "wall")}
        print(f"  {name}: {phase['entered']:.2f} / {phase['first']:.2f} / {phase['last']:.2f} / {phase['wall']:.2f} "
              f"(after the last result: {phase['wall'] - phase['last']:.2f} s)")
    start = {name: statistics.median(v) for name, v in starts.items()}
    print(f"executor start-up and shut-down alone (medians): pool-1 {start['pool-1']:.2f} s, pool-2 {start['pool-2']:.2f} s, "
          f"dask-2 {start['dask-2']:.2f} s")
    work = statistics.median(r["busy"] for r in runs["inline"])
    print(f"simulation inside the tasks (inline, summed): {work:.2f} s; ideal on 2 workers: {work / 2:.2f} s")
    print(f"speed-up 2 workers / 1 worker (pool-1 / pool-2): {med['pool-1'] / med['pool-2']:.2f}x (target >= 1.8x); "
          f"--jobs 1 / --jobs 2 (inline / pool-2): {med['inline'] / med['pool-2']:.2f}x")
    dask_total = med["dask-2"] / med["pool-2"] - 1
    dask_running = (med["dask-2"] - start["dask-2"]) / (med["pool-2"] - start["pool-2"]) - 1
    print(f"Dask LocalCluster overhead over the local pool (2 workers): {dask_total:+.1%} with cluster start-up, "
          f"{dask_running:+.1%} without (target <= 15%)")
    per_task = statistics.median(r["wall"] - r["busy"] for r in runs["pool-1"]) / TASKS  # same run: contention cancels
    print(f"per-task overhead (1-worker pool: run wall minus its tasks' own time, per task; start-up included): {per_task * 1000:.0f} ms")


if __name__ == "__main__":
    main()
