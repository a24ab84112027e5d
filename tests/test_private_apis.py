"""The private parts of SimPy and hdrhistogram that the engine relies on are still there.

The engine's hot path skips SimPy's public event classes, reads the clock and runs the event loop
itself (all in :mod:`simulator.engine.events`) and records latencies straight into hdrhistogram's
counts array (see :mod:`simulator.engine.histogram`).
``pyproject.toml`` pins both libraries to the range these tests passed on; if an upgrade changes
what they rely on, these tests say what broke instead of the engine giving wrong numbers.
"""

from __future__ import annotations

import ast
import itertools
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
import simpy

from simulator.engine.events import NORMAL, Environment, Wakeup, events_scheduled, schedule
from simulator.engine.histogram import add_to_hdr, bucket_values_s, new_hdr

HDR_INTERNALS = ("counts", "counts_len", "sub_bucket_mask", "unit_magnitude", "sub_bucket_half_count_magnitude",
                 "sub_bucket_half_count", "total_count", "min_value", "max_value")


def test_simpy_environment_keeps_the_clock_event_counter_and_queue_the_engine_reads():
    env = simpy.Environment(initial_time=2.5)
    missing = [name for name in ("_now", "_eid", "_queue", "schedule") if not hasattr(env, name)]
    assert not missing, f"simpy {version('simpy')} has no Environment.{', '.join(missing)}: the engine reads them; pin simpy to a tested version"
    assert isinstance(env._eid, itertools.count), f"simpy {version('simpy')}: Environment._eid is no longer a counter"
    assert isinstance(env._queue, list), f"simpy {version('simpy')}: Environment._queue is no longer a heap list"


def test_simpys_own_code_moves_the_engines_clock():
    """SimPy reads and writes the clock as ``_now``; the engine's environment keeps it in ``now``."""
    env = Environment(initial_time=2.5)
    assert env.now == env._now == 2.5
    env.timeout(1.5)
    env.run()  # SimPy's own loop, not the engine's
    assert env.now == env._now == 4.0, f"simpy {version('simpy')} no longer keeps its clock in Environment._now"


def _traced_model(env, log):
    """Bare events, a generator process with timeouts and a tie at the stop time: what the engine's
    loop must run in SimPy's order."""

    def worker(env):
        for delay in (0.5, 1.5, 1.0):
            yield env.timeout(delay)
            log.append(("process", env.now))

    env.process(worker(env))
    for at in (3.0, 1.0, 2.0, 2.0, 4.0):
        schedule(env, at, lambda payload: log.append((payload, env.now)), f"wakeup@{at}")


def test_the_engines_event_loop_runs_events_in_simpys_order_and_numbers_them_alike():
    by_simpy, by_engine = [], []
    simpy_env, engine_env = simpy.Environment(), Environment()
    _traced_model(simpy_env, by_simpy)
    _traced_model(engine_env, by_engine)
    for until in (2.0, 3.0, 5.0):
        simpy_env.run(until=until)
        engine_env.run_until(until)
        assert by_engine == by_simpy and engine_env.now == simpy_env.now == until
    # ties go to the event scheduled first: the process's timeouts were scheduled after the wakeups
    assert by_engine == [("process", 0.5), ("wakeup@1.0", 1.0), ("wakeup@2.0", 2.0), ("wakeup@2.0", 2.0), ("process", 2.0),
                         ("wakeup@3.0", 3.0), ("process", 3.0), ("wakeup@4.0", 4.0)]
    # 5 wakeups, the process's start and 3 timeouts (+1 for its end), 2 per stop (SimPy reschedules its until event)
    assert events_scheduled(engine_env) == events_scheduled(simpy_env) == 5 + 1 + 3 + 1 + 3 * 2


def test_the_engines_event_loop_raises_a_failed_event_as_simpy_does():
    env = Environment()

    def broken(env):
        yield env.timeout(1.0)
        raise KeyError("lost")

    env.process(broken(env))
    with pytest.raises(KeyError, match="lost"):
        env.run_until(2.0)
    with pytest.raises(ValueError, match="must be greater than the current simulation time"):
        env.run_until(env.now)


