"""Calibration: measure a deployment, fit the simulator's parameters to it, and say how well it predicts.

The loop, one module per idea:

- ``observations.py``: what one load-test run measured (per-class throughput and latency, per-tier CPU).
- ``structure.py``: the shape of the fitted model (tiers, their cores, visits and hops per class).
- ``estimate.py``: a fitted number with its source and standard error.
- ``regression.py``: utilisation regression (non-negative least squares of CPU on throughput).
- ``response_time.py``: the response-time based estimator (queueing equations fitted to latencies).
- ``shape.py``: the demand distribution's coefficient of variation from per-request CPU reports.
- ``fit.py``: every estimator on one measurement set, cross-checked, into one :class:`Calibration`.
- ``folder.py``: the measurement folder that keeps every raw measurement.
- ``synthetic.py``: measurements produced by the simulator itself with known parameters (tests).
- ``writer.py``, ``validation.py``, ``report.py``, ``orchestrate.py``, ``cli.py``: the calibrated
  scenario, predicted vs measured, the report, the real measurement loop, ``archsim calibrate``.
"""
