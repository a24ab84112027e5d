"""The scenario file format, as pydantic models.

A scenario says what load arrives (``workload``), what kinds of request there are and what each
one calls (``classes``), the services that do the work (``services``), and optionally several
``variants`` of the same system to compare under the same load. Units are written in strings
(``250ms``, ``100/s``) and converted here; unknown keys are errors.

Cross-field rules that need the whole file (calls to defined services, mix sums to 1, no cycles)
live in :mod:`simulator.scenario.checks`, so this module stays a plain description of the format.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, model_validator

from ..distributions import ZERO, Distribution
from . import platform as platform_spec
from ..strict import Strict
from .sweep import Sweep
from ..units import parse_duration, parse_rate
from .http import HttpRequest
from .slo import Slo as Thresholds

Seconds = Annotated[float, BeforeValidator(parse_duration), Field(json_schema_extra={"examples": ["250ms", "2s", "1.5m"]})]
RatePerS = Annotated[float, BeforeValidator(parse_rate), Field(json_schema_extra={"examples": ["100/s", "6000/min"]})]

MAX_PROFILE_POINTS = 10_000  #: Most points in a rate profile (an hour at one point per 0.36 s).
MAX_SPIKES = 1_000  #: Most spikes in a workload.
MAX_INSTANCES = 10_000  #: Most instances of one service.
MAX_CORES = 1_024  #: Most cores of one instance.
MAX_COUNT = 10**9  #: Upper bound of slot, queue and user counts.


# --- workload ------------------------------------------------------------------------------------


class RatePoint(Strict):
    """From ``at`` on, the arrival rate is ``rate``; with ``ramp`` it changes linearly over that time."""

    at_s: Seconds = Field(alias="at", ge=0)
    rate_per_s: RatePerS = Field(alias="rate", ge=0)
    ramp_s: Seconds = Field(default=0.0, alias="ramp", ge=0, description="time to move linearly from the previous rate")


class Spike(Strict):
    """A burst on top of the base rate: the rate is multiplied by ``factor`` for ``duration``."""

    at_s: Seconds = Field(alias="at", ge=0)
    duration_s: Seconds = Field(alias="duration", gt=0)
    factor: float = Field(gt=0, description="multiplier of the base rate during the spike, e.g. 4")
    ramp_s: Seconds = Field(default=0.0, alias="ramp", ge=0)


class OpenWorkload(Strict):
    """Requests arrive on their own schedule, whatever the system does (an open queueing model)."""

    type: Literal["open"] = "open"
    arrivals: Literal["poisson", "deterministic"] = Field(
        default="poisson", description="inter-arrival times: exponential (Poisson process) or constant"
    )
    rate_per_s: RatePerS | None = Field(default=None, alias="rate", gt=0, description="constant arrival rate")
    profile: list[RatePoint] | None = Field(
        default=None, max_length=MAX_PROFILE_POINTS, description="piecewise-constant or ramped rate over time (replaces `rate`)"
    )
    spikes: list[Spike] = Field(default_factory=list, max_length=MAX_SPIKES, description="bursts multiplying the rate")
    mix: dict[str, float] | None = Field(default=None, description="share of each request class; sums to 1")

    @model_validator(mode="after")
    def _one_rate(self) -> "OpenWorkload":
        if self.rate_per_s is None and not self.profile:
            raise ValueError("an open workload needs `rate` (e.g. 100/s) or a `profile`")
        if self.rate_per_s is not None and self.profile:
            raise ValueError("give either `rate` or `profile`, not both")
        if self.profile:
            times = [p.at_s for p in self.profile]
            if times[0] != 0:
                raise ValueError("the first profile point must be `at: 0s`")
            if any(b <= a for a, b in zip(times, times[1:])):
                raise ValueError("profile points must have increasing `at` times")
        return self


class ClosedWorkload(Strict):
    """A fixed population of users, each waiting for its response and thinking before the next."""

    type: Literal["closed"]
    users: int = Field(ge=1, le=MAX_COUNT, description="number of concurrent users (Locust's -u)")
    think_time: Distribution = Field(default=ZERO, description="pause between a response and the next request")
    spawn_rate_per_s: RatePerS | None = Field(
        default=None, alias="spawn_rate", gt=0, description="users started per second (Locust's -r); all at once if absent"
    )
    mix: dict[str, float] | None = None


Workload = Annotated[Union[OpenWorkload, ClosedWorkload], Field(discriminator="type")]


def _default_open(value: Any) -> Any:
    if isinstance(value, dict) and "type" not in value:
        return {**value, "type": "open"}
    return value


# --- call graphs ---------------------------------------------------------------------------------


class Call(Strict):
    """A call to ``service.operation`` (or just ``service`` for its only operation)."""

    call: str = Field(description="target as `service.operation` or `service`")
    mode: Literal["sync", "async"] = Field(
        default="sync", description="sync waits for the response; async is fire-and-forget"
    )
    probability: float = Field(default=1.0, gt=0, le=1, description="chance the call is made at all")
    repeat_probability: float = Field(
        default=0.0, ge=0, lt=1, description="after the call, make it again with this chance (feedback loops)"
    )
    timeout_s: Seconds | None = Field(
        default=None, alias="timeout", gt=0, description="the caller gives up on an attempt after this (the callee keeps working)"
    )
    retries: int = Field(default=0, ge=0, le=100, description="extra attempts after a failed or timed-out one")
    retry_backoff: Distribution = Field(
        default=ZERO, description="wait before the first retry; multiplied by backoff_multiplier for each later one"
    )
    backoff_multiplier: float = Field(default=2.0, ge=1.0, description="exponential backoff factor between retries")
    circuit_breaker: platform_spec.CircuitBreaker | None = Field(
        default=None, description="fail fast while the callee fails (each attempt passes through it)"
    )
    stream: str | None = Field(
        default=None, description="logical name of the random source of its network hops (common random numbers across designs); default: where it is written"
    )


class Parallel(Strict):
    """Fan-out: every branch starts at once; the step ends when all have answered."""

    parallel: list["Step"] = Field(min_length=1)
    probability: float = Field(default=1.0, gt=0, le=1)


class Delay(Strict):
    """Time that passes without using a core (I/O, an external API with known latency)."""

    delay: Distribution
    probability: float = Field(default=1.0, gt=0, le=1)


class Work(Strict):
    """CPU work on the current service between calls (takes a core)."""

    work: Distribution
    probability: float = Field(default=1.0, gt=0, le=1)
    stream: str | None = Field(
        default=None, description="logical name of the random source of its demand (common random numbers across designs); default: where it is written"
    )


def _shorthand_step(value: Any) -> Any:
    if isinstance(value, str):
        return {"call": value}
    return value


Step = Annotated[Union[Call, Parallel, Delay, Work], BeforeValidator(_shorthand_step)]
Parallel.model_rebuild()


class Operation(Strict):
    """What an instance does for one request: CPU work first, then its downstream calls in order."""

    service_time: Distribution = Field(
        default=ZERO, description="CPU demand of the operation itself, served on one of the instance's cores"
    )
    calls: list[Step] = Field(default_factory=list, description="downstream steps, after the CPU work")
    stream: str | None = Field(
        default=None, description="logical name of the random source of its demand (common random numbers across designs); default: `service.operation`"
    )


# --- services ------------------------------------------------------------------------------------


class Service(Strict):
    """A deployable: ``instances`` copies behind a load balancer, each with cores, slots and a queue."""

    instances: int = Field(default=1, ge=1, le=MAX_INSTANCES)
    cores: int = Field(default=1, ge=1, le=MAX_CORES, description="CPU servers per instance")
    concurrency: int | None = Field(
        default=None, ge=1, le=MAX_COUNT, description="requests an instance works on at once (threads/slots); default = cores"
    )
    queue: int | None = Field(
        default=None, ge=0, le=MAX_COUNT, description="requests an instance holds waiting for a slot; full -> rejected; default unbounded"
    )
    load_balancing: Literal["round_robin", "least_connections", "random"] = "round_robin"
    operations: dict[str, Operation] = Field(min_length=1)
    platform: platform_spec.ServicePlatformField = Field(
        default=None, description="where instances run: vm, container, microvm or process (or a mapping with overrides)"
    )
    autoscaling: platform_spec.Autoscaling | None = Field(default=None, description="an HPA-like controller of `instances`")
    deployment: platform_spec.Deployment | None = Field(default=None, description="a rolling update during the run")

    @model_validator(mode="before")
    @classmethod
    def _single_operation(cls, value: Any) -> Any:
        """``service_time:`` directly on a service means one operation called ``default``."""
        if isinstance(value, dict) and "operations" not in value and ("service_time" in value or "calls" in value):
            value = dict(value)
            op = {k: value.pop(k) for k in ("service_time", "calls") if k in value}
            value["operations"] = {"default": op}
        return value


# --- request classes -----------------------------------------------------------------------------


class Route(Strict):
    """Markov routing (a Jackson network): where a request starts and where it goes after each visit."""

    start: dict[str, float] = Field(description="first service -> probability")
    after: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="service -> {next service: probability}; the remainder leaves"
    )


class RequestClass(Strict):
    """A kind of request (like a Locust task): its call graph, timeout and how its latency is judged."""

    calls: list[Step] = Field(default_factory=list, description="what the client calls, in order")
    route: Route | None = Field(default=None, description="probabilistic routing instead of `calls`")
    timeout_s: Seconds | None = Field(default=None, alias="timeout", gt=0, description="client gives up after this")
    http: HttpRequest | None = Field(default=None, description="the HTTP request `archsim loadtest` sends for this class")

    @model_validator(mode="after")
    def _calls_or_route(self) -> "RequestClass":
        if self.calls and self.route:
            raise ValueError("a request class needs either `calls` or `route`, not both")
        if not self.calls and not self.route and self.http is None:
            raise ValueError("a request class needs `calls` or `route` (to simulate) or `http` (to load-test)")
        return self


# --- the scenario --------------------------------------------------------------------------------


class Network(Strict):
    """The network between the client and services and between services."""

    latency: Distribution = Field(default=ZERO, description="one-way latency of each hop (request and response)")
    client_latency: Distribution | None = Field(
        default=None,
        description="one-way latency between the client and the services it calls (each way), when it differs from the "
                    "hops between services: e.g. a load generator's own per-request cost, fitted by a calibration; default: latency",
    )


class Variant(Strict):
    """One design to compare: the base scenario with some fields replaced (dotted paths)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    set: dict[str, Any] = Field(default_factory=dict, description="dotted path -> value, e.g. services.api.instances: 4")