def test_simpy_runs_a_bare_event_with_only_callbacks_and_ok():
    """The engine's events have just ``callbacks`` and ``_ok``: SimPy must need nothing more."""
    env = simpy.Environment()
    seen = []
    schedule(env, 2.5, lambda payload: seen.append((env.now, env._now, payload)), "x")
    env.schedule(Wakeup(lambda payload: seen.append((env.now, env._now, payload)), "y"), NORMAL, 1.0)
    env.run()
    assert seen == [(1.0, 1.0, "y"), (2.5, 2.5, "x")], f"simpy {version('simpy')} does not dispatch bare events as the engine expects"
    assert events_scheduled(env) == 2


def test_hdrhistogram_exposes_the_counts_array_and_bucket_parameters():
    hdr = new_hdr()
    missing = [name for name in HDR_INTERNALS if not hasattr(hdr, name)]
    assert not missing, f"hdrhistogram {version('hdrhistogram')} has no {', '.join(missing)}: engine/histogram.py writes them; pin a tested version"
    assert len(np.ctypeslib.as_array(hdr.counts)) >= hdr.counts_len


@pytest.mark.parametrize("seconds", [[1e-6, 0.0042, 0.0042, 1.5, 3599.0], list(np.geomspace(1e-6, 3000, 500))])
def test_bulk_recording_matches_the_library_value_by_value(seconds):
    bulk, one_by_one = new_hdr(), new_hdr()
    add_to_hdr(bulk, np.ctypeslib.as_array(bulk.counts), np.asarray(seconds))
    for s in seconds:
        one_by_one.record_value(int(round(s * 1e6)))
    assert bulk.encode() == one_by_one.encode(), f"hdrhistogram {version('hdrhistogram')}: bucket arithmetic changed"
    values, counts = bucket_values_s(bulk.encode().decode("ascii"))
    assert counts.sum() == len(seconds)
    lowest_us = sorted({one_by_one.get_lowest_equivalent_value(int(round(s * 1e6))) for s in seconds})
    assert list(values * 1e6) == pytest.approx(lowest_us, rel=1e-12), "bucket_values_s reads the buckets differently from the library"


# --- where the private parts are used -------------------------------------------------------------

SIMPY_PRIVATE = {"_now", "_eid", "_queue", "_value"}
HDR_PRIVATE = set(HDR_INTERNALS)
#: Who may touch them: ``events.py`` alone owns the event protocol, the clock (the rest of the
#: engine reads the public ``env.now``), the event counter and the event loop.
SIMPY_ALLOWED = {"simulator/engine/events.py": SIMPY_PRIVATE}
HDR_ALLOWED = {"simulator/engine/histogram.py"}


def _private_attributes(names: set[str]) -> dict[str, set[str]]:
    """File -> the attributes of ``names`` it reads on anything but ``self``."""
    root = Path(__file__).resolve().parents[1]
    found: dict[str, set[str]] = {}
    for path in sorted((root / "simulator").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in names and not (isinstance(node.value, ast.Name) and node.value.id == "self"):
                found.setdefault(path.relative_to(root).as_posix(), set()).add(node.attr)
    return found


def test_simpy_internals_are_read_only_where_allowed():
    stray = {f: sorted(a - SIMPY_ALLOWED.get(f, set())) for f, a in _private_attributes(SIMPY_PRIVATE).items()}
    stray = {f: a for f, a in stray.items() if a}
    assert not stray, f"SimPy internals used outside engine/events.py: {stray}"


def test_hdrhistogram_internals_are_used_only_in_engine_histogram():
    stray = {f: sorted(a) for f, a in _private_attributes(HDR_PRIVATE).items() if f not in HDR_ALLOWED}
    assert not stray, f"hdrhistogram internals used outside engine/histogram.py: {stray}"
