"""Sweeps: many design points of one scenario, run as one queue of tasks, locally or on Dask.

- :mod:`.design`: the ``sweep:`` key of a scenario (factorial grid, zipped parameters, Latin
  hypercube sample) and its expansion into points. A leaf: the scenario format imports it.
- :mod:`.tasks`: one task per point x variant x replication, with a fingerprint for resume.
- :mod:`.executors`: where tasks run (this process, a local process pool, a Dask cluster).
- :mod:`.queue`: the one work queue: runs the tasks, writes each result as it finishes, skips
  finished ones on resume.
- :mod:`.table`: the tidy ``sweep.csv`` / ``sweep.parquet``.

This file imports nothing, so that importing :mod:`.design` from the scenario format stays light.
"""
