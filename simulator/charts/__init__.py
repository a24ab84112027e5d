"""Charts from run directories: the pictures for a design review.

Every chart reads run directories only (``summary.json``, ``timeseries.csv``, ``resolved.json``),
so simulated runs and measured runs (Locust tests of the real services, same schema) can share a
chart. One module per chart family:

- :mod:`.percentiles`: p50/p95/p99 per variant, grouped bars with 95% CIs;
- :mod:`.distribution`: the latency CDF per variant, log time axis;
- :mod:`.saturation`: throughput and p95 against offered load, knee marked;
- :mod:`.capacity`: sweep runs: capacity curves per style or variant, any metric against a swept path;
- :mod:`.timeseries`: load, latency, instances by state and queues over time, events marked;
- :mod:`.startup`: start-up phases per platform, stacked;
- :mod:`.cost`: cost per million requests and utilisation per variant;
- :mod:`.scalability`: capacity against instances with a Universal Scalability Law fit;
- :mod:`.radar`: the trade-off scorecard as a radar chart.

A chart with nothing to show (no start-up data in an M/M/1 run, no load sweep) is skipped, never
an error. :func:`draw_charts` draws every chart that has data; :func:`simulator.report.draw_all`
adds the report beside them (the report imports the charts, never the other way round).
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import os
from pathlib import Path
from typing import TYPE_CHECKING

from . import look  # noqa: F401  (selects the Agg backend before anything imports pyplot)
from .cost import draw_cost
from .distribution import draw_distribution
from .look import assign_colours
from .percentiles import draw_percentiles
from .radar import draw_radar
from ..results.rundata import VariantRun, load_runs
from .saturation import draw_saturation
from .scalability import draw_scalability
from .startup import draw_startup
from .capacity import draw_sweeps, over_load
from .timeseries import draw_timeseries

if TYPE_CHECKING:
    from ..scorecard import Scorecard

__all__ = [
    "draw_charts", "draw_cost", "draw_distribution", "draw_percentiles", "draw_radar",
    "draw_saturation", "draw_scalability", "draw_startup", "draw_timeseries", "load_runs",
]

CHARTS_DIR = "charts"  #: Sub-folder of a run (or report) directory that holds the chart files.


#: The chart jobs of the current :func:`draw_charts` call, inherited by forked workers (fork
#: copies them; nothing is pickled but the job's index and the returned paths).
_jobs: list = []


def _run_job(index: int) -> list[Path]:
    draw, args = _jobs[index]
    return draw(*args)


def chart_workers() -> int:
    """Processes drawing charts: the cores this process may use, at most 2 (the charts of one
    run are a dozen jobs of 0.2-0.6 s; more workers would not pay for their start)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


def _fork_is_safe() -> bool:
    """Forking is safe only from a plain single-threaded process: a fork copies one thread, so a
    lock held by another thread (or gevent's hub, which ``archsim loadtest`` loads with Locust)
    stays held in the child and the pool never returns. Such processes draw in-process."""
    return ("fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
            and "gevent" not in sys.modules)


def draw_charts(variants: list[VariantRun], out_dir: Path, card: "Scorecard | None" = None,
                workers: int | None = None) -> list[Path]:
    """Every chart that has data for ``variants``, as PNG and SVG files in ``out_dir``.

    Gives each variant its colour first, so every chart (and the report's tables) agree. The
    charts are independent, so with ``workers`` > 1 (default :func:`chart_workers`) they are drawn
    by forked worker processes, longest first; the files are the same either way.
    """
    global _jobs
    from ..scorecard import build_scorecard

    assign_colours(variants)
    card = card if card is not None else build_scorecard(variants)
    jobs = [(draw_timeseries, (v, out_dir)) for v in variants]
    jobs += [(draw_radar, (card, out_dir)), (draw_percentiles, (variants, out_dir)), (draw_distribution, (variants, out_dir)),
             (draw_cost, (variants, out_dir)), (draw_startup, (variants, out_dir)), (draw_scalability, (variants, out_dir)),
             (draw_sweeps, (variants, out_dir))]
    if not over_load(variants):  # a sweep over the load draws these curves as capacity.png
        jobs.append((draw_saturation, (variants, out_dir)))
    workers = chart_workers() if workers is None else workers
    if workers <= 1 or not _fork_is_safe():
        made = [draw(*args) for draw, args in jobs]
    else:
        _jobs = jobs
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                made = pool.map(_run_job, range(len(jobs)), chunksize=1)
        finally:
            _jobs = []
    order = jobs[len(variants):] + jobs[: len(variants)]  # comparison charts first, then one time series per variant
    by_job = dict(zip(map(id, jobs), made))
    return [path for job in order for path in by_job[id(job)]]