class Scenario(Strict):
    """A whole scenario file."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="used for the results folder")
    description: str = ""
    seed: int = Field(default=1, ge=0, lt=2**63)
    duration_s: Seconds = Field(alias="duration", gt=0, description="simulated time of each replication, warm-up included")
    warmup_s: Seconds = Field(default=0.0, alias="warmup", ge=0, description="initial time whose data is discarded")
    replications: int = Field(default=1, ge=1, le=1000)
    metrics_interval_s: Seconds = Field(default=1.0, alias="metrics_interval", gt=0, description="time-series step")
    workload: Annotated[Workload, BeforeValidator(_default_open)]
    network: Network = Field(default_factory=Network)
    classes: dict[str, RequestClass] = Field(min_length=1, description="request classes by name")
    services: dict[str, Service] = Field(default_factory=dict, description="needed to simulate; a load-test-only scenario may omit them")
    variants: list[Variant] = Field(default_factory=list)
    sweep: Sweep | None = Field(default=None, description="design points: a grid, zipped lists or a Latin hypercube over dotted paths; each point runs every variant")
    meta: dict[str, Any] = Field(
        default_factory=dict,
        description="labels and structural facts copied into results as `extras` (e.g. style, deployables)",
    )
    platforms: dict[platform_spec.PlatformKind, platform_spec.PlatformSettings] = Field(
        default_factory=dict, description="overrides of the built-in platform defaults, per kind"
    )
    hosts: platform_spec.Hosts | None = Field(default=None, description="hosts that instances are packed onto")
    failures: list[platform_spec.Failure] = Field(default_factory=list, description="crashes, outages, host losses, error bursts")
    slo: Thresholds | None = Field(default=None, description="thresholds a run passes or fails (p95<200ms, errors<1%); also the objective of time-to-recovery after load changes")

    @model_validator(mode="after")
    def _platform_references(self) -> "Scenario":
        problem = platform_spec.reference_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def uses_platforms(self) -> bool:
        """Whether any platform, autoscaling, deployment, failure, host or SLO field is set."""
        return platform_spec.uses_platforms(self)

    @property
    def measured_s(self) -> float:
        """Length of the measurement window (duration minus warm-up)."""
        return self.duration_s - self.warmup_s
