"""How ``--dask local`` starts its workers: forked from the simulator's forkserver, with the
simulator and Dask already imported, and without Dask's statistical profiler; the settings end
with the executor. (That the results are the same files as in this process:
tests/test_sweep_queue.py.)"""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("distributed")

import dask

from simulator.sweep.executors import LOCAL_CLUSTER_CONFIG, DaskExecutor


def worker_state() -> dict:
    """Run on each Dask worker before any task: what it has imported, how it is configured."""
    import dask as worker_dask

    return {
        "simulator": "simulator.engine.experiment" in sys.modules,
        "profile": worker_dask.config.get("distributed.worker.profile.enabled"),
    }


@pytest.mark.slow
def test_local_cluster_workers_fork_from_the_forkserver_with_the_simulator_loaded_and_no_profiler():
    before = {key: dask.config.get(key) for key in LOCAL_CLUSTER_CONFIG}
    with DaskExecutor("local", 2) as executor:
        states = executor._client.run(worker_state)
        during = {key: dask.config.get(key) for key in LOCAL_CLUSTER_CONFIG}
    assert len(states) == 2
    for state in states.values():
        assert state["simulator"] and state["profile"] is False, state
    assert during == LOCAL_CLUSTER_CONFIG
    assert {key: dask.config.get(key) for key in LOCAL_CLUSTER_CONFIG} == before  # restored on leaving
