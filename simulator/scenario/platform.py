"""The scenario fields of platforms, autoscaling, deployments, failures, hosts and the SLO.

These are pydantic sections of :class:`simulator.scenario.model.Scenario` and ``Service``, kept
here so the scenario model stays a short description of the core format. Every field is optional
and validated; unknown keys are errors (the loader turns them into one line naming the field).

Platform settings come in layers: the built-in defaults of a kind (:mod:`.platform_defaults`), the
scenario's ``platforms.<kind>`` catalog entry, then the service's own ``platform:`` mapping. A
field left out (``None``) is taken from the layer below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator, ValidationInfo

from ..distributions import Distribution
from ..strict import Strict as _Section
from ..suggest import quoted, shown
from ..textfile import read_text
from ..units import parse_bandwidth_mb_s, parse_duration, parse_rate, parse_size_mb

Seconds = Annotated[float, BeforeValidator(parse_duration)]
SizeMB = Annotated[float, BeforeValidator(parse_size_mb)]
BandwidthMBs = Annotated[float, BeforeValidator(parse_bandwidth_mb_s)]

PlatformKind = Literal["vm", "container", "microvm", "process"]
KINDS: tuple[str, ...] = ("vm", "container", "microvm", "process")
PHASES: tuple[str, ...] = ("provisioning", "image_pull", "runtime", "app_init", "readiness")  #: Start-up phases, in order.


# --- platforms -----------------------------------------------------------------------------------


class StartupProfile(_Section):
    """Measured start-up phases (seconds), e.g. written by the calibration harness.

    File format (JSON): ``{"kind": "container", "phases": {"image_pull": [3.1, 0.0, 2.9],
    "runtime": [0.61, 0.7], ...}}``. A phase given here is resampled from its measurements (a
    measured pull already includes its cache hits, so ``cache_hit_ratio`` is not applied to it);
    a phase left out keeps its distribution.
    """

    kind: str | None = None
    source: str = ""
    phases: dict[Literal["provisioning", "image_pull", "runtime", "app_init", "readiness"], list[Annotated[float, Field(ge=0)]]]

    @field_validator("phases")
    @classmethod
    def _non_empty(cls, phases: dict[str, list[float]]) -> dict[str, list[float]]:
        for name, values in phases.items():
            if not values:
                raise ValueError(f"start-up profile phase '{name}' has no measurements")
        return phases


def _read_profile(value: Any, info: ValidationInfo) -> Any:
    """``profile: path/to/startup.json`` -> its contents. A relative path is read from the folder of
    the scenario file (the loader passes it as the validation context ``base_dir``), so a scenario
    and its measured profile can move together."""
    if isinstance(value, (str, Path)):
        path = Path(value)
        base_dir = (info.context or {}).get("base_dir")
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        try:
            data = json.loads(read_text(path, "start-up profile"))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            raise ValueError(f"start-up profile {quoted(str(path))}: {shown(exc)}") from None
        if isinstance(data, dict):
            data.setdefault("source", str(path))
        return data
    return value


class PlatformSettings(_Section):
    """One layer of platform settings (a catalog entry or a service's overrides); ``None`` = inherit."""

    provisioning: Distribution | None = Field(
        default=None, description="capacity provisioning: VM scheduling and boot; none for a container on a warm node"
    )
    image_mb: SizeMB | None = Field(default=None, alias="image", ge=0, description="image size pulled on a cache miss, e.g. 200MB")
    pull_bandwidth_mb_s: BandwidthMBs | None = Field(default=None, alias="pull_bandwidth", gt=0, description="e.g. 100MB/s")
    cache_hit_ratio: float | None = Field(default=None, ge=0, le=1, description="chance the image is already on the node")
    runtime: Distribution | None = Field(default=None, description="runtime create/start (container runtime, VMM)")
    app_init: Distribution | None = Field(default=None, description="application initialisation until it can serve")
    readiness: Distribution | None = Field(default=None, description="from serving to the first passing readiness probe")
    memory_mb: SizeMB | None = Field(default=None, alias="memory", gt=0, description="memory request of one instance")
    overhead_memory_mb: SizeMB | None = Field(default=None, alias="overhead_memory", ge=0, description="guest OS / VMM / runtime memory per instance")
    overhead_cores: float | None = Field(default=None, ge=0, description="cores taken per instance by the guest OS, hypervisor or runtime")
    price_per_hour: float | None = Field(default=None, ge=0, description="USD per instance-hour")
    price_per_vcpu_hour: float | None = Field(default=None, ge=0, description="USD per vCPU-hour (per core of the instance)")
    price_per_gb_hour: float | None = Field(default=None, ge=0, description="USD per GB-hour of the memory request")
    min_billed_s: Seconds | None = Field(default=None, ge=0, description="each instance is billed at least this long")
    profile: Annotated[StartupProfile | None, BeforeValidator(_read_profile)] = Field(
        default=None, description="measured start-up profile (JSON file) replacing the phase distributions it covers"
    )


def _kind_shorthand(value: Any) -> Any:
    """``platform: container`` means ``platform: {kind: container}``."""
    if isinstance(value, str):
        return {"kind": value}
    return value


class ServicePlatform(PlatformSettings):
    """A service's platform: its kind plus any overrides, e.g. ``{kind: vm, image: 2GB}``."""

    kind: PlatformKind


ServicePlatformField = Annotated[ServicePlatform | None, BeforeValidator(_kind_shorthand)]


# --- autoscaling ---------------------------------------------------------------------------------


class ScheduledScale(_Section):
    """From ``at`` on, the autoscaler keeps at least ``min`` (and at most ``max``) instances."""

    at_s: Seconds = Field(alias="at", ge=0)
    min_instances: int = Field(alias="min", ge=0)
    max_instances: int | None = Field(default=None, alias="max", ge=1)


class Autoscaling(_Section):
    """A Kubernetes-HPA-like controller (defaults are the HPA's; see docs/platforms.md)."""

    metric: Literal["cpu", "requests_per_instance", "none"] = Field(
        default="cpu", description="cpu: mean utilisation of ready instances; requests_per_instance: arrivals/s per instance; none: schedule only"
    )
    target: float = Field(default=0.7, gt=0, description="cpu: utilisation fraction (0.7); requests_per_instance: requests/s each")
    min_instances: int = Field(default=1, alias="min", ge=0)
    max_instances: int = Field(default=10, alias="max", ge=1)
    sync_period_s: Seconds = Field(default=15.0, alias="sync_period", gt=0)
    tolerance: float = Field(default=0.1, ge=0, lt=1, description="no change while |metric/target - 1| <= tolerance")
    scale_up_stabilization_s: Seconds = Field(default=0.0, alias="scale_up_stabilization", ge=0)
    scale_down_stabilization_s: Seconds = Field(default=300.0, alias="scale_down_stabilization", ge=0)
    scale_up_pods: int = Field(default=4, ge=0, description="add at most this many per scale_up_period ...")
    scale_up_percent: float = Field(default=100.0, ge=0, description="... or this percent, whichever is more")
    scale_up_period_s: Seconds = Field(default=15.0, alias="scale_up_period", gt=0)
    scale_down_percent: float = Field(default=100.0, ge=0, le=100, description="remove at most this percent per scale_down_period")
    scale_down_period_s: Seconds = Field(default=15.0, alias="scale_down_period", gt=0)
    schedule: list[ScheduledScale] = Field(default_factory=list, description="scheduled changes of min/max (a scheduled scaler)")

    @field_validator("target", mode="before")
    @classmethod
    def _target(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.endswith("%"):
                return float(text[:-1]) / 100
            return parse_rate(text)
        return value

    @model_validator(mode="after")
    def _bounds(self) -> "Autoscaling":
        if self.min_instances > self.max_instances:
            raise ValueError(f"autoscaling min ({self.min_instances}) is above max ({self.max_instances})")
        if self.metric == "cpu" and self.target > 1:
            raise ValueError(f"a cpu target is a utilisation fraction like 0.7 or '70%', got {self.target:g}")
        return self


# --- deployments ---------------------------------------------------------------------------------


class Version(_Section):
    """What changes in the new version."""

    service_time: Distribution | None = Field(default=None, description="new CPU demand of every operation")
    fails_readiness: bool = Field(default=False, description="new instances never pass their readiness probe")
    error_rate: float = Field(default=0.0, ge=0, le=1, description="share of requests the new version answers with an error")


class Pause(_Section):
    """The rollout pauses at ``at`` and resumes after ``duration`` (kubectl rollout pause/resume)."""

    at_s: Seconds = Field(alias="at", ge=0)
    duration_s: Seconds = Field(alias="duration", gt=0)


class RollbackOn(_Section):
    """When the rollout is undone automatically."""

    error_rate: float | None = Field(default=None, gt=0, le=1, description="new version's error ratio above this (after 20 requests)")
    progress_deadline_s: Seconds | None = Field(
        default=None, alias="progress_deadline", gt=0, description="no new instance became ready for this long"
    )


class Deployment(_Section):
    """A rolling update like a Kubernetes Deployment's RollingUpdate strategy."""

    at_s: Seconds = Field(alias="at", ge=0, description="when the rollout starts")
    max_surge: int = Field(default=1, ge=0, description="instances above the replica count during the rollout")
    max_unavailable: int = Field(default=0, ge=0, description="ready instances below the replica count allowed")
    new_version: Version = Field(default_factory=Version)
    pauses: list[Pause] = Field(default_factory=list)
    rollback_on: RollbackOn | None = None
    check_period_s: Seconds = Field(default=1.0, alias="check_period", gt=0, description="how often the controller looks")

    @model_validator(mode="after")
    def _can_progress(self) -> "Deployment":
        if self.max_surge == 0 and self.max_unavailable == 0:
            raise ValueError("max_surge and max_unavailable cannot both be 0 (the rollout could never progress)")
        return self


# --- failures ------------------------------------------------------------------------------------


class Failure(_Section):
    """Something that goes wrong: an instance crash, a whole-service outage, a host loss, or errors."""

    kind: Literal["crash", "outage", "host", "errors"] = "crash"
    service: str | None = Field(default=None, description="the service hit (not for `host`)")
    at_s: Seconds | None = Field(default=None, alias="at", ge=0, description="when (a scheduled failure)")
    mtbf_s: Seconds | None = Field(default=None, alias="mtbf", gt=0, description="mean time between crashes of each instance (exponential)")
    mttr: Distribution | None = Field(default=None, description="time to repair, replacing detection + restart")
    detection: Distribution | None = Field(default=None, description="time until the platform notices (health checks); default 10s")
    recovery: Literal["restart", "replace"] = Field(
        default="restart", description="restart in place (runtime + init + readiness) or replace (a full start-up)"
    )
    instance: int = Field(default=0, ge=0, description="which ready instance a scheduled crash hits")
    host: int = Field(default=0, ge=0, description="which host a `host` failure takes down")
    duration_s: Seconds | None = Field(default=None, alias="duration", gt=0, description="length of an outage or error burst")
    error_rate: float = Field(default=0.0, ge=0, le=1, description="for `errors`: share of requests answered with an error")

    @model_validator(mode="after")
    def _complete(self) -> "Failure":
        if self.kind in ("crash", "outage", "errors") and not self.service:
            raise ValueError(f"a `{self.kind}` failure needs `service`")
        if self.kind == "crash" and (self.at_s is None) == (self.mtbf_s is None):
            raise ValueError("a crash needs either `at` (scheduled) or `mtbf` (random), not both")
        if self.kind != "crash" and self.at_s is None:
            raise ValueError(f"a `{self.kind}` failure needs `at`")
        if self.kind in ("outage", "errors") and self.duration_s is None:
            raise ValueError(f"a `{self.kind}` failure needs `duration`")
        return self


# --- hosts, SLO, circuit breaker -----------------------------------------------------------------


class LoadGenerator(_Section):
    """The load generator as a tenant of the first host: CPU it burns per request sent (Locust's own work)."""

    cpu_per_request_s: Seconds = Field(alias="cpu_per_request", gt=0, description="CPU time per request, e.g. 0.4ms (measured)")
    processes: float = Field(default=1.0, gt=0, description="cores it can use at most (one Locust process: 1)")


class Hosts(_Section):
    """A cluster of equal hosts that instances are packed onto by their requests (first fit).

    With ``cpu: shared`` the hosts' cores are also where the CPU work runs: every instance on a
    host (a service without a ``platform`` runs on the first host) shares its cores with the
    others, by processor sharing between tenants of equal weight, each capped by its cgroup quota
    (:mod:`simulator.platforms.host_cpu`).
    """

    cores: int = Field(default=16, ge=1, description="cores per host")
    memory_mb: SizeMB = Field(default=64000.0, alias="memory", gt=0, description="memory per host, e.g. 64GB")
    initial: int = Field(default=1, ge=0, description="hosts running at t=0 (more are added at t=0 if the initial instances need them)")
    max_hosts: int | None = Field(default=None, alias="max", ge=1, description="cluster size limit; beyond it instances wait")
    boot: Distribution | None = Field(default=None, description="time to add a host; default: the VM provisioning time")
    price_per_hour: float = Field(default=0.768, ge=0, description="USD per host-hour")
    idle_timeout_s: Seconds = Field(default=600.0, alias="idle_timeout", gt=0, description="an empty extra host is removed after this")
    cpu: Literal["dedicated", "shared"] = Field(
        default="dedicated", description="dedicated: each instance has its own cores; shared: instances on a host share its cores"
    )
    cpu_limits: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict, description="service -> cores each of its instances may use at most (a `--cpus` quota); cpu: shared only"
    )
    cpu_weights: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict, description="service -> relative share of a contended host per instance (cgroup cpu.weight; default 1)"
    )
    load_generator: LoadGenerator | None = Field(default=None, description="the load generator as a tenant of the first host; cpu: shared only")

    @model_validator(mode="after")
    def _shared_only(self) -> "Hosts":
        if self.cpu != "shared":
            used = [name for name in ("cpu_limits", "cpu_weights", "load_generator") if getattr(self, name)]
            if used:
                raise ValueError(f"hosts.{used[0]} needs `cpu: shared` (with dedicated cores nothing is shared)")
        elif self.initial < 1:
            raise ValueError("`cpu: shared` needs `initial` of at least 1 (services without a platform run on the first host)")
        return self


