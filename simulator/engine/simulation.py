"""One replication of one scenario: build the model on a SimPy environment, run it, measure it.

Building follows the scenario: a :class:`~.service.ServiceRuntime` per service (with its
instances), an :class:`~.callgraph.OperationPlan` per operation, the call graphs compiled into
steps, then the workload source. The run is split into slices so a progress bar can follow it;
warm-up ends and time-series intervals close at their scheduled times.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence

import numpy as np

from ..scenario import model as m
from .callgraph import Compiler, OperationPlan
from .events import NORMAL, Environment, Wakeup, events_scheduled
from .extension import ExtensionFactory, build
from .metrics import Recorder, ReplicationResult
from .rng import Streams
from .service import ServiceRuntime
from .workload import ClassPicker, ClosedSource, OpenSource, Request

Progress = Callable[[float], None]  #: Called with the simulated seconds done so far.

class Simulation:
    """The model of one replication, ready to run.

    ``extensions`` are the factories of :mod:`.extension` (platforms, failures, autoscalers...),
    called once the model is built; a scenario that uses platform fields refuses to run without
    them rather than silently ignoring its failures or lifecycles.
    """

    def __init__(self, scenario: m.Scenario, replication: int = 0, extensions: Sequence[ExtensionFactory] = ()):
        self.scenario = scenario
        self.replication = replication
        self.env = Environment()
        self.streams = Streams(scenario.seed, replication)
        env, streams = self.env, self.streams

        self.services: dict[str, ServiceRuntime] = {}
        for name, spec in scenario.services.items():
            self.services[name] = ServiceRuntime(env, name, spec, _index_sampler(streams(f"lb:{name}")))

        self.operations: dict[tuple[str, str], OperationPlan] = {}
        for sname, spec in scenario.services.items():
            for oname, op in spec.operations.items():
                sampler = streams.per_request(f"service:{op.stream or sname + '.' + oname}", op.service_time)
                self.operations[(sname, oname)] = OperationPlan(sname, oname, sampler, op.service_time.mean)

        class_names = list(scenario.classes)
        self.timeouts = [scenario.classes[c].timeout_s for c in class_names]
        self.recorder = Recorder(env, class_names, self.timeouts, self.services, scenario.warmup_s, scenario.metrics_interval_s)
        compiler = Compiler(env, scenario, self.services, self.operations, streams, self.recorder.async_done)
        self.compiler = compiler  #: Its ``resilient`` and ``breakers`` lists are read by the resilience report.
        for (sname, oname), plan in self.operations.items():
            plan.calls = compiler.steps(scenario.services[sname].operations[oname].calls, f"services.{sname}.operations.{oname}.calls")
        self.roots = []
        for cname in class_names:
            spec = scenario.classes[cname]
            root = compiler.route(spec.route, f"classes.{cname}.route") if spec.route else compiler.steps(spec.calls, f"classes.{cname}.calls")
            self.roots.append(root)

        workload = scenario.workload
        mix = workload.mix or {class_names[0]: 1.0}
        picker = ClassPicker([mix.get(c, 0.0) for c in class_names], streams("mix"))
        if isinstance(workload, m.OpenWorkload):
            self.source = OpenSource(env, workload, picker, self._begin, streams)
        else:
            self.source = ClosedSource(env, workload, picker, self._begin, streams, self.timeouts)
            self.source.on_timeout = self.recorder.timed_out
        if scenario.uses_platforms and not extensions:
            raise ValueError("this scenario uses platform fields: pass extensions=simulator.platforms.extensions_for(scenario)")
        self.extensions = build(self, extensions)
        self.recorder.extensions = self.extensions

    def _begin(self, request: Request) -> None:
        self.recorder.started(request)
        self.roots[request.cls].start(request, self.recorder.finished, None)

    def mark(self, kind: str, **details) -> None:
        """Record a moment for the charts (a spike, a crash, a rollout step)."""
        self.recorder.events.append({"time_s": self.env.now, "kind": kind, **details})

    def at(self, time_s: float, callback: Callable[[], None]) -> None:
        """Call ``callback()`` at simulated time ``time_s``."""
        self.env.schedule(Wakeup(lambda _: callback()), NORMAL, max(0.0, time_s - self.env.now))

    def run(self, progress: Progress | None = None, slices: int = 50) -> ReplicationResult:
        scenario = self.scenario
        env = self.env
        started = time.perf_counter()
        self.source.start()
        if scenario.warmup_s > 0:
            self.at(scenario.warmup_s, self.recorder.end_warmup)
        for spike in getattr(scenario.workload, "spikes", []):
            self.at(spike.at_s, lambda s=spike: self.mark("spike", factor=s.factor, duration_s=s.duration_s))
        interval = scenario.metrics_interval_s
        n_ticks = int(scenario.duration_s / interval + 1e-9)

        def tick(done: int) -> None:  # one pending tick at a time, not one event per interval up front
            self.recorder.tick(self.source.offered)
            if done + 1 < n_ticks:
                env.schedule(Wakeup(tick, done + 1), NORMAL, interval)

        env.schedule(Wakeup(tick, 0), NORMAL, interval)
        step = scenario.duration_s / slices
        for i in range(1, slices + 1):
            env.run_until(scenario.duration_s if i == slices else i * step)
            if progress:
                progress(env.now)
        # run_until(T) stops before ordinary events at exactly T, so the last interval (full or
        # partial) is closed here
        if not self.recorder.rows or self.recorder.rows[-1]["time_s"] < scenario.duration_s - 1e-9:
            self.recorder.tick(self.source.offered)
        result = self.recorder.result(self.replication, scenario.duration_s)
        result.extras = {**copy.deepcopy(scenario.meta), **result.extras}
        result.wall_time_s = time.perf_counter() - started
        result.events_scheduled = events_scheduled(env)
        return result


def _index_sampler(rng: np.random.Generator) -> Callable[[int], int]:
    def pick(n: int) -> int:
        return int(rng.integers(n))

    return pick


def simulate(
    scenario: m.Scenario, replication: int = 0, progress: Progress | None = None, extensions: Sequence[ExtensionFactory] = ()
) -> ReplicationResult:
    """Build and run one replication of ``scenario`` with the given extension factories."""
    return Simulation(scenario, replication, extensions).run(progress)
