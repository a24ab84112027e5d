"""What the run cost, per million successful requests, and how much of the paid capacity sat idle.

Billing covers the measured window (warm-up excluded), like the request counts it is divided by.

- Without ``hosts``, each platform instance is billed from its request until it is stopped, at
  ``price_per_hour + cores * price_per_vcpu_hour + memory_GB * price_per_gb_hour``, for at least
  ``min_billed_s`` (per-second billing with a minimum, as EC2 and Fargate do).
- With ``hosts``, the cluster is what is paid for: host-hours at ``hosts.price_per_hour``.

Idle fraction = 1 - busy core-seconds / paid core-seconds (instances' cores, or hosts' cores):
starting instances, spare headroom and half-empty hosts all show up as idle.
"""

from __future__ import annotations

from .lifecycle import Fleet


def _overlap(start: float, end: float, lo: float, hi: float) -> float:
    return max(0.0, min(end, hi) - max(start, lo))


def instance_price_per_s(fleet: Fleet) -> float:
    p = fleet.platform
    cores = fleet.runtime.cores
    per_hour = p.price_per_hour + cores * p.price_per_vcpu_hour + (p.memory_mb / 1000.0) * p.price_per_gb_hour
    return per_hour / 3600.0


def cost_summary(fleets: list[Fleet], hosts, warmup_s: float, end_s: float, successes: int, since_warmup) -> dict[str, float]:
    """The ``extras.cost`` block; ``since_warmup(instance)`` gives its counters over the measured window."""
    total = 0.0
    paid_core_s = 0.0
    busy_core_s = 0.0
    by_service: dict[str, float] = {}
    for fleet in fleets:
        for inst in fleet.runtime.all_instances():
            busy_core_s += since_warmup(inst).busy_s
        if hosts is not None:
            continue
        price_s = instance_price_per_s(fleet)
        usd = 0.0
        for member in fleet.members:
            stop = member.billed_to if member.billed_to is not None else end_s
            billed_until = max(stop, member.billed_from + fleet.platform.min_billed_s)
            seconds = _overlap(member.billed_from, billed_until, warmup_s, end_s)
            usd += seconds * price_s
            paid_core_s += _overlap(member.billed_from, stop, warmup_s, end_s) * fleet.runtime.cores
        by_service[fleet.name] = usd
        total += usd
    out: dict[str, float] = {}
    if hosts is not None:
        host_s = 0.0
        for host in hosts.hosts:
            stop = host.removed_at if host.removed_at is not None else end_s
            seconds = _overlap(host.added_at, stop, warmup_s, end_s)
            host_s += seconds
            paid_core_s += seconds * host.cores
        total = host_s / 3600.0 * hosts.spec.price_per_hour
        out["host_hours"] = host_s / 3600.0
        out["hosts_peak"] = float(_peak_hosts(hosts))
    measured_s = end_s - warmup_s
    out.update({
        "total_usd": total,
        "per_hour_usd": total / measured_s * 3600.0 if measured_s > 0 else 0.0,
        "per_million_requests_usd": total / successes * 1e6 if successes else None,
        "idle_fraction": 1.0 - busy_core_s / paid_core_s if paid_core_s > 0 else None,
        "paid_core_hours": paid_core_s / 3600.0,
    })
    if by_service:
        out["by_service_usd"] = by_service
    return out


def _peak_hosts(hosts) -> int:
    events = []
    for host in hosts.hosts:
        events.append((host.added_at, 1))
        if host.removed_at is not None:
            events.append((host.removed_at, -1))
    peak = level = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):
        level += step
        peak = max(peak, level)
    return peak