class Slo(_Section):
    """The service-level objective that recovery is measured against."""

    p95_s: Seconds = Field(alias="p95", gt=0, description="interval p95 latency must be at or below this")
    error_rate: float = Field(default=0.01, ge=0, le=1, description="interval error ratio must be at or below this")


class CircuitBreaker(_Section):
    """Fail fast while a callee is failing: open after ``failure_ratio`` of calls in a ``window`` failed."""

    failure_ratio: float = Field(default=0.5, gt=0, le=1)
    window_s: Seconds = Field(default=10.0, alias="window", gt=0, description="tumbling window over which failures are counted")
    min_calls: int = Field(default=20, ge=1, description="calls in a window before it can open")
    open_for_s: Seconds = Field(default=30.0, alias="open_for", gt=0, description="time it stays open before a trial call")


def uses_platforms(scenario: Any) -> bool:
    """Whether a scenario needs the platform machinery at all (plain scenarios skip it)."""
    if scenario.failures or scenario.hosts is not None or scenario.slo is not None:
        return True
    if any(s.platform is not None or s.autoscaling is not None or s.deployment is not None for s in scenario.services.values()):
        return True
    steps = [step for c in scenario.classes.values() for step in c.calls]
    steps += [step for s in scenario.services.values() for op in s.operations.values() for step in op.calls]
    while steps:  # a circuit breaker anywhere: report on it
        step = steps.pop()
        if getattr(step, "circuit_breaker", None) is not None:
            return True
        steps.extend(getattr(step, "parallel", None) or [])
    return False


