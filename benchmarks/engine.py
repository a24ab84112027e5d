"""Engine speed and memory: archsim vs a hand-written plain-SimPy model vs Ciw.

Usage::

    pip install -e ".[bench]"
    python benchmarks/engine.py                 # 200k customers, 5 interleaved repeats
    python benchmarks/engine.py --customers 50000 --repeats 1   # a quick look

Two models, each written three ways (archsim twice):

(a) M/M/1 at utilisation 0.9 (lambda 90/s, mean service 10 ms): ``scenarios/mm1.yaml``;
(b) a 5-station tandem of single-core M/M/1 stations at 100/s (utilisations 0.5-0.8):
    ``scenarios/tandem.yaml``.

archsim runs the scenario files (with ``duration`` set so that about N customers arrive) at the
default 1 s metrics interval, the time series a user gets (``archsim``), and stripped of it, one
interval over the whole run (``archsim-stripped``), so the time series' cost is printed; plain SimPy is the textbook model (one arrival process, one process per customer,
``simpy.Resource``, running sums: no per-customer lists); Ciw 3 is the queueing-network library.
Every measurement runs in a fresh Python process so that its peak resident memory (``ru_maxrss``)
is its own; repeats are interleaved so machine load drifts affect every engine alike. The script
prints customers per CPU-second and per wall-second (medians of the repeats), peak RSS, and the
ratios the targets are stated in. Ratios are taken on CPU time (``time.process_time``; every model
runs on one thread): on a shared machine the wall clock also counts the time a process waits for a
core, which other jobs decide, so wall-time ratios of runs minutes apart swing by tens of percent;
the wall-time ratios are printed beside them. Targets, at the default interval: archsim >= 2x plain SimPy on M/M/1 and >= 2.5x on the tandem,
>= 2x Ciw, the time series costing at most 15% over none (the ratio of the medians of the two
archsim settings); archsim peak memory under 100 MB at 1,000,000 requests at the default interval
(measured separately, ``--memory-customers``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"mm1": {"rate": 90.0, "means": [0.010]}, "tandem": {"rate": 100.0, "means": [0.005, 0.006, 0.006, 0.007, 0.008]}}
ENGINES = ("archsim", "archsim-stripped", "simpy", "ciw")
DEFAULT_INTERVAL = "1s"  #: The metrics interval of a scenario that sets none (what a user gets).
#: archsim / plain SimPy targets at the default interval, per model.
SIMPY_TARGETS = {"mm1": 2.0, "tandem": 2.5}
CIW_TARGET = 2.0
TIMESERIES_BUDGET = 0.15  #: The time series may cost at most this much over none.


# --- the three implementations -------------------------------------------------------------------


def run_archsim(model: str, customers: int, seed: int, stripped: bool = False) -> int:
    from simulator.engine.simulation import simulate
    from simulator.scenario import load_scenario

    duration = customers / MODELS[model]["rate"]
    interval = f"{duration}s" if stripped else DEFAULT_INTERVAL
    loaded = load_scenario(ROOT / "scenarios" / f"{model}.yaml", [f"duration={duration}s", "warmup=0s", f"metrics_interval={interval}"], seed=seed)
    result = simulate(loaded.variants[0].scenario, 0)
    return int(result.overall["requests"])


def run_archsim_stripped(model: str, customers: int, seed: int) -> int:
    return run_archsim(model, customers, seed, stripped=True)


def run_simpy(model: str, customers: int, seed: int) -> int:
    import random

    import simpy

    spec = MODELS[model]
    rng = random.Random(seed)
    env = simpy.Environment()
    stations = [simpy.Resource(env, capacity=1) for _ in spec["means"]]
    totals = {"n": 0, "sojourn": 0.0}

    def customer(env):
        start = env.now
        for station, mean in zip(stations, spec["means"]):
            with station.request() as request:
                yield request
                yield env.timeout(rng.expovariate(1.0 / mean))
        totals["n"] += 1
        totals["sojourn"] += env.now - start

    def arrivals(env):
        while True:
            yield env.timeout(rng.expovariate(spec["rate"]))
            env.process(customer(env))

    env.process(arrivals(env))
    env.run(until=customers / spec["rate"])
    return totals["n"]


def run_ciw(model: str, customers: int, seed: int) -> int:
    import ciw

    spec = MODELS[model]
    k = len(spec["means"])
    routing = [[1.0 if j == i + 1 else 0.0 for j in range(k)] for i in range(k)]
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(spec["rate"])] + [None] * (k - 1),
        service_distributions=[ciw.dists.Exponential(1.0 / m) for m in spec["means"]],
        number_of_servers=[1] * k,
        routing=routing,
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(customers / spec["rate"])
    return len([r for r in sim.get_all_records() if r.node == k])


RUNNERS = {"archsim": run_archsim, "archsim-stripped": run_archsim_stripped, "simpy": run_simpy, "ciw": run_ciw}


ARCHSIM_IMPORTS = ["simulator.engine.simulation", "simulator.scenario"]
IMPORTS = {"archsim": ARCHSIM_IMPORTS, "archsim-stripped": ARCHSIM_IMPORTS, "simpy": ["simpy"], "ciw": ["ciw"]}


def measure(engine: str, model: str, customers: int, seed: int) -> dict:
    """Run one measurement in this process and report it.

    Library imports happen before the clock starts (they are a one-off cost per process for every
    engine); archsim's timing includes reading and validating the scenario file.
    """
    import importlib

    for module in IMPORTS[engine]:
        importlib.import_module(module)
    started, started_cpu = time.perf_counter(), time.process_time()
    done = RUNNERS[engine](model, customers, seed)
    cpu = time.process_time() - started_cpu
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    return {"engine": engine, "model": model, "customers": done, "wall_s": wall, "per_s": done / wall,
            "cpu_s": cpu, "per_cpu_s": done / cpu, "peak_rss_mb": peak_mb}


def in_subprocess(engine: str, model: str, customers: int, seed: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--one", engine, model, str(customers), str(seed)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline_rss_mb() -> float:
    """Peak RSS of a process that only imports archsim's engine (the floor under any run)."""
    code = "import resource, simulator.engine.simulation, simulator.scenario; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=200_000, help="customers per measurement (default 200000)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats; the median is reported (default 5)")
    parser.add_argument("--memory-customers", type=int, default=1_000_000, help="customers for archsim's memory check (0 to skip)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset of " + ",".join(ENGINES))
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    parser.add_argument("--one", nargs=4, metavar=("ENGINE", "MODEL", "CUSTOMERS", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        engine, model, customers, seed = args.one
        print(json.dumps(measure(engine, model, int(customers), int(seed))))
        return

    engines = [e for e in args.engines.split(",") if e]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; {args.customers:,} customers, {args.repeats} interleaved repeats\n")
    runs: list[dict] = []
    for repeat in range(args.repeats):
        for model in MODELS:
            for engine in engines:
                result = in_subprocess(engine, model, args.customers, seed=100 + repeat)
                runs.append(result)
                print(f"  repeat {repeat + 1}: {model:6s} {engine:16s} {result['per_cpu_s']:>10,.0f} customers/CPU-s"
                      f" {result['per_s']:>10,.0f} customers/s  peak {result['peak_rss_mb']:6.1f} MB", flush=True)

    print("\n| model | engine | customers per CPU-second (median) | customers per wall-second (median) | peak RSS MB |")
    print("|---|---|---:|---:|---:|")
    medians: dict[tuple[str, str], float] = {}
    wall_medians: dict[tuple[str, str], float] = {}
    for model in MODELS:
        for engine in engines:
            mine = [r for r in runs if r["model"] == model and r["engine"] == engine]
            medians[(model, engine)] = statistics.median(r["per_cpu_s"] for r in mine)
            wall_medians[(model, engine)] = statistics.median(r["per_s"] for r in mine)
            print(f"| {model} | {engine} | {medians[(model, engine)]:,.0f} | {wall_medians[(model, engine)]:,.0f} | {max(r['peak_rss_mb'] for r in mine):.0f} |")

    for mine in ("archsim", "archsim-stripped"):
        if mine not in engines:
            continue
        setting = f"default {DEFAULT_INTERVAL} metrics interval" if mine == "archsim" else "stripped: one metrics interval"
        print(f"\nratios of CPU-time medians ({mine}, {setting} / other; wall-time ratio in brackets); targets at the default interval: "
              f">= {SIMPY_TARGETS['mm1']}x plain SimPy on mm1, >= {SIMPY_TARGETS['tandem']}x on tandem, >= {CIW_TARGET}x Ciw")
        for model in MODELS:
            parts = []
            for other, target in (("simpy", SIMPY_TARGETS[model]), ("ciw", CIW_TARGET)):
                if other in engines:
                    ratio = medians[(model, mine)] / medians[(model, other)]
                    wall_ratio = wall_medians[(model, mine)] / wall_medians[(model, other)]
                    verdict = f" ({'meets' if ratio >= target else 'MISSES'} {target}x)" if mine == "archsim" else ""
                    parts.append(f"vs {other}: {ratio:.2f}x [{wall_ratio:.2f}x]{verdict}")
            print(f"  {model}: " + "; ".join(parts))
    if {"archsim", "archsim-stripped"} <= set(engines):
        print(f"\ntime series at {DEFAULT_INTERVAL} over none (median per-repeat ratio of CPU times per customer; target <= {TIMESERIES_BUDGET:.0%})")
        for model in MODELS:
            pairs = [
                (a["cpu_s"] / a["customers"]) / (b["cpu_s"] / b["customers"]) - 1.0
                for a, b in zip(
                    [r for r in runs if r["model"] == model and r["engine"] == "archsim"],
                    [r for r in runs if r["model"] == model and r["engine"] == "archsim-stripped"],
                )
            ]
            cost = statistics.median(pairs)
            print(f"  {model}: {cost:+.1%} per customer ({'meets' if cost <= TIMESERIES_BUDGET else 'MISSES'}); repeats: "
                  + ", ".join(f"{p:+.1%}" for p in pairs))

    if args.memory_customers and "archsim" in engines:
        floor = baseline_rss_mb()
        print(f"\nmemory: archsim peak RSS at {args.memory_customers:,} requests, {DEFAULT_INTERVAL} metrics interval (import-only floor {floor:.0f} MB)")
        for model in MODELS:
            result = in_subprocess("archsim", model, args.memory_customers, seed=1)
            runs.append({**result, "memory_check": True})
            verdict = "meets" if result["peak_rss_mb"] < 100 else "MISSES"
            print(f"  {model}: {result['customers']:,} requests, peak {result['peak_rss_mb']:.0f} MB ({verdict} < 100 MB), {result['per_cpu_s']:,.0f}/CPU-s")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
