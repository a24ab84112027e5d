"""Common random numbers, measured: how much of the noise in a style-vs-style difference they remove.

Usage::

    python benchmarks/crn.py                                  # 20 replications of 14 s
    python benchmarks/crn.py --replications 10 --duration 10s # a quicker look

It runs two variants of ``scenarios/styles-baseline.yaml`` (``monolith`` and ``service-based`` by
default), shortened to ``--duration`` (14 s: 5 s warm-up and the nominal load, before the spike,
the outage and the rollout), ``--replications`` times each, in two ways:

- **common**: both variants with the scenario's seed, as ``archsim run`` runs them. Replication
  ``r`` of each sees the same arrivals, classes, capability demands and hops
  (:mod:`simulator.engine.rng`);
- **independent**: the second variant with another seed (``seed + 1``), so its random numbers
  share nothing with the first's: the textbook case of independent sampling.

For each replication it takes the difference second - first of the overall p95 and mean
latency, and prints the sample variance of these differences across replications in both ways
and their ratio (common / independent). Common random numbers are worth having when the ratio is
well below 1; the target is at most 0.5. The ratio of two sample variances from ``n``
replications is itself noisy (an F distribution with n - 1 and n - 1 degrees of freedom), so the
script also prints its 95% interval under the assumption of normal differences.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from scipy.stats import f as f_distribution

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.engine.simulation import simulate  # noqa: E402
from simulator.platforms import extensions_for  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402

METRICS = (("latency_p95_s", "p95 latency"), ("latency_mean_s", "mean latency"))


def replicate(scenario, replication: int):
    """One replication with the platform model attached through the extension seam."""
    return simulate(scenario, replication, extensions=extensions_for(scenario))


def per_replication(file: Path, variant: str, seed: int, duration: str, replications: int) -> list[dict]:
    """The ``overall`` block of each replication of one variant."""
    loaded = load_scenario(file, [f"duration={duration}"], seed=seed, replications=replications)
    scenario = next(v.scenario for v in loaded.variants if v.name == variant)
    return [replicate(scenario, r).overall for r in range(replications)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "styles-baseline.yaml")
    parser.add_argument("--first", default="monolith")
    parser.add_argument("--second", default="service-based")
    parser.add_argument("--duration", default="14s")
    parser.add_argument("--replications", type=int, default=20)
    args = parser.parse_args()
    if args.replications < 3:
        parser.error("--replications must be at least 3 to estimate a variance")
    seed = load_scenario(args.scenario).base.seed
    started = time.perf_counter()
    first = per_replication(args.scenario, args.first, seed, args.duration, args.replications)
    common = per_replication(args.scenario, args.second, seed, args.duration, args.replications)
    independent = per_replication(args.scenario, args.second, seed + 1, args.duration, args.replications)
    n = args.replications
    print(f"{args.second} - {args.first} on {args.scenario.name}, duration {args.duration}, {n} replications, seed {seed}"
          f" (independent: {args.second} at seed {seed + 1}); {time.perf_counter() - started:.0f} s wall")
    low_q, high_q = f_distribution.ppf([0.025, 0.975], n - 1, n - 1)
    print(f"{'metric':<14}{'mean diff (ms)':>16}{'var common (ms²)':>19}{'var independent (ms²)':>24}{'ratio':>8}  95% interval of the ratio")
    for key, label in METRICS:
        d_common = [(b[key] - a[key]) * 1e3 for a, b in zip(first, common)]
        d_independent = [(b[key] - a[key]) * 1e3 for a, b in zip(first, independent)]
        v_common, v_independent = statistics.variance(d_common), statistics.variance(d_independent)
        ratio = v_common / v_independent
        print(f"{label:<14}{statistics.fmean(d_common):>16.3f}{v_common:>19.4f}{v_independent:>24.4f}{ratio:>8.3f}"
              f"  {ratio / high_q:.3f} - {ratio / low_q:.3f}")


if __name__ == "__main__":
    main()
