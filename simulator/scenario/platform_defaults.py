"""Built-in settings of each platform kind, and how the layers of settings resolve.

Every number here is cited (or marked as an assumption) in ``docs/platforms.md``; change the two
together. A scenario replaces any of them with ``platforms.<kind>`` or a service's ``platform:``
mapping, and start-up phases can come from a measured profile instead.

The application's own initialisation (``app_init``) is the same for every kind on purpose: it
belongs to the application, not the platform, so a comparison of kinds isolates the platform.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..distributions import Deterministic, Distribution, LogNormal, Uniform
from .platform import PHASES, Hosts, PlatformSettings, ServicePlatform, StartupProfile

NONE = Deterministic(value=0.0)
APP_INIT = Deterministic(value=2.0)  # assumption: a small web application; replace with a measurement

#: EC2 on-demand m5.large (2 vCPU, 8 GiB), us-east-1: USD 0.096/h -> 0.048 per vCPU-hour.
EC2_PER_VCPU_HOUR = 0.048
#: AWS Fargate Linux/x86, us-east-1: USD 0.04048 per vCPU-hour and 0.004445 per GB-hour.
FARGATE_PER_VCPU_HOUR = 0.04048
FARGATE_PER_GB_HOUR = 0.004445

DEFAULTS: dict[str, PlatformSettings] = {
    # Mao & Humphrey (IEEE CLOUD 2012): EC2 Linux VM start-up 96.9 s on average; the spread (cv 0.2)
    # is an assumption. The VM image is fetched as part of that boot, so no separate pull.
    # Readiness: one load-balancer health-check interval (ELB/ALB default 30 s), uniform.
    "vm": PlatformSettings(
        provisioning=LogNormal(mean=96.9, cv=0.2),
        image=0.0,
        pull_bandwidth=100.0,
        cache_hit_ratio=1.0,
        runtime=NONE,
        app_init=APP_INIT,
        readiness=Uniform(low=0.0, high=30.0),
        memory=512.0,
        overhead_memory=512.0,  # assumption: a minimal Linux guest OS
        overhead_cores=0.0,
        price_per_vcpu_hour=EC2_PER_VCPU_HOUR,
        price_per_gb_hour=0.0,  # memory comes with the instance type
        min_billed_s=60.0,  # EC2 per-second billing with a one-minute minimum
    ),
    # A container on a warm node: no provisioning; pull = image / bandwidth on a cache miss
    # (Harter et al., FAST 2016: pulling accounts for 76% of container start time); runtime
    # create/start ~0.5-1.2 s on SSD. Readiness: Kubernetes probe periodSeconds default 10 s.
    "container": PlatformSettings(
        provisioning=NONE,
        image=200.0,  # assumption: a slim application image
        pull_bandwidth=100.0,  # assumption: ~1 Gbit/s from a registry in the same region
        cache_hit_ratio=0.5,  # assumption: replace with the node-cache hit ratio you observe
        runtime=Uniform(low=0.5, high=1.2),
        app_init=APP_INIT,
        readiness=Uniform(low=0.0, high=10.0),
        memory=512.0,
        overhead_memory=10.0,  # assumption: containerd shim and cgroup bookkeeping
        overhead_cores=0.0,
        price_per_vcpu_hour=FARGATE_PER_VCPU_HOUR,
        price_per_gb_hour=FARGATE_PER_GB_HOUR,
        min_billed_s=60.0,  # Fargate per-second billing with a one-minute minimum
    ),
    # Firecracker specification: <= 125 ms from InstanceStart to guest /sbin/init, VMM memory
    # overhead <= 5 MiB. The root filesystem is the same image as the container's.
    "microvm": PlatformSettings(
        provisioning=NONE,
        image=200.0,
        pull_bandwidth=100.0,
        cache_hit_ratio=0.5,
        runtime=Deterministic(value=0.125),
        app_init=APP_INIT,
        readiness=Uniform(low=0.0, high=10.0),
        memory=512.0,
        overhead_memory=5 * 1.048576,  # 5 MiB in MB
        overhead_cores=0.0,
        price_per_vcpu_hour=FARGATE_PER_VCPU_HOUR,  # assumption: priced like managed containers
        price_per_gb_hour=FARGATE_PER_GB_HOUR,
        min_billed_s=60.0,
    ),
    # A process on an existing host: nothing to provision or pull; fork/exec is milliseconds.
    "process": PlatformSettings(
        provisioning=NONE,
        image=0.0,
        pull_bandwidth=100.0,
        cache_hit_ratio=1.0,
        runtime=Deterministic(value=0.01),  # assumption: fork/exec of the server binary
        app_init=APP_INIT,
        readiness=Uniform(low=0.0, high=10.0),
        memory=512.0,
        overhead_memory=0.0,
        overhead_cores=0.0,
        price_per_vcpu_hour=EC2_PER_VCPU_HOUR,  # the host's hardware, without a guest OS
        price_per_gb_hour=0.0,
        min_billed_s=0.0,
    ),
}

#: Time to add a host when the cluster must grow: a VM boot.
HOST_BOOT: Distribution = DEFAULTS["vm"].provisioning  # type: ignore[assignment]
#: Kubernetes readiness/liveness probe periodSeconds default: how long a crash goes unnoticed.
DETECTION: Distribution = Deterministic(value=10.0)


@dataclass(frozen=True)
class Platform:
    """The resolved settings of one service's platform (every field set)."""

    kind: str
    provisioning: Distribution
    image_mb: float
    pull_bandwidth_mb_s: float
    cache_hit_ratio: float
    runtime: Distribution
    app_init: Distribution
    readiness: Distribution
    memory_mb: float
    overhead_memory_mb: float
    overhead_cores: float
    price_per_hour: float
    price_per_vcpu_hour: float
    price_per_gb_hour: float
    min_billed_s: float
    profile: StartupProfile | None

    @property
    def expected_startup_s(self) -> dict[str, float]:
        """Mean of each phase: the mean of the sum is the sum of these."""
        measured = self.profile.phases if self.profile else {}
        pull = (1 - self.cache_hit_ratio) * self.image_mb / self.pull_bandwidth_mb_s
        means = {
            "provisioning": self.provisioning.mean,
            "image_pull": pull,
            "runtime": self.runtime.mean,
            "app_init": self.app_init.mean,
            "readiness": self.readiness.mean,
        }
        for phase in PHASES:
            if phase in measured:
                means[phase] = sum(measured[phase]) / len(measured[phase])
        return means


def resolve(service: ServicePlatform, catalog: dict[str, PlatformSettings]) -> Platform:
    """Built-in defaults of the kind, then the scenario's catalog entry, then the service's overrides."""
    layers = [DEFAULTS[service.kind], catalog.get(service.kind), service]
    values: dict[str, object] = {}
    for name in PlatformSettings.model_fields:
        for layer in layers:
            if layer is not None and getattr(layer, name) is not None:
                values[name] = getattr(layer, name)
    values.setdefault("price_per_hour", 0.0)
    values.setdefault("profile", None)
    return Platform(kind=service.kind, **values)  # type: ignore[arg-type]


def host_boot(hosts: Hosts) -> Distribution:
    return hosts.boot if hosts.boot is not None else HOST_BOOT
