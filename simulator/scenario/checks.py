"""Rules that need the whole scenario: references resolve, the mix sums to 1, no synchronous cycles.

Each check returns the first problem as ``(field path, what is expected)`` so the loader can turn
it into a one-line error with the line number.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..suggest import did_you_mean, listing, quoted, shown
from .model import Call, Parallel, Scenario, Step, Work

Problem = tuple[tuple[str | int, ...], str]

MIX_TOLERANCE = 1e-6  #: How far from 1 a mix may sum (rounding in hand-written shares).


def resolve_target(scenario: Scenario, target: str) -> tuple[str, str] | str:
    """``'svc.op'`` or ``'svc'`` -> ``(service, operation)``, or a message saying what is wrong."""
    service, _, operation = target.partition(".")
    if service not in scenario.services:
        suggestion = did_you_mean(service, scenario.services)
        return f"call to undefined service {quoted(service)}{suggestion}; defined: {listing(scenario.services)}"
    operations = scenario.services[service].operations
    if not operation:
        if len(operations) == 1:
            return service, next(iter(operations))
        return f"service {quoted(service)} has several operations ({listing(operations)}): call it as '{shown(service)}.<operation>'"
    if operation not in operations:
        suggestion = did_you_mean(operation, operations)
        return f"service {quoted(service)} has no operation {quoted(operation)}{suggestion}; it has: {listing(operations)}"
    return service, operation


def _walk(steps: list[Step], path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Step]]:
    for i, step in enumerate(steps):
        here = path + (i,)
        yield here, step
        if isinstance(step, Parallel):
            yield from _walk(step.parallel, here + ("parallel",))


def _call_sites(scenario: Scenario) -> Iterator[tuple[tuple[str | int, ...], Call]]:
    for name, cls in scenario.classes.items():
        for path, step in _walk(cls.calls, ("classes", name, "calls")):
            if isinstance(step, Call):
                yield path, step
    for sname, service in scenario.services.items():
        for oname, op in service.operations.items():
            for path, step in _walk(op.calls, ("services", sname, "operations", oname, "calls")):
                if isinstance(step, Call):
                    yield path, step


def _check_warmup(scenario: Scenario) -> Problem | None:
    if scenario.warmup_s >= scenario.duration_s:
        return ("warmup",), f"must be shorter than duration ({scenario.warmup_s:g}s >= {scenario.duration_s:g}s)"
    if scenario.metrics_interval_s > scenario.duration_s:
        return ("metrics_interval",), f"must not exceed duration ({scenario.metrics_interval_s:g}s > {scenario.duration_s:g}s)"
    return None


def _check_mix(scenario: Scenario) -> Problem | None:
    mix = scenario.workload.mix
    if mix is None:
        if len(scenario.classes) > 1:
            return ("workload", "mix"), f"required with several request classes: give a share for each of {listing(scenario.classes)}"
        return None
    for name, share in mix.items():
        if name not in scenario.classes:
            suggestion = did_you_mean(name, scenario.classes)
            return ("workload", "mix", name), f"unknown request class {quoted(name)}{suggestion}"
        if share < 0:
            return ("workload", "mix", name), f"a share must be >= 0 (got {share})"
    total = sum(mix.values())
    if abs(total - 1) > MIX_TOLERANCE:
        return ("workload", "mix"), f"shares must sum to 1 (they sum to {total:g})"
    return None


def _check_calls(scenario: Scenario) -> Problem | None:
    for path, call in _call_sites(scenario):
        resolved = resolve_target(scenario, call.call)
        if isinstance(resolved, str):
            return path + ("call",), resolved
    return None


def _check_routes(scenario: Scenario) -> Problem | None:
    for name, cls in scenario.classes.items():
        if cls.route is None:
            continue
        base = ("classes", name, "route")
        tables = [(base + ("start",), cls.route.start, True)]
        for src, row in cls.route.after.items():
            resolved = resolve_target(scenario, src)
            if isinstance(resolved, str):
                return base + ("after", src), resolved
            tables.append((base + ("after", src), row, False))
        for path, row, must_sum_to_one in tables:
            for target, p in row.items():
                resolved = resolve_target(scenario, target)
                if isinstance(resolved, str):
                    return path + (target,), resolved
                if not 0 <= p <= 1:
                    return path + (target,), f"a probability must be within [0, 1] (got {p})"
            total = sum(row.values())
            if must_sum_to_one and abs(total - 1) > MIX_TOLERANCE:
                return path, f"start probabilities must sum to 1 (they sum to {total:g})"
            if total > 1 + MIX_TOLERANCE:
                return path, f"routing probabilities must sum to at most 1; the rest leaves (they sum to {total:g})"
    return None


def _sync_edges(scenario: Scenario) -> dict[tuple[str, str], list[tuple[tuple[str, str], tuple[str | int, ...]]]]:
    edges: dict[tuple[str, str], list[tuple[tuple[str, str], tuple[str | int, ...]]]] = {}
    for sname, service in scenario.services.items():
        for oname, op in service.operations.items():
            node = (sname, oname)
            edges[node] = []
            for path, step in _walk(op.calls, ("services", sname, "operations", oname, "calls")):
                if isinstance(step, Call) and step.mode == "sync":
                    target = resolve_target(scenario, step.call)
                    if isinstance(target, tuple):
                        edges[node].append((target, path + ("call",)))
    return edges


def _check_cycles(scenario: Scenario) -> Problem | None:
    """A synchronous cycle would hold every slot on the loop forever: reject it.

    A depth-first search with an explicit stack, so a chain of thousands of operations does not
    overflow Python's."""
    edges = _sync_edges(scenario)
    state: dict[tuple[str, str], int] = {}  # 1 = on the stack, 2 = done
    for root in edges:
        if root in state:
            continue
        trail: list[tuple[str, str]] = [root]
        cursors = [0]
        state[root] = 1
        while trail:
            node, cursor = trail[-1], cursors[-1]
            targets = edges.get(node, [])
            if cursor == len(targets):
                state[node] = 2
                trail.pop()
                cursors.pop()
                continue
            cursors[-1] += 1
            target, path = targets[cursor]
            if state.get(target) == 1:
                loop = trail[trail.index(target) :] + [target]
                cycle = " -> ".join(f"{s}.{o}" for s, o in loop)
                return path, f"synchronous call cycle {shown(cycle)}: a request would wait on itself; make one call async"
            if state.get(target) is None:
                state[target] = 1
                trail.append(target)
                cursors.append(0)
    return None


