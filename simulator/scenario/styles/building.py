"""What every style needs to turn the application into engine services: the tools, not the choices.

A style module decides where each capability runs and how its parts talk; this module supplies the
pieces it builds with: a :class:`Build` that collects services and request classes (and counts the
network hops and deployables for ``meta``), the steps of one capability operation (database reads,
CPU, database writes), a database service, and :func:`synchronous_layout`, the request/response
wiring shared by the monolith, microservices, service-based and microkernel styles.

Everything here produces plain scenario dictionaries, which then go through the normal scenario
validation, so a compiled style is exactly what a user could have written by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ...distributions import Distribution
from ...errors import ScenarioError
from ..diagnostics import format_path, line_of
from ...suggest import did_you_mean, listing
from .model import Application, CapabilityOperation, Deployable, Style

Path_ = tuple[str | int, ...]

READ = "read"  #: Operation name of a database read.
WRITE = "write"  #: Operation name of a database write.


def dist(value: Distribution) -> dict[str, Any]:
    """A distribution as scenario data (e.g. ``{type: exponential, mean: 0.001}``)."""
    return value.model_dump(by_alias=True)


def is_zero(value: Distribution) -> bool:
    return value.mean == 0 and value.variance == 0


def work(value: Distribution, stream: str | None = None) -> list[dict[str, Any]]:
    """A CPU ``work`` step, or nothing when the demand is always zero (saves an event).

    ``stream`` names its logical random source (e.g. ``catalog.search``): every style that runs
    that demand names it alike, so a request draws the same CPU time for it in every style."""
    if is_zero(value):
        return []
    return [{"work": dist(value), "stream": stream}] if stream else [{"work": dist(value)}]


def call(target: str, **options: Any) -> dict[str, Any]:
    """A call step to ``service.operation``."""
    return {"call": target, **options}


def data_steps(op: CapabilityOperation, database: str, use: str) -> list[dict[str, Any]]:
    """One capability operation ``use`` (``capability.operation``) against a database: its reads,
    its CPU, then its writes, each named as a logical random source by ``use`` and its position."""
    return (
        [call(f"{database}.{READ}", stream=f"{use}.{READ}[{i}]") for i in range(op.reads)]
        + work(op.cpu, use)
        + [call(f"{database}.{WRITE}", stream=f"{use}.{WRITE}[{i}]") for i in range(op.writes)]
    )


@dataclass
class Hops:
    """Network round trips one request of a class causes (database calls and async ones included)."""

    client_path: float = 0.0  #: ...that the client waits for.
    total: float = 0.0  #: ...in all, including fire-and-forget deliveries and write-behind.

    def add(self, n: float, waited_for: bool = True) -> None:
        self.total += n
        if waited_for:
            self.client_path += n


@dataclass
class Build:
    """A scenario's services and request classes being assembled from one application and style."""

    file: str
    lines: dict[Path_, int]
    app: Application
    style: Style
    mix: dict[str, float]  #: Request class -> share of the load (for averages over the mix).
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    classes: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  #: Service -> ``app``, ``database`` or ``broker``.
    hops: dict[str, Hops] = field(default_factory=dict)
    facts: dict[str, float] = field(default_factory=dict)  #: Extra style-specific numbers for ``meta.structure``.
    parameters: dict[str, float] = field(default_factory=dict)  #: Style parameters (seconds) for ``meta``.
    #: Capability -> the deployable that runs it on the client's path (a capability used only in
    #: deferred steps: its consumer). What a failure or rollout naming a capability hits.
    placement: dict[str, str] = field(default_factory=dict)

    # --- errors ----------------------------------------------------------------------------------

    def error(self, path: Path_, expected: str) -> NoReturn:
        """Stop with the one-line scenario error at ``path``."""
        raise ScenarioError(self.file, format_path(path), expected, line_of(self.lines, path))

    @property
    def settings_path(self) -> Path_:
        return ("style", self.style.kind)

    # --- the application -------------------------------------------------------------------------

    def operation(self, use: str) -> tuple[str, str, CapabilityOperation]:
        """``'payment.charge'`` -> ``('payment', 'charge', its CapabilityOperation)`` (already checked)."""
        capability, _, name = use.partition(".")
        return capability, name, self.app.capabilities[capability][name]

    def capabilities_of(self, request: str) -> list[str]:
        """The capabilities a request class touches, in first-use order."""
        seen: list[str] = []
        for step in self.app.requests[request].steps:
            capability = step.use.partition(".")[0]
            if capability not in seen:
                seen.append(capability)
        return seen

    # --- services ----------------------------------------------------------------------------------

    def add_service(self, name: str, spec: dict[str, Any], role: str) -> dict[str, Any]:
        if name in self.services:
            self.error(("application", "capabilities"), f"'{name}' is both a capability's deployable and one the {self.style.kind} style adds itself: rename the capability")
        self.services[name] = spec
        self.roles[name] = role
        return spec

    def deployable(self, name: str, operations: dict[str, dict[str, Any]], **fixed: Any) -> dict[str, Any]:
        """An application deployable: style-wide sizing, then this style's overrides for ``name``.

        ``fixed`` values (such as the number of space-based units) are set by the style itself and
        cannot be overridden per deployable.
        """
        style = self.style
        spec: dict[str, Any] = {
            "instances": style.instances,
            "cores": style.cores,
            "concurrency": style.concurrency,
            "operations": operations,
        }
        if style.queue is not None:
            spec["queue"] = style.queue
        override: Deployable | None = self.style.settings().deployables.get(name)
        if override is not None:
            for key, value in override.model_dump(exclude_none=True).items():
                if key in fixed:
                    self.error(self.settings_path + ("deployables", name, key), f"set by the style ({key} = {fixed[key]}); change the style parameter instead")
                spec[key] = value
        spec.update(fixed)
        return self.add_service(name, spec, "app")

    def database(self, name: str) -> None:
        """A database service: ``cores`` CPUs, ``pool`` connections, reads and writes."""
        db = self.app.database
        self.add_service(
            name,
            {
                "instances": 1,
                "cores": db.cores,
                "concurrency": max(db.pool, db.cores),
                # named by role, not by service: the j-th read of a request draws alike in every style
                "operations": {
                    READ: {"service_time": dist(db.read), "stream": f"database.{READ}"},
                    WRITE: {"service_time": dist(db.write), "stream": f"database.{WRITE}"},
                },
            },
            "database",
        )

    def request_class(self, name: str, calls: list[dict[str, Any]]) -> None:
        spec: dict[str, Any] = {"calls": calls}
        timeout = self.app.requests[name].timeout_s
        if timeout is not None:
            spec["timeout"] = timeout
        self.classes[name] = spec

    def check_overrides(self) -> None:
        """Every deployable named in this style's overrides must exist."""
        for name in self.style.settings().deployables:
            if self.roles.get(name) != "app":
                known = [s for s, role in self.roles.items() if role == "app"]
                suggestion = did_you_mean(name, known)
                self.error(self.settings_path + ("deployables", name), f"the {self.style.kind} style has no deployable '{name}'{suggestion}; it has: {listing(known)}")

    # --- meta --------------------------------------------------------------------------------------

    def structure(self) -> dict[str, float]:
        """Structural facts for results: deployables, instances, cores, hops per request."""
        app = [s for s, role in self.roles.items() if role == "app"]
        total_share = sum(self.mix.get(c, 0.0) for c in self.hops) or 1.0

        def mean_over_mix(attribute: str) -> float:
            return sum(self.mix.get(c, 0.0) * getattr(h, attribute) for c, h in self.hops.items()) / total_share

        out: dict[str, float] = {
            "deployables": len(app),
            "databases": sum(1 for role in self.roles.values() if role == "database"),
            "brokers": sum(1 for role in self.roles.values() if role == "broker"),
            "app_instances": sum(self.services[s]["instances"] for s in app),
            "app_cores": sum(self.services[s]["instances"] * self.services[s]["cores"] for s in app),
            "total_cores": sum(spec["instances"] * spec["cores"] for spec in self.services.values()),
            "network_hops_per_request": mean_over_mix("total"),
            "client_path_hops_per_request": mean_over_mix("client_path"),
        }
        out.update(self.facts)
        return out


