"""The one work queue: every task of a run (all points, variants and replications) on one executor.

:func:`run_queue` first takes the finished tasks a resumed run already has on disk, then hands
the others to the executor all at once (on several workers, the biggest first: see
:func:`.tasks.expected_work`) and, as each finishes, writes its file
(:class:`.store.TaskStore`) before anything else, then passes the result on. Whether a result was
computed now or read back, it goes through the same JSON round trip (:mod:`.tasks`), so a resumed
run and an uninterrupted one aggregate identical numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..engine.metrics import ReplicationResult
from .executors import Executor
from .store import TaskStore
from .tasks import Task, expected_work, result_from_json, result_to_json

#: ``on_result(task, result)``: called once per task, in the order tasks finish.
OnResult = Callable[[Task, ReplicationResult], None]
#: ``on_progress(done, total)``: tasks done so far (fractional while one runs inline) out of all.
OnProgress = Callable[[float, int], None]


@dataclass
class QueueCounts:
    """How many tasks a run had, reused from disk and ran now."""

    total: int
    reused: int = 0
    ran: int = 0


def run_queue(
    tasks: list[Task],
    store: TaskStore,
    executor: Executor,
    on_result: OnResult,
    *,
    resume: bool = False,
    on_progress: OnProgress | None = None,
    counts: QueueCounts | None = None,
) -> QueueCounts:
    """Run ``tasks`` on ``executor`` (entered by the caller), skipping those ``store`` already has
    when ``resume``. Exceptions (Ctrl-C, a task's error) propagate after the finished tasks are kept."""
    counts = counts if counts is not None else QueueCounts(len(tasks))
    pending: list[Task] = []
    for task in tasks:
        stored = store.read(task) if resume else None
        if stored is None:
            pending.append(task)
            continue
        on_result(task, result_from_json(stored))
        counts.reused += 1
    finished = counts.reused
    if on_progress:
        on_progress(finished, counts.total)

    def partial(share: float) -> None:
        if on_progress:
            on_progress(finished + share, counts.total)

    if executor.workers > 1:  # longest first (LPT): the biggest tasks must not be the last ones, each alone
        pending.sort(key=expected_work, reverse=True)
    for task, result in executor.results(pending, partial):
        data = result_to_json(result)
        store.write(task, data)
        counts.ran += 1
        finished += 1
        on_result(task, result_from_json(data))
        if on_progress:
            on_progress(finished, counts.total)
    return counts
