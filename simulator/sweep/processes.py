"""Worker processes that leave Ctrl-C to the parent, and steps a signal cannot cut in half.

A terminal's Ctrl-C sends SIGINT to every process of the foreground group: the run, its forkserver
and every worker. Only the run may act on it (stop the workers, keep the finished tasks, print one
line); a worker that got it would print a ``KeyboardInterrupt`` traceback, and one half started
when it came would be missed by the clean-up and left running. So:

- the forkserver is started with SIGINT blocked (:func:`start_forkserver`): a blocked signal stays
  blocked across exec and fork, so neither it (while it imports the simulator) nor any worker it
  forks ever receives one; the parent stops them with SIGTERM. This is what the standard library
  does for its resource tracker.
- starting a worker (:meth:`.executors.PoolExecutor.results`) and stopping them run under
  :func:`signals_deferred`: Python runs a signal's handler between any two bytecodes, so a
  Ctrl-C could otherwise stop the parent half-way through starting a worker (forked, but not yet
  known to the pool: the clean-up would miss it), or through stopping them. A signal meanwhile is
  held until the step is done, then raised;
- the Dask LocalCluster is started with SIGINT blocked too (:func:`sigint_blocked`): its threads
  inherit the block, and its worker processes fork from the same forkserver.

This module imports nothing of the simulator: the command line starts the forkserver before it
imports the engine and loads the scenario, so both import at the same time.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: What the forkserver imports once, so every worker it forks starts with the simulator loaded
#: (the platform models too: a task that uses them would otherwise import them in each worker).
PRELOAD = ["simulator.sweep.tasks", "simulator.platforms.runtime"]
#: And for a Dask LocalCluster, whose worker processes fork from the same server
#: (:class:`.executors.DaskExecutor`): Dask itself, which each worker would import otherwise.
DASK_PRELOAD = ["distributed"]

#: The signals a run turns into a stop (:mod:`simulator.runner`): held while a clean-up runs.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def default_jobs() -> int:
    """Worker processes to use when asked for ``--jobs auto``: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def sigint_blocked() -> Iterator[None]:
    """SIGINT held back in this thread (and inherited, blocked, by processes and threads started
    meanwhile); a Ctrl-C that came in between is delivered when the block ends."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def start_forkserver(dask: bool = False) -> multiprocessing.context.BaseContext:
    """The forkserver context, its server started now (if not yet) with SIGINT blocked; returns at
    once, while the server imports :data:`PRELOAD` (and :data:`DASK_PRELOAD` for ``dask``; one it
    cannot import is skipped) in the background. A server already running keeps what it imported."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD + (DASK_PRELOAD if dask else []))
    # The forkserver starts the resource tracker first if it is not running, and that start ends
    # by unblocking SIGINT (not by restoring the mask): start it before blocking.
    multiprocessing.resource_tracker.ensure_running()
    with signals_deferred(), sigint_blocked():
        multiprocessing.forkserver.ensure_running()
    return context


@contextmanager
def signals_deferred(stopping: bool = False) -> Iterator[None]:
    """Run a clean-up to its end: Ctrl-C, SIGTERM and SIGHUP arriving meanwhile are held. Once it is
    done the first one is acted on as the handler in place would have (``KeyboardInterrupt``...),
    unless the run is already ``stopping`` (an exception on its way out: it stands for both) or the
    clean-up failed. Only in the main thread, where Python runs signal handlers."""
    if not _main_thread():
        yield
        return
    held: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: held.append(signum)) for sig in STOP_SIGNALS}
    try:
        yield
    except BaseException:
        stopping = True
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if held and not stopping:
            _raise_as(held[0], previous[held[0]])


def _raise_as(signum: int, handler: Any) -> None:
    """Act on a held signal as its handler would have."""
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)
