"""Measured runs: real Locust against a deployment, with a scenario's load, written as a run directory.

The public entry point for other tools (calibration among them) is :func:`run_load_test`: load a
host with a scenario at a rate, get a :class:`MeasuredRun` back (its ``run_dir``, ``summary``,
``status``, ``passed``). It raises ``ArchsimError`` for bad input, :class:`RunFailed` when the
target refused or died (``.run_dir`` keeps what was measured) and ``KeyboardInterrupt`` after
writing what was measured. See :mod:`.api`.

- :mod:`.target`: the loopback-only rule (``--allow-remote`` to opt out);
- :mod:`.plan`: a scenario's workload as users, spawn rate and arrivals (open and closed models);
- :mod:`.pacing`: a Locust process's arrival schedule and its late/dropped counts; think times;
- :mod:`.recording`: the Locust-side recorder (HDR histograms, per-interval counters, outages) and
  the merge of several processes' records;
- :mod:`.convert`: a record as a ``summary.json`` variant block and ``timeseries.csv`` rows of schema ``archsim.run/2``;
- :mod:`.generator`: the load generator's CPU, watched with psutil;
- :mod:`.verdict`: target failures, a generator that fell behind, thresholds; exit codes;
- :mod:`.run`: the Locust subprocess(es) and the run directory;
- :mod:`.api`: :func:`run_load_test`; :mod:`.table`: what the command prints;
- :mod:`.cli`: ``archsim loadtest`` (``register(app)`` adds it to the main app).

The Locust side lives in ``loadtests/locustfiles/archsim_shape.py`` (shape, arrivals, recorder)
and ``archsim_http.py`` (the generic locustfile for classes with ``http:`` blocks).
"""

__all__ = ["MeasuredRun", "RunFailed", "TargetDown", "run_load_test"]


def __getattr__(name: str):
    # Imported on first use, so that `archsim` commands other than loadtest start without it.
    if name in ("MeasuredRun", "run_load_test"):
        from . import api

        return getattr(api, name)
    if name in ("RunFailed", "TargetDown"):
        from . import verdict

        return getattr(verdict, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