def synchronous_layout(
    b: Build,
    deployable_of: dict[str, str],
    database_of: dict[str, str],
    local_call: Callable[[str], Distribution],
    gateway: str | None = None,
    gateway_cpu: Distribution | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Request/response wiring: returns deployable -> operation name -> operation.

    A request enters at the deployable of its first step (through ``gateway`` if given), which
    then runs the steps in order: a step whose capability lives in the same deployable is an
    in-process call (``local_call(capability)`` of CPU, no network), any other is a network call to
    that deployable, paid with ``style.serialisation`` CPU at both ends and one round trip of
    network latency. Each capability talks to the database ``database_of[capability]``.

    The entry operation is named after the request class; an operation called remotely is named
    after the capability operation (``capability.operation`` when the deployable holds several
    capabilities).
    """
    ser = b.style.serialisation
    operations: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in dict.fromkeys(deployable_of.values())}
    if gateway:
        operations[gateway] = {}

    def remote_name(capability: str, op: str) -> str:
        return op if deployable_of[capability] == capability else f"{capability}.{op}"

    b.placement.update(deployable_of)

    for request, spec in b.app.requests.items():
        hops = b.hops.setdefault(request, Hops())
        hops.add(1)  # client -> entry point
        home = deployable_of[spec.steps[0].use.partition(".")[0]]
        entry_calls: list[dict[str, Any]] = []
        for step in spec.steps:
            capability, op_name, op = b.operation(step.use)
            target = deployable_of[capability]
            db_calls = op.reads + op.writes
            hops.add(db_calls)
            if target == home:
                entry_calls += work(local_call(capability)) + data_steps(op, database_of[capability], step.use)
            else:
                name = remote_name(capability, op_name)
                operations[target].setdefault(name, {"calls": work(ser) + data_steps(op, database_of[capability], step.use)})
                entry_calls += work(ser) + [call(f"{target}.{name}")]
                hops.add(1)
        entry_name = request if request not in operations[home] else f"{request}-request"
        if gateway:
            operations[home][entry_name] = {"calls": work(ser) + entry_calls}
            operations[gateway][request] = {"calls": (work(gateway_cpu) if gateway_cpu is not None else []) + work(ser) + [call(f"{home}.{entry_name}")]}
            hops.add(1)
            b.request_class(request, [call(f"{gateway}.{request}")])
        else:
            operations[home][entry_name] = {"calls": entry_calls}
            b.request_class(request, [call(f"{home}.{entry_name}")])
    for ops in operations.values():
        if not ops:  # a deployable no request reaches still needs an operation to be a service
            ops["idle"] = {"service_time": 0}
    return operations
