"""Charts and report speed: what ``archsim run`` spends after the simulation, for six variants.

Usage::

    python benchmarks/charts.py                       # simulate the main job once, then 5 repeats
    python benchmarks/charts.py --run results/styles-baseline/<stamp> --repeats 3
    python benchmarks/charts.py --tree /path/to/other/checkout   # the same run, drawn by other code too

What is timed: ``simulator.report.draw_all(run_dir)`` (every chart as PNG and SVG, the scorecard,
``report.html`` and ``report.md``), import of the package included, each repeat in a fresh Python
process, as a user's ``archsim report`` pays it. The run is ``scenarios/styles-baseline.yaml``
(six styles, 3 replications) unless ``--run`` gives one. Each tree writes into its own copy of the
run directory.

The reference, measured in the same session and interleaved with the repeats: one fixed
matplotlib job (a 1800x1012 px line chart of 12 series saved as PNG and SVG, 6 times) in a fresh
process. The machine is shared, so the script prints medians and the ratio charts / reference,
which drifts far less with load than seconds do. Target: charts and report for six variants in
at most 3 s on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAIN_JOB = ROOT / "scenarios" / "styles-baseline.yaml"

DRAW = """
import sys, time
start = time.perf_counter()
from simulator.report import draw_all
made = draw_all(sys.argv[1])
print(time.perf_counter() - start, len(made))
"""

REFERENCE = """
import sys, time
start = time.perf_counter()
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
x = np.linspace(0, 70, 71)
for i in range(6):
    fig, ax = plt.subplots(figsize=(12, 6.75))
    for k in range(12):
        ax.plot(x, np.sin(x / (k + 3)) + k, label=f"series {k}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.savefig(f"{sys.argv[1]}/ref{i}.png", dpi=150)
    fig.savefig(f"{sys.argv[1]}/ref{i}.svg")
    plt.close(fig)
print(time.perf_counter() - start, 12)
"""


def timed(code: str, arg: str, tree: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True, env=env, cwd=tree, check=True)
    return float(done.stdout.split()[0])


def simulate(out: Path) -> Path:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "simulator.cli", "run", str(MAIN_JOB), "--jobs", "auto", "--no-charts", "-q",
                    "--out", str(out)], check=True, env=env, cwd=ROOT, capture_output=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="run directory to draw (default: simulate the main job once)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tree", type=Path, action="append", default=[], help="another checkout to time on the same run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="archsim-charts-bench-") as tmp:
        tmp_path = Path(tmp)
        source = args.run or simulate(tmp_path / "run")
        trees = [ROOT] + [t.resolve() for t in args.tree]
        copies = {}
        for i, tree in enumerate(trees):
            copies[tree] = tmp_path / f"tree{i}"
            shutil.copytree(source, copies[tree], ignore=shutil.ignore_patterns("charts", "report.*", "compare"))
        (tmp_path / "ref").mkdir()
        times: dict[str, list[float]] = {str(t): [] for t in trees}
        reference: list[float] = []
        for _ in range(args.repeats):  # interleaved: load drifts hit every measurement alike
            reference.append(timed(REFERENCE, str(tmp_path / "ref"), ROOT))
            for tree in trees:
                times[str(tree)].append(timed(DRAW, str(copies[tree]), tree))
        ref = statistics.median(reference)
        variants = len([p for p in (copies[ROOT] / "charts").glob("timeseries-*.png")])
        print(f"run: {source} ({variants} variants), {args.repeats} repeats, medians; machine load {os.getloadavg()[0]:.1f}")
        print(f"reference (12-series chart, PNG + SVG, x6): {ref:.2f} s")
        for tree in trees:
            median = statistics.median(times[str(tree)])
            print(f"charts + report [{tree}]: {median:.2f} s (min {min(times[str(tree)]):.2f}, max {max(times[str(tree)]):.2f}), "
                  f"{median / ref:.2f}x the reference")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"benchmark took {time.perf_counter() - start:.0f} s")
