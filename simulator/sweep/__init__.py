"""Sweeps: many design points of one scenario, run as one queue of tasks, locally or on Dask.

The ``sweep:`` key of a scenario (factorial grid, zipped parameters, Latin hypercube sample) and
its expansion into points is part of the scenario format: :mod:`simulator.scenario.sweep`.

- :mod:`.tasks`: one task per point x variant x replication, with a fingerprint for resume.
- :mod:`.executors`: where tasks run (this process, a local process pool, a Dask cluster).
- :mod:`.queue`: the one work queue: runs the tasks, writes each result as it finishes, skips
  finished ones on resume.
- :mod:`.table`: the tidy ``sweep.csv`` / ``sweep.parquet``.
"""
