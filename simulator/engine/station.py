"""An instance of a service as a queueing station: cores, concurrency slots and a bounded queue.

A request admitted to an instance holds one of its ``concurrency`` slots (a worker thread, a
connection) for the whole operation, including while it waits on downstream calls; its CPU work
runs on one of ``cores`` servers, first come first served. With the default ``concurrency ==
cores`` and no downstream calls this is exactly an M/G/c queue. Requests that find every slot
busy wait in a queue of at most ``queue_capacity``; beyond that they are rejected at once (HTTP
503), as a server with a full accept backlog does.

Speed: a visit is its own SimPy event. Instead of a generator process per request (which costs a
process object, an initialise event and a resume per step), a station schedules the visit object
itself with ``env.schedule`` and handles its completion in a callback. SimPy's scheduler only
needs an event to have ``callbacks`` and ``_ok``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from .events import NORMAL, Wakeup

if TYPE_CHECKING:
    from .callgraph import OperationPlan

Continuation = Callable[[Any, bool], None]  #: ``k(request, ok)``: what to do when a step ends.


class Counters(NamedTuple):
    """An instance's cumulative integrals and counts at one moment."""

    busy_s: float  #: core-seconds busy
    queue_s: float  #: integral of the queue length (waiting for a slot, or holding one and waiting for a core)
    system_s: float  #: integral of requests in the instance
    up_s: float  #: core-seconds up (ready, or draining)
    completed: int
    rejected: int
    failed: int

    def __sub__(self, other: "Counters") -> "Counters":  # type: ignore[override]
        return Counters(*(a - b for a, b in zip(self, other)))


NO_COUNTERS = Counters(0.0, 0.0, 0.0, 0.0, 0, 0, 0)


class Visit:
    """One request's stay at one instance; also the SimPy event for its next timed step.

    Its maker (:meth:`~.callgraph.CallStep.start`, once per request per hop) sets ``callbacks``
    (``None`` until it is scheduled), ``request``, ``operation``, ``k`` (the continuation),
    ``ok = True`` and ``hop`` (the return hop, or ``None``) itself: the class has no ``__init__``,
    whose Python frame would cost about 80 ns a visit. Set later, when they become meaningful:
    ``epoch``, the instance's epoch at admission (a crash makes the visit stale), and ``cpu_s``, the
    CPU time it needs while it waits for a core. ``_ok`` (which SimPy reads after an event's
    callbacks) is a class constant."""

    __slots__ = ("callbacks", "request", "operation", "k", "cpu_s", "ok", "hop", "epoch")
    _ok = True
    callbacks: list | None
    request: Any
    operation: "OperationPlan"
    k: Continuation
    cpu_s: float
    ok: bool
    hop: Callable[[], float] | None
    epoch: int


class CpuTask:
    """A stretch of CPU work inside an operation (a ``work`` step after some calls)."""

    __slots__ = ("callbacks", "_ok", "request", "k", "duration", "epoch")

    def __init__(self, request: Any, k: Continuation, duration: float, epoch: int):
        self.callbacks: list | None = None
        self._ok = True
        self.request = request
        self.k = k
        self.duration = duration
        self.epoch = epoch


