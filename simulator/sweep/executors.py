"""Where tasks run: this process, a pool of local worker processes, or a Dask cluster.

Every executor takes the same tasks and yields ``(task, result)`` as each one finishes, in
whatever order they finish; the caller orders them again, so results do not depend on the
executor or on the number of workers (a task's result depends only on its scenario and its
replication). Executors are context managers: leaving one (normally, on Ctrl-C or on an error)
stops its workers, and the Dask one closes the client and the LocalCluster it started.

- :class:`InlineExecutor` (``--jobs 1``): no worker process; reports progress within a task.
- :class:`PoolExecutor` (``--jobs N``): :class:`concurrent.futures.ProcessPoolExecutor` with the
  ``forkserver`` start method (workers fork from a clean server that has imported the simulator,
  so they start fast and never inherit the progress bar's thread; the command line starts that
  server before it loads the scenario). Ctrl-C never reaches a worker: see :mod:`.processes`.
- :class:`DaskExecutor` (``--dask ADDRESS`` or ``--dask local``): ``distributed.Client.submit``
  per task; a worker that dies has its tasks rescheduled by Dask. A LocalCluster's workers fork
  from the same forkserver (:data:`LOCAL_CLUSTER_CONFIG`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from ..engine.experiment import run_replication
from ..platforms import extensions_for
from ..engine.metrics import ReplicationResult
from ..errors import EnvironmentProblem
from .processes import sigint_blocked, signals_deferred, start_forkserver
from .tasks import Task, run_task

#: ``partial(share)``: the running task is ``share`` (0-1) done (only where it can be followed).
Partial = Callable[[float], None]

DASK_EXTRA = "pip install 'archsim[dask]'"  #: How a user gets Dask for archsim.
CONNECT_TIMEOUT_S = 20.0  #: How long to wait for a Dask scheduler and its first worker.
STOP_TIMEOUT_S = 5.0  #: How long a stopped worker process has to exit before it is killed.

#: Dask settings (distributed's own configuration keys) for the LocalCluster of ``--dask local``,
#: which runs CPU-bound tasks, one thread per worker, on this machine:
#:
#: - workers start from the forkserver the local pool uses (:func:`.processes.start_forkserver`),
#:   which has imported the simulator and Dask once, instead of Dask's default ``spawn``: a fresh
#:   interpreter per worker that imports Dask, this program's main module, then the simulator
#:   when the first task arrives;
#: - no statistical profiler: it samples the running task's stack every 10 ms on the worker's
#:   event loop, which takes the GIL from the task each time (it feeds only the dashboard, which
#:   archsim does not start).
#:
#: A cluster given by address keeps its own settings.
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.multiprocessing-method": "forkserver",
    "distributed.worker.profile.enabled": False,
}


class InlineExecutor:
    """Tasks one after another in this process."""

    name = "inline"
    workers = 1

    def __enter__(self) -> "InlineExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def results(self, tasks: list[Task], partial: Partial | None = None) -> Iterator[tuple[Task, ReplicationResult]]:
        for task in tasks:
            duration = task.scenario.duration_s
            progress = (lambda t, d=duration: partial(min(t / d, 1.0))) if partial else None
            yield task, run_replication(task.scenario, task.replication, progress, extensions_for(task.scenario))

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "workers": 1}


class PoolExecutor:
    """Tasks on ``workers`` local processes, all submitted at once, collected as they finish."""

    name = "processes"

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "PoolExecutor":
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=start_forkserver())
        return self

    def __exit__(self, kind: Any, *exc: Any) -> None:
        with signals_deferred(stopping=kind is not None):
            self._stop(early=kind is not None)

    def _stop(self, *, early: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if not early:
            pool.shutdown()
            return
        # Stopped early (Ctrl-C, an error, a signal): stop the workers now, not after their tasks.
        if hasattr(pool, "terminate_workers"):  # Python 3.14+
            pool.shutdown(wait=False, cancel_futures=True)
            pool.terminate_workers()
            return
        # No public way before 3.14; shutdown() drops the pool's list of workers, so take it first
        # (it is None once the pool broke or shut down: there is nothing left to stop then).
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:  # gone before the run says it stopped
            process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()

    def results(self, tasks: list[Task], partial: Partial | None = None) -> Iterator[tuple[Task, ReplicationResult]]:
        assert self._pool is not None, "use the executor as a context manager"
        with signals_deferred():  # submit() starts the workers: a Ctrl-C must not stop one half-way
            futures = {self._pool.submit(run_task, task): task for task in tasks}
        for future in as_completed(futures):
            yield futures[future], future.result()

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "workers": self.workers}


def _archsim_version() -> str:
    """Run on each Dask worker: the archsim it would run tasks with."""
    from .. import __version__

    return __version__


class DaskExecutor:
    """Tasks on a Dask distributed cluster: ``address`` (``tcp://host:8786``) or ``"local"`` for a
    LocalCluster of ``workers`` processes (one thread each, no dashboard, free ports on 127.0.0.1)."""

    name = "dask"

    def __init__(self, address: str, workers: int):
        self.address = address
        self.workers = workers
        self._client: Any = None
        self._cluster: Any = None
        self._config: Any = None  # the dask.config.set of LOCAL_CLUSTER_CONFIG while a LocalCluster runs
        self._futures: list[Any] = []

    def __enter__(self) -> "DaskExecutor":
        try:
            import distributed  # noqa: F401 - only to say how to get it
        except ImportError:
            raise EnvironmentProblem(f"--dask: Dask is not installed; install the extra: {DASK_EXTRA}") from None
        if self.address == "local":
            # Its workers fork from it. At once if the command line started it; not inside the block
            # below: starting the resource tracker first would unblock SIGINT in this thread.
            start_forkserver(dask=True)
        try:
            # Its threads and worker processes inherit the blocked SIGINT (Ctrl-C is the run's), and
            # a Ctrl-C that came just before is held until the cluster is whole, then stops it.
            with signals_deferred(), sigint_blocked():
                self._start()
            self._check_workers()
        except (OSError, TimeoutError) as exc:
            self.__exit__(type(exc))
            raise EnvironmentProblem(f"--dask {self.address}: cannot reach a scheduler with workers ({exc.__class__.__name__}: {exc})") from None
        except BaseException as exc:  # a worker that cannot run archsim, Ctrl-C: no cluster left behind
            self.__exit__(type(exc))
            raise
        return self

    def _start(self) -> None:
        """Connect to the scheduler, or start the LocalCluster and connect to it."""
        import dask
        from distributed import Client, LocalCluster

        if self.address == "local":
            # For the executor's whole life: a nanny reads them again when it restarts a worker.
            self._config = dask.config.set(LOCAL_CLUSTER_CONFIG)
            self._cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True, host="127.0.0.1", scheduler_port=0,
                dashboard_address=None, worker_dashboard_address=None, silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster, timeout=CONNECT_TIMEOUT_S)
        else:
            self._client = Client(self.address, timeout=CONNECT_TIMEOUT_S)
            self._client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)

    def _check_workers(self) -> None:
        """Every worker must import the same archsim, or results would depend on where tasks ran."""
        from .. import __version__

        try:
            versions = self._client.run(_archsim_version)
        except Exception as exc:  # noqa: BLE001 - whatever the worker raised, the fix is the same
            raise EnvironmentProblem(
                f"--dask {self.address}: a worker cannot run archsim ({exc.__class__.__name__}: {exc}); install archsim {__version__} on every worker"
            ) from None
        wrong = {worker: v for worker, v in versions.items() if v != __version__}
        if wrong:
            worker, version = next(iter(wrong.items()))
            raise EnvironmentProblem(f"--dask {self.address}: worker {worker} has archsim {version}, this is {__version__}; install the same version everywhere")
        self.workers = len(versions)

    def __exit__(self, kind: Any, *exc: Any) -> None:
        with signals_deferred(stopping=kind is not None):
            self._stop(early=kind is not None)

    def _stop(self, *, early: bool) -> None:
        client, cluster, self._client, self._cluster = self._client, self._cluster, None, None
        if client is not None:
            if early and self._futures:
                client.cancel(self._futures, force=True)
            client.close()
        if cluster is not None:
            cluster.close()
        config, self._config = self._config, None
        if config is not None:
            config.__exit__(None, None, None)
        self._futures = []

    def results(self, tasks: list[Task], partial: Partial | None = None) -> Iterator[tuple[Task, ReplicationResult]]:
        from distributed import as_completed as dask_completed

        assert self._client is not None, "use the executor as a context manager"
        by_key: dict[str, Task] = {}
        for task in tasks:
            future = self._client.submit(run_task, task, key=f"archsim-{task.fingerprint[:16]}-{task.key}", pure=False)
            by_key[future.key] = task
            self._futures.append(future)
        for future in dask_completed(self._futures):
            yield by_key[future.key], future.result()
            future.release()

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "workers": self.workers, "dask": self.address}


Executor = InlineExecutor | PoolExecutor | DaskExecutor


def make_executor(jobs: int, dask: str | None, tasks: int) -> Executor:
    """The executor for ``--jobs`` / ``--dask``: Dask if asked, else a pool for more than one job
    and more than one task, else this process."""
    if dask is not None:
        return DaskExecutor(dask, jobs)
    if jobs > 1 and tasks > 1:
        return PoolExecutor(min(jobs, tasks))
    return InlineExecutor()
