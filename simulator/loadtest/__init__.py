"""Measured runs: real Locust against a deployment, with a scenario's load, written as a run directory.

- :mod:`.target`: the loopback-only rule (``--allow-remote`` to opt out);
- :mod:`.plan`: a scenario's workload as users, spawn rate and pacing (open and closed models);
- :mod:`.pacing`: one user's Poisson arrival times; think times;
- :mod:`.recording`: the Locust-side recorder (HDR histograms, per-interval counters);
- :mod:`.convert`: a record as ``summary.json`` / ``timeseries.csv`` of schema ``archsim.run/2``;
- :mod:`.run`: the Locust subprocess and the run directory;
- :mod:`.cli`: ``archsim loadtest`` (``register(app)`` adds it to the main app).

The Locust side lives in ``loadtests/locustfiles/archsim_shape.py`` and ``archsim_recorder.py``.
"""