def first_problem(scenario: Scenario) -> Problem | None:
    """The first cross-field problem in ``scenario``, or ``None`` if it is consistent."""
    for check in (_check_warmup, _check_mix, _check_calls, _check_routes, _check_cycles, _check_work_placement, _check_host_fit):
        problem = check(scenario)
        if problem:
            return problem
    return None


def _check_work_placement(scenario: Scenario) -> Problem | None:
    for name, cls in scenario.classes.items():
        for path, step in _walk(cls.calls, ("classes", name, "calls")):
            if isinstance(step, Work):
                return path, "`work` is CPU time on a service: put it inside a service operation, not in a request class"
    return None


def _check_host_fit(scenario: Scenario) -> Problem | None:
    """With ``hosts``, one instance of every service must fit on one host (cores and memory)."""
    if scenario.hosts is None:
        return None
    from .platform_defaults import resolve

    hosts = scenario.hosts
    for name, service in scenario.services.items():
        platform = resolve(service.platform, scenario.platforms) if service.platform is not None else None
        if platform is None and hosts.cpu == "shared":
            continue  # not packed: it runs on the first host, its cores being threads that share the host's
        cores = service.cores + (platform.overhead_cores if platform else 0.0)
        memory_mb = (platform.memory_mb + platform.overhead_memory_mb) if platform else 0.0
        if cores > hosts.cores or memory_mb > hosts.memory_mb:
            return ("services", name), (
                f"one instance needs {cores:g} cores and {memory_mb:g} MB (platform overhead included) but a host has "
                f"{hosts.cores} cores and {hosts.memory_mb:g} MB: give bigger hosts or smaller instances"
            )
    return None
