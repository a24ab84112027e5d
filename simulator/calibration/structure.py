"""The shape of the model a calibration fits: tiers, what each request class does on them, and hops.

A :class:`Structure` says, for one deployed style, which tiers there are (the application
deployable, the database), how many instances and cores each has and how many requests it holds
at once (taken from the deployment actually run), and for each request class how many times it
visits each tier's operation and how many network round trips it makes. The estimators fit the
unknown demands of these operations; the writer turns structure plus fitted numbers into a
scenario. The request graph is deliberately the one the engine will run: a class enters the
application tier (one round trip from the client), uses CPU there, then makes its database
queries one after another (one round trip each).

A :class:`SharedHost` says what the tiers run on: one machine of so many cores that every
container of the deployment and the load generator share (the calibrated scenario's
``hosts: {cpu: shared}``), because on a small machine that shared limit is what bounds the
deployment, not any container's own quota.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .observations import Observation

GENERATOR_TIER = "load_generator"  #: Tier name of the load generator's CPU in a run's cpu.csv.
Operation = tuple[str, str]  #: (tier, operation)


@dataclass(frozen=True)
class Tier:
    """One queueing station of the model: a deployable or a database."""

    name: str
    instances: int = 1
    cores: int = 1  #: CPU servers per instance (the container's CPU limit, rounded up).
    concurrency: int | None = None  #: Requests held at once per instance (threads, pool connections).
    cpu_limit: float | None = None  #: The container's ``--cpus`` quota, as deployed (for the record).

    @property
    def servers(self) -> int:
        return self.instances * self.cores


@dataclass(frozen=True)
class Structure:
    """Tiers and per-class visits of one deployed style.

    ``visits[class][(tier, operation)]`` counts how often one request of the class uses the
    operation; ``round_trips[class]`` counts its network round trips (each is two one-way hops in
    the engine). Operations are what the estimators give a demand to.
    """

    style: str
    tiers: dict[str, Tier]
    visits: dict[str, dict[tuple[str, str], int]]
    round_trips: dict[str, int]
    entry_tier: str
    notes: list[str] = field(default_factory=list)  #: Assumptions, said in the calibrated file and the report.
    host: "SharedHost | None" = None  #: The machine all tiers share (measured in containers); None: each tier has its own cores.
    calls: dict[str, tuple[Operation, ...]] = field(default_factory=dict)  #: Class -> the operations it calls, in order.
    downstream: dict[Operation, tuple[Operation, ...]] = field(default_factory=dict)  #: Operation -> the operations it calls, in order.
    reported: dict[str, Operation] = field(default_factory=dict)  #: Class -> the operation whose CPU its per-request report measures.
    work: dict[Operation, dict[str, float]] = field(default_factory=dict)  #: Operation -> the application's capability operations it performs.
    asynchronous: frozenset[Operation] = frozenset()
    """Operations always called fire-and-forget (a broker's consumer, a write-behind pump): their CPU, and that of
    everything they call, loads their tiers and the host (counted in ``visits``) but is off the response path."""
    path: dict[str, dict[Operation, int]] = field(default_factory=dict)
    """Class -> the visits its response waits for (``visits`` without the asynchronous work); empty: all of them."""

    def response_visits(self, request_class: str) -> dict[Operation, int]:
        """The visits a request of the class waits for: its response time is theirs (asynchronous work excluded)."""
        return self.path.get(request_class, self.visits[request_class]) if self.asynchronous else self.visits[request_class]

    @property
    def classes(self) -> list[str]:
        return list(self.visits)

    def call_graph(self) -> tuple[dict[str, tuple[Operation, ...]], dict[Operation, tuple[Operation, ...]]]:
        """Each class's calls and each operation's calls, in order.

        A structure given only as visits (a folder written before call graphs were recorded, or a
        user's scenario) has the two-level graph: the entry tier's operation named after the class
        calls each of the class's other visits, one round trip each.
        """
        if self.calls:
            return self.calls, self.downstream
        calls = {c: ((self.entry_tier, c),) for c in self.visits}
        downstream = {(self.entry_tier, c): tuple(op for op, n in v.items() if op[0] != self.entry_tier for _ in range(n))
                      for c, v in self.visits.items()}
        return calls, downstream

    def reported_operation(self, request_class: str) -> Operation:
        """The operation whose CPU a request of the class reports (``X-CPU-Time-Ms``): by default the entry tier's."""
        return self.reported.get(request_class, (self.entry_tier, request_class))

    def operations(self, tier: str | None = None) -> list[tuple[str, str]]:
        """Every (tier, operation) some class visits, in first-use order."""
        seen: list[tuple[str, str]] = []
        for per_class in self.visits.values():
            for key in per_class:
                if key not in seen and (tier is None or key[0] == tier):
                    seen.append(key)
        return seen


@dataclass(frozen=True)
class SharedHost:
    """The one machine the deployment and the load generator ran on."""

    cores: int
    cores_source: str  #: Where the core count comes from (the measurement folder, or an assumption).
    generator_cpu_per_request_s: float | None = None  #: The load generator's CPU per request sent, measured.
    generator_std_error_s: float | None = None
    generator_source: str = "not measured: the load generator is not modelled"

    def stretch(self, others_busy_cores: float) -> float:
        """How much longer a tenant's CPU work takes, on average, while the others use ``others_busy_cores``.

        The work runs at full speed unless the others hold every core. Taking the others as an
        M/M/c station of offered load ``a`` (``rho = a / c``), that happens with probability
        ``C(c, a)`` (Erlang C), and then about ``c + rho / (1 - rho)`` others share the cores with
        it: the mean stretch is ``1 + C(c, a) / (c (1 - rho))``. The tenant's own queueing is not
        in it (the estimators count that at the tier). The simulator runs the exact sharing.
        """
        from ..analysis.single_station import erlang_c

        rho = min(max(others_busy_cores / self.cores, 0.0), 0.995)
        if rho <= 0.0:
            return 1.0
        return 1.0 + erlang_c(rho * self.cores, self.cores) / (self.cores * (1.0 - rho))

    def bound_per_s(self, demand_per_request_s: float) -> float:
        """Saturation throughput the host's cores allow: cores / (CPU of one request everywhere, generator included)."""
        total = demand_per_request_s + (self.generator_cpu_per_request_s or 0.0)
        return self.cores / total if total > 0 else math.inf


def shared_host(deployment: dict, observations: list["Observation"]) -> SharedHost:
    """The host of a measured deployment: its cores and the load generator's CPU per request.

    The cores are ``deployment["host_cores"]`` (``os.cpu_count()`` of the measuring machine, recorded
    in the measurement folder). A folder that does not record them is assumed to have been measured
    here, and the assumption is said. The generator's CPU per request is the mean over the fitted
    runs of its cores busy divided by the throughput it achieved (the ``load_generator`` rows of
    the runs' ``cpu.csv``), with the standard error of that mean.
    """
    recorded = deployment.get("host_cores")
    if isinstance(recorded, int) and recorded > 0:
        cores, source = recorded, "the measuring machine's os.cpu_count(), recorded in the measurement folder"
    else:
        cores = os.cpu_count() or 1
        source = "assumed: the folder does not record the host's cores; this machine's os.cpu_count()"
    ratios = [o.tier_cpu_cores[GENERATOR_TIER] / o.throughput_per_s for o in observations
              if not o.hold_out and GENERATOR_TIER in o.tier_cpu_cores and o.throughput_per_s > 0]
    if not ratios:
        return SharedHost(cores, source)
    mean = sum(ratios) / len(ratios)
    error = math.sqrt(sum((r - mean) ** 2 for r in ratios) / (len(ratios) - 1) / len(ratios)) if len(ratios) > 1 else None
    return SharedHost(cores, source, mean, error, f"measured: its CPU (cgroup or /proc counters) / achieved throughput over {len(ratios)} runs")


def shop_monolith_queries(mix: dict[str, float]) -> dict[str, int]:
    """Database round trips of one request of each shop class in the reference monolith.

    Counted from ``loadtests/services/archsim_services/domain.py``: every statement is one round
    trip, a transaction adds BEGIN and COMMIT, and ``Database.execute`` is a one-statement
    transaction. Browse reads one product (1); add to cart is an upsert and a read in a
    transaction (4); order status reads one order (1); placing an order with ``k`` items reads the
    cart (1), each product (k), creates the order (3 + k), clears the cart (3), reserves stock
    (2 + 2k), charges (3), confirms (3) and notifies (3): 18 + 4k. The cart holds about
    ``k = share(add_to_cart) / share(place_order)`` items when ordered (each add picks a random
    product among 1,000, so repeats are rare).
    """
    orders = mix.get("place_order", 0.0)
    items = mix.get("add_to_cart", 0.0) / orders if orders else 1.0
    return {"browse": 1, "add_to_cart": 4, "place_order": round(18 + 4 * max(items, 1.0)), "order_status": 1}


MAX_CALL_DEPTH = 16  #: A call graph deeper than this is a cycle.


def from_calls(style: str, tiers: dict[str, Tier], calls: dict[str, tuple[Operation, ...]],
               downstream: dict[Operation, tuple[Operation, ...]], *, notes: list[str] | None = None,
               reported: dict[str, Operation] | None = None, work: dict[Operation, dict[str, float]] | None = None,
               asynchronous: frozenset[Operation] | set[Operation] = frozenset()) -> Structure:
    """A structure from its call graph: visits and round trips counted by walking it.

    Every call is one round trip (two one-way hops), whether a class calls an operation or an
    operation calls another, so a class's round trips are the calls in its expanded graph and its
    visits how often each operation appears there.

    A call to an ``asynchronous`` operation is fire-and-forget: it and everything below it count in
    ``visits`` (CPU: utilisation, host contention) but not in ``path`` nor in ``round_trips``, which
    are what the response waits for.
    """
    unknown = sorted({t for ops in [*calls.values(), *downstream.values(), [*downstream]] for t, _ in ops} - set(tiers))
    if unknown:
        raise ValueError(f"calls reach tiers the structure does not have: {', '.join(unknown)}")

    asynchronous = frozenset(asynchronous)
    if any(op in asynchronous for ops in calls.values() for op in ops):
        raise ValueError("a request class cannot call an asynchronous operation directly: its response would wait for nothing")

    def walk(op: Operation, counts: dict[Operation, int], waited: dict[Operation, int], on_path: bool, depth: int) -> int:
        """Count the visits under ``op``; return the round trips the response waits for."""
        if depth > MAX_CALL_DEPTH:
            raise ValueError(f"the call graph is deeper than {MAX_CALL_DEPTH} at {op[0]}.{op[1]}: a cycle")
        on_path = on_path and op not in asynchronous
        counts[op] = counts.get(op, 0) + 1
        if on_path:
            waited[op] = waited.get(op, 0) + 1
        below = sum(walk(d, counts, waited, on_path, depth + 1) for d in downstream.get(op, ()))
        return (1 if on_path else 0) + below

    visits: dict[str, dict[Operation, int]] = {}
    path: dict[str, dict[Operation, int]] = {}
    round_trips: dict[str, int] = {}
    for name, ops in calls.items():
        visits[name], path[name] = {}, {}
        round_trips[name] = sum(walk(op, visits[name], path[name], True, 0) for op in ops)
    entry = next(iter(calls.values()))[0][0]
    return Structure(style, dict(tiers), visits, round_trips, entry, list(notes or []), None, dict(calls),
                     {op: tuple(d) for op, d in downstream.items() if d}, dict(reported or {}), dict(work or {}),
                     asynchronous, path if asynchronous else {})


def app_and_database(style: str, classes: dict[str, int], *, app: Tier, database: Tier | None,
                     notes: list[str] | None = None, work: dict[Operation, dict[str, float]] | None = None) -> Structure:
    """The two-tier structure: each class has one operation on ``app`` and ``classes[c]`` database queries.

    Every query costs the same database demand (one operation ``query``): with one load mix the
    data cannot tell reads from writes, so the model does not pretend to.
    """
    tiers = {app.name: app, **({database.name: database} if database is not None else {})}
    query = () if database is None else ((database.name, "query"),)
    return from_calls(style, tiers, {c: ((app.name, c),) for c in classes},
                      {(app.name, c): query * n for c, n in classes.items()}, notes=notes, work=work)


def structure_to_json(structure: Structure) -> dict:
    return {
        "style": structure.style,
        "entry_tier": structure.entry_tier,
        "tiers": {name: {"instances": t.instances, "cores": t.cores, "concurrency": t.concurrency, "cpu_limit": t.cpu_limit}
                  for name, t in structure.tiers.items()},
        "visits": {c: [{"tier": tier, "operation": op, "count": n} for (tier, op), n in v.items()] for c, v in structure.visits.items()},
        "round_trips": dict(structure.round_trips),
        "notes": list(structure.notes),
        "calls": {c: [f"{t}.{o}" for t, o in ops] for c, ops in structure.calls.items()},
        "downstream": {f"{t}.{o}": [f"{dt}.{do}" for dt, do in ops] for (t, o), ops in structure.downstream.items()},
        "reported": {c: f"{t}.{o}" for c, (t, o) in structure.reported.items()},
        "work": {f"{t}.{o}": dict(w) for (t, o), w in structure.work.items()},
        "asynchronous": sorted(f"{t}.{o}" for t, o in structure.asynchronous),
        "path": {c: [{"tier": tier, "operation": op, "count": n} for (tier, op), n in v.items()] for c, v in structure.path.items()},
    }


def structure_from_json(data: dict) -> Structure:
    tiers = {name: Tier(name, int(t["instances"]), int(t["cores"]), t.get("concurrency"), t.get("cpu_limit")) for name, t in data["tiers"].items()}
    visits = {c: {(v["tier"], v["operation"]): int(v["count"]) for v in items} for c, items in data["visits"].items()}

    def op(text: str) -> Operation:
        tier, _, name = text.partition(".")
        return tier, name

    return Structure(data["style"], tiers, visits, {c: int(n) for c, n in data["round_trips"].items()}, data["entry_tier"],
                     list(data.get("notes", [])), None,
                     {c: tuple(op(x) for x in ops) for c, ops in data.get("calls", {}).items()},
                     {op(k): tuple(op(x) for x in ops) for k, ops in data.get("downstream", {}).items()},
                     {c: op(x) for c, x in data.get("reported", {}).items()},
                     {op(k): {str(n): float(v) for n, v in w.items()} for k, w in data.get("work", {}).items()},
                     frozenset(op(x) for x in data.get("asynchronous", [])),
                     {c: {(v["tier"], v["operation"]): int(v["count"]) for v in items} for c, items in data.get("path", {}).items()})
