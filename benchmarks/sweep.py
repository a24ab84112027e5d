"""Work-queue speed: 2 local workers over 1, Dask LocalCluster against the local pool, per-task overhead.

A CPU-bound sweep (an M/M/1-like service, 8 points x 2 replications = 16 tasks of about 1.5 s)
runs with each executor, repeats interleaved, fresh run directories; prints medians and ratios.
The machine may be shared: ratios are measured in the same run, and `uptime` is printed.

    python benchmarks/sweep.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from simulator.runner import run_scenario
from simulator.scenario import load_scenario

SCENARIO = {
    "name": "bench-sweep", "seed": 1, "duration": "3000s", "warmup": "10s", "replications": 2, "metrics_interval": "3000s",
    "workload": {"rate": "100/s"}, "classes": {"get": {"calls": ["api.get"]}},
    "services": {"api": {"instances": 1, "cores": 2, "operations": {"get": {"service_time": "exp(10ms)"}}}},
    "sweep": {"grid": {"workload.rate": [60, 80, 100, 120, 140, 160, 170, 180]}},
}
SETUPS = {"pool-1": {"jobs": 1, "force_pool": True}, "pool-2": {"jobs": 2}, "dask-2": {"jobs": 2, "dask": "local"}}


def timed(loaded, setup: dict) -> tuple[float, float]:
    """Wall time of the run and the summed in-task simulation time."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        if setup.get("force_pool"):
            from simulator.sweep import executors
            real = executors.make_executor
            executors_module_make = lambda jobs, dask, tasks: executors.PoolExecutor(1)  # noqa: E731
            import simulator.runner as runner
            runner.make_executor = executors_module_make
            try:
                summary = run_scenario(loaded, Path(out), jobs=1)
            finally:
                runner.make_executor = real
        else:
            summary = run_scenario(loaded, Path(out), jobs=setup["jobs"], dask=setup.get("dask"))
        wall = time.perf_counter() - started
    return wall, sum(v["wall_time_s"] for v in summary["variants"].values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.yaml"
        path.write_text(yaml.safe_dump(SCENARIO))
        loaded = load_scenario(path)
    tasks = 16
    print(f"load before: {os.getloadavg()}")
    walls = {name: [] for name in SETUPS}
    work = []
    for _ in range(args.repeats):  # interleaved
        for name, setup in SETUPS.items():
            wall, busy = timed(loaded, setup)
            walls[name].append(wall)
            if name == "pool-1":
                work.append(busy)
    print(f"load after: {os.getloadavg()}")
    med = {name: statistics.median(v) for name, v in walls.items()}
    for name, value in med.items():
        print(f"{name}: median {value:.2f} s over {args.repeats} interleaved repeats ({', '.join(f'{w:.2f}' for w in walls[name])})")
    print(f"speed-up 2 workers / 1 worker: {med['pool-1'] / med['pool-2']:.2f}x (target >= 1.8x)")
    print(f"Dask LocalCluster overhead over the local pool (2 workers): {med['dask-2'] / med['pool-2'] - 1:+.1%} (target <= 15%)")
    overhead = (med["pool-1"] - statistics.median(work)) / tasks
    print(f"per-task overhead (1-worker pool wall minus simulation time, per task): {overhead * 1000:.0f} ms")


if __name__ == "__main__":
    main()