class Instance:
    """One running copy of a service."""

    __slots__ = (
        "env", "service", "index", "cores", "concurrency", "queue_capacity", "ready",
        "in_service", "waiting", "cores_busy", "cpu_waiting",
        "busy_area", "busy_t", "queue_area", "queue_t", "system_area", "system_t",
        "completed", "rejected", "failed", "_schedule", "run_cpu", "_cpu_done_cb", "_respond_cb", "_task_done_cb",
        "epoch", "active", "crashes", "up", "up_since", "up_area",
    )

    def __init__(self, env, service, index: int, cores: int, concurrency: int, queue_capacity: int | None):
        self.env = env
        self.service = service
        self.index = index
        self.cores = cores
        self.concurrency = concurrency
        self.queue_capacity = queue_capacity if queue_capacity is not None else -1
        self.ready = True  #: Serves traffic (platform models start instances not ready).
        self.epoch = 0  #: Incremented by each crash; work from an older epoch is discarded.
        # capacity actually offered: core-seconds from becoming ready until crash or removal
        # (a draining instance still counts: it is still working)
        self.up = False
        self.up_since = env.now
        self.up_area = 0.0
        #: Visits holding a slot (so a crash can fail them), in admission order: a dict, not a set,
        #: because a set of objects iterates in memory-address order, which differs between runs.
        self.active: dict = {}
        self.crashes = 0
        self.in_service = 0  # requests holding a slot
        self.waiting: deque = deque()  # requests waiting for a slot
        self.cores_busy = 0
        self.cpu_waiting: deque = deque()  # CPU work waiting for a core
        # time-weighted integrals: area = integral of level dt, updated on each change
        self.busy_area = 0.0
        self.busy_t = env.now
        self.queue_area = 0.0
        self.queue_t = env.now
        self.system_area = 0.0
        self.system_t = env.now
        self.completed = 0
        self.rejected = 0
        self.failed = 0
        self._schedule = env.schedule
        #: ``run_cpu(job, priority, demand_s)``: run ``demand_s`` core-seconds of CPU work, then trigger
        #: ``job`` (a schedulable event whose callbacks are set). The default is the environment's own
        #: scheduler: the instance's cores are its own, so the work ends ``demand_s`` from now. A
        #: platform may replace it with a processor shared with other tenants of a host
        #: (:mod:`simulator.platforms.host_cpu`); the instance still decides which work holds a core.
        self.run_cpu = env.schedule
        self._cpu_done_cb = [self._cpu_done]
        self._respond_cb = [self._respond]  # shared lists: SimPy reads, never mutates, them
        self._task_done_cb = [self._task_done]

    # --- admission ---------------------------------------------------------------------------

    def admit(self, visit: Visit) -> None:
        """A request arrives: take a slot, wait in the queue, or be rejected."""
        now = self.env.now
        waiting = self.waiting
        self.system_area += (self.in_service + len(waiting)) * (now - self.system_t)
        self.system_t = now
        visit.epoch = self.epoch
        if self.in_service < self.concurrency:
            self.in_service += 1
            self.active[visit] = None
            duration = visit.operation.service_time(visit.request)  # start it (see _begin_without_core), inline:
            if duration > 0.0 and self.cores_busy < self.cores:
                self.busy_area += self.cores_busy * (now - self.busy_t)
                self.busy_t = now
                self.cores_busy += 1
                visit.callbacks = self._cpu_done_cb
                self.run_cpu(visit, NORMAL, duration)
            else:
                self._begin_without_core(visit, duration, now)
        elif self.queue_capacity < 0 or len(waiting) < self.queue_capacity:
            self.queue_area += (len(waiting) + len(self.cpu_waiting)) * (now - self.queue_t)
            self.queue_t = now
            waiting.append(visit)
        else:
            self.rejected += 1
            visit.ok = False
            self._reply(visit)

    # Starting an admitted request (in admit, and in finish for the next waiting one): draw its CPU
    # demand and run it on a free core, inline there, one Python call less per visit on the hot
    # path; the two less common cases are here.

    def _begin_without_core(self, visit: Visit, duration: float, now: float) -> None:
        """Start an admitted request that has no CPU work (go on to its calls) or finds every
        core busy (wait for one)."""
        if duration <= 0.0:
            self._after_cpu(visit)
        else:
            visit.cpu_s = duration
            self.queue_area += (len(self.waiting) + len(self.cpu_waiting)) * (now - self.queue_t)
            self.queue_t = now
            self.cpu_waiting.append(visit)

    def _cpu_done(self, visit: Visit) -> None:
        """SimPy callback: a visit's CPU work is over. The hot path of every visit, so the core is
        freed inline (:meth:`_free_core` is the same, for the less frequent CPU tasks)."""
        if visit.epoch != self.epoch:
            return  # the instance crashed while this ran; the caller was already told
        now = self.env.now
        self.busy_area += self.cores_busy * (now - self.busy_t)
        self.busy_t = now
        self.cores_busy -= 1
        if self.cpu_waiting:
            self._next_cpu(now)
        calls = visit.operation.calls
        if calls is None:
            self.finish(visit)
        else:
            calls.start(visit.request, _Resume(self, visit).answer, self)

    def _free_core(self) -> None:
        now = self.env.now
        self.busy_area += self.cores_busy * (now - self.busy_t)
        self.busy_t = now
        self.cores_busy -= 1
        if self.cpu_waiting:
            self._next_cpu(now)

    def _next_cpu(self, now: float) -> None:
        """A core was freed and CPU work is waiting: start the oldest."""
        self.queue_area += (len(self.waiting) + len(self.cpu_waiting)) * (now - self.queue_t)
        self.queue_t = now
        nxt = self.cpu_waiting.popleft()
        self.cores_busy += 1
        if isinstance(nxt, CpuTask):
            nxt.callbacks = self._task_done_cb
            self.run_cpu(nxt, NORMAL, nxt.duration)
        else:
            nxt.callbacks = self._cpu_done_cb
            self.run_cpu(nxt, NORMAL, nxt.cpu_s)

    def _after_cpu(self, visit: Visit) -> None:
        calls = visit.operation.calls
        if calls is None:
            self.finish(visit)
        else:
            calls.start(visit.request, _Resume(self, visit).answer, self)

    # --- CPU work between calls ----------------------------------------------------------------

    def work(self, request: Any, duration: float, k: Continuation) -> None:
        """Run ``duration`` seconds of CPU for a request that already holds a slot here."""
        task = CpuTask(request, k, duration, self.epoch)
        if self.cores_busy < self.cores:
            now = self.env.now
            self.busy_area += self.cores_busy * (now - self.busy_t)
            self.busy_t = now
            self.cores_busy += 1
            task.callbacks = self._task_done_cb
            self.run_cpu(task, NORMAL, duration)
        else:
            now = self.env.now
            self.queue_area += (len(self.waiting) + len(self.cpu_waiting)) * (now - self.queue_t)
            self.queue_t = now
            self.cpu_waiting.append(task)

    def _task_done(self, task: CpuTask) -> None:
        if task.epoch != self.epoch:
            return
        self._free_core()
        task.k(task.request, True)

    # --- completion ----------------------------------------------------------------------------

    def finish(self, visit: Visit) -> None:
        """The operation is over: free the slot, admit the next waiting request, answer."""
        now = self.env.now
        waiting = self.waiting
        self.system_area += (self.in_service + len(waiting)) * (now - self.system_t)
        self.system_t = now
        if visit.ok:
            self.completed += 1
        else:
            self.failed += 1
        self.active.pop(visit, None)
        if waiting:
            self.queue_area += (len(waiting) + len(self.cpu_waiting)) * (now - self.queue_t)
            self.queue_t = now
            nxt = waiting.popleft()
            self.active[nxt] = None
            duration = nxt.operation.service_time(nxt.request)  # start it (as in admit), inline:
            if duration > 0.0 and self.cores_busy < self.cores:
                self.busy_area += self.cores_busy * (now - self.busy_t)
                self.busy_t = now
                self.cores_busy += 1
                nxt.callbacks = self._cpu_done_cb
                self.run_cpu(nxt, NORMAL, duration)
            else:
                self._begin_without_core(nxt, duration, now)
        else:
            self.in_service -= 1
        hop = visit.hop  # answer (the same as _reply, inline on the hot path)
        if hop is None:
            visit.k(visit.request, visit.ok)
        else:
            visit.callbacks = self._respond_cb
            self._schedule(visit, NORMAL, hop())

    # --- failure -------------------------------------------------------------------------------

    def crash(self) -> int:
        """The instance dies: every request in it or queued at it fails now (connection reset).

        Work already scheduled for those requests is discarded when it fires (the epoch moved on).
        The instance leaves the load balancer's pool; a platform model decides when, and whether,
        it comes back (:meth:`restart`). Returns how many requests were lost.
        """
        now = self.env.now
        self.settle(now)
        lost = list(self.active) + list(self.waiting)
        self.epoch += 1
        self.crashes += 1
        self.go_down()
        self.active.clear()
        self.waiting.clear()
        self.cpu_waiting.clear()
        self.in_service = 0
        self.cores_busy = 0
        self.service.set_ready(self, False)
        for visit in lost:
            self.failed += 1
            visit.ok = False
            # The visit may still sit in the event queue (its CPU completion), so it cannot be
            # scheduled again as its own response event: answer through a separate event.
            if visit.hop is None:
                visit.k(visit.request, False)
            else:
                self._schedule(Wakeup(_deliver_failure, visit), NORMAL, visit.hop())
        return len(lost)

    def restart(self) -> None:
        """Back in the pool after a crash (call when the platform says it is ready again)."""
        self.settle(self.env.now)
        self.service.set_ready(self, True)

    def _reply(self, visit: Visit) -> None:
        hop = visit.hop
        if hop is None:
            visit.k(visit.request, visit.ok)
        else:
            visit.callbacks = self._respond_cb
            self._schedule(visit, NORMAL, hop())

    @staticmethod
    def _respond(visit: Visit) -> None:
        visit.k(visit.request, visit.ok)

    # --- statistics ----------------------------------------------------------------------------

    def go_up(self) -> None:
        """Start counting this instance's cores as capacity (it became ready)."""
        if not self.up:
            self.up = True
            self.up_since = self.env.now

    def go_down(self) -> None:
        """Stop counting its cores (crashed or removed)."""
        if self.up:
            self.settle(self.env.now)
            self.up = False

    def settle(self, now: float) -> None:
        """Bring the time-weighted integrals up to ``now`` (before reading or resetting them)."""
        if self.up:
            self.up_area += self.cores * (now - self.up_since)
            self.up_since = now
        self.busy_area += self.cores_busy * (now - self.busy_t)
        self.busy_t = now
        self.queue_area += (len(self.waiting) + len(self.cpu_waiting)) * (now - self.queue_t)
        self.queue_t = now
        self.system_area += (self.in_service + len(self.waiting)) * (now - self.system_t)
        self.system_t = now

    def counters(self, now: float) -> "Counters":
        """Everything counted since the instance was created (counters only ever grow: the end of
        warm-up is a baseline the recorder subtracts, so controllers can take deltas across it)."""
        self.settle(now)
        return Counters(self.busy_area, self.queue_area, self.system_area, self.up_area, self.completed, self.rejected, self.failed)


def _deliver_failure(visit: Visit) -> None:
    visit.k(visit.request, False)


class _Resume:
    """Continuation after an operation's downstream calls: record failure, then finish the visit."""

    __slots__ = ("instance", "visit")

    def __init__(self, instance: Instance, visit: Visit):
        self.instance = instance
        self.visit = visit

    def answer(self, request: Any, ok: bool) -> None:
        visit = self.visit
        if visit.epoch != self.instance.epoch:
            return  # the instance crashed while waiting on the call
        if not ok:
            visit.ok = False
        self.instance.finish(visit)
