"""Load-generator capacity: ``archsim loadtest`` (open model, Locust) beside ``wrk`` against nginx.

Starts its own nginx on a free loopback port (the test helper's generated configuration), then:

1. ``wrk`` (Debian's, closed loop, 2 threads, 64 connections, 10 s): the physical reference of
   what this machine can push through loopback to nginx;
2. ``archsim loadtest`` at each target rate, alone and with ``--workers 2``, deterministic arrivals,
   ``--duration`` each: achieved/target, late and dropped arrivals, the generator's CPU (mean
   cores, busiest process), the machine's busy share, and whether the run was valid.

Prints one table (medians are not taken: each line is one run; rerun when the machine is quiet,
since it is shared: ``uptime`` is printed first). Usage::

    python3 benchmarks/loadgen.py [--rates 1000,2000,2500,3000] [--duration 15s] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from loadtest_targets import Nginx  # noqa: E402

SCENARIO = """
name: loadgen
duration: {duration}
warmup: 3s
metrics_interval: 1s
workload: {{rate: {rate}/s, arrivals: deterministic}}
classes:
  home: {{http: {{method: GET, path: /}}}}
"""


def wrk(url: str, seconds: int = 10) -> float:
    done = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", url + "/"], capture_output=True, text=True, timeout=seconds + 30)
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    return float(match.group(1)) if match else float("nan")


def archsim(url: str, folder: Path, rate: float, duration: str, workers: int) -> dict:
    scenario = folder / f"s-{rate}-{workers}.yaml"
    scenario.write_text(SCENARIO.format(duration=duration, rate=rate))
    out = folder / f"run-{rate}-{workers}"
    done = subprocess.run([sys.executable, "-m", "simulator.loadtest", str(scenario), "--host", url, "--workers", str(workers),
                           "--out", str(out), "--no-charts"], capture_output=True, text=True, timeout=600, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    summary = json.loads((out / "summary.json").read_text())
    extras = summary["variants"]["measured"]["extras"]
    value = lambda block, key: (block.get(key) or {}).get("mean")  # noqa: E731
    pacing, cpu = extras.get("pacing", {}), extras.get("generator", {})
    return {
        "exit": done.returncode, "status": summary["status"],
        "achieved": value(extras, "achieved_rate_per_s"), "target": value(extras, "target_rate_per_s"),
        "late": value(pacing, "late_share"), "dropped": value(pacing, "dropped"),
        "cores": value(cpu, "mean_cores"), "busiest": value(cpu, "busiest_process_share"), "machine": value(cpu, "machine_busy_share"),
        "p99_ms": (summary["variants"]["measured"]["overall"]["latency_p99_s"]["mean"] or 0) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="1000,2000,2500,3000")
    parser.add_argument("--duration", default="15s")
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    with tempfile.TemporaryDirectory() as tmp, Nginx(Path(tmp)) as server:
        reference = wrk(server.url)
        print(f"wrk -t2 -c64 (closed loop, the physical reference): {reference:,.0f} requests/s")
        print(f"{'workers':>7} {'target/s':>9} {'achieved/s':>11} {'ratio':>7} {'late':>7} {'dropped':>8} {'p99 ms':>7} "
              f"{'gen cores':>9} {'busiest':>8} {'machine':>8} {'vs wrk':>7}  status")
        for workers in (int(w) for w in args.workers.split(",")):
            for rate in (float(r) for r in args.rates.split(",")):
                r = archsim(server.url, Path(tmp), rate, args.duration, workers)
                ratio = r["achieved"] / r["target"] if r["achieved"] and r["target"] else float("nan")
                print(f"{workers:>7} {r['target']:>9,.0f} {r['achieved']:>11,.1f} {ratio:>7.2%} {r['late']:>7.2%} {r['dropped']:>8,.0f} "
                      f"{r['p99_ms']:>7.1f} {r['cores']:>9.2f} {r['busiest']:>8.0%} {r['machine']:>8.0%} {r['achieved'] / reference:>7.1%}  "
                      f"{r['status']} (exit {r['exit']})", flush=True)


if __name__ == "__main__":
    main()