def reference_problem(scenario: Any) -> str | None:
    """Cross-field rules of these sections, as one message (``None`` if all is well)."""
    for name, service in scenario.services.items():
        if (service.autoscaling is not None or service.deployment is not None) and service.platform is None:
            return f"service '{name}' has autoscaling or a deployment but no `platform` (say e.g. `platform: container`)"
    for i, failure in enumerate(scenario.failures):
        if failure.service is not None and failure.service not in scenario.services:
            known = ", ".join(scenario.services)
            return f"failures[{i}]: unknown service '{failure.service}' (services: {known})"
        if failure.kind == "host" and scenario.hosts is None:
            return f"failures[{i}]: a `host` failure needs a `hosts` section"
    hosts = scenario.hosts
    if hosts is not None and hosts.cpu == "shared":
        for field_name in ("cpu_limits", "cpu_weights"):
            for name in getattr(hosts, field_name):
                if name not in scenario.services:
                    return f"hosts.{field_name}: unknown service '{name}' (services: {', '.join(scenario.services)})"
        for name, service in scenario.services.items():
            if service.autoscaling is not None or service.deployment is not None:
                return f"service '{name}': autoscaling and deployments are not modelled with `hosts.cpu: shared` yet"
        if scenario.failures:
            return "failures are not modelled with `hosts.cpu: shared` yet (instances would be replaced outside the host's processor)"
    return None
