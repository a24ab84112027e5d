"""Hosts that instances are packed onto, and the cluster growing when they are full.

An instance requests ``cores + overhead_cores`` cores and ``memory + overhead_memory`` MB. It goes
on the first host (in the order hosts were added) with room for both, as a bin-packing scheduler
does. If no host has room, a host is added and the instance waits for that host to boot (the VM
boot that makes "just add a node" slow); instances that arrive while it boots share it if they fit.
At ``max`` hosts, instances wait until room frees up. An empty host beyond the initial ones is
removed after ``idle_timeout`` (the cluster autoscaler's scale-down-unneeded time). Host-hours are
what a self-managed cluster pays for (:mod:`.cost`).
"""

from __future__ import annotations

from collections.abc import Generator

from ..scenario.platform import Hosts


class Host:
    """One machine: its size, what is reserved on it, and when it existed."""

    def __init__(self, index: int, cores: int, memory_mb: float, added_at: float, booted):
        self.index = index
        self.cores = cores
        self.memory_mb = memory_mb
        self.used_cores = 0.0
        self.used_memory_mb = 0.0
        self.members: list = []  #: Lifecycle members placed here.
        self.added_at = added_at
        self.removed_at: float | None = None
        self.booted = booted  #: SimPy event, triggered when the host can run instances.

    @property
    def alive(self) -> bool:
        return self.removed_at is None

    def fits(self, cores: float, memory_mb: float) -> bool:
        return self.used_cores + cores <= self.cores + 1e-9 and self.used_memory_mb + memory_mb <= self.memory_mb + 1e-9


class HostPool:
    """The cluster of one simulation."""

    def __init__(self, sim, spec: Hosts, boot_sampler):
        self.sim = sim
        self.env = sim.env
        self.spec = spec
        self._boot = boot_sampler
        self.hosts: list[Host] = []  #: Every host ever added (removed ones keep ``removed_at``).
        self._freed = self.env.event()
        for _ in range(spec.initial):
            self._add(booted=True)

    # --- placement -----------------------------------------------------------------------------

    def alive(self) -> list[Host]:
        return [h for h in self.hosts if h.alive]

    def place_now(self, member, cores: float, memory_mb: float) -> Host:
        """Place an instance that exists at t=0 (adding pre-booted hosts if needed)."""
        host = self._first_fit(cores, memory_mb) or self._add(booted=True)
        if not host.fits(cores, memory_mb):
            raise ValueError(f"an instance needing {cores:g} cores and {memory_mb:g} MB does not fit on a host of {host.cores} cores and {host.memory_mb:g} MB")
        self._reserve(host, member, cores, memory_mb)
        return host

    def place(self, member, cores: float, memory_mb: float) -> Generator:
        """SimPy sub-process: reserve room for ``member``, adding a host if needed; ends when its host is up."""
        if cores > self.spec.cores or memory_mb > self.spec.memory_mb:
            raise ValueError(f"an instance needing {cores:g} cores and {memory_mb:g} MB cannot fit on any host")
        while True:
            host = self._first_fit(cores, memory_mb)
            if host is None and (self.spec.max_hosts is None or len(self.alive()) < self.spec.max_hosts):
                host = self._add(booted=False)
            if host is not None:
                break
            yield self._freed  # the cluster is at its limit: wait for room
        self._reserve(host, member, cores, memory_mb)
        if not host.booted.triggered:
            yield host.booted

    def release(self, member) -> None:
        """The instance is gone: free its room (and maybe, later, the host)."""
        host = member.host
        if host is None:
            return
        member.host = None
        if member in host.members:
            host.members.remove(member)
            host.used_cores -= member.request_cores
            host.used_memory_mb -= member.request_memory_mb
        if not self._freed.triggered:
            self._freed.succeed()
        self._freed = self.env.event()
        if host.alive and not host.members and len(self.alive()) > self.spec.initial:
            self.sim.at(self.env.now + self.spec.idle_timeout_s, lambda h=host: self._remove_if_idle(h))

    def fail(self, index: int) -> list:
        """Host ``index`` (among the live ones) dies; returns the members that were on it."""
        alive = self.alive()
        if not alive:
            return []
        host = alive[min(index, len(alive) - 1)]
        host.removed_at = self.env.now
        return list(host.members)

    # --- internals -------------------------------------------------------------------------------

    def _first_fit(self, cores: float, memory_mb: float) -> Host | None:
        for host in self.hosts:
            if host.alive and host.fits(cores, memory_mb):
                return host
        return None

    def _reserve(self, host: Host, member, cores: float, memory_mb: float) -> None:
        host.used_cores += cores
        host.used_memory_mb += memory_mb
        host.members.append(member)
        member.host = host
        member.request_cores = cores
        member.request_memory_mb = memory_mb

    def _add(self, booted: bool) -> Host:
        event = self.env.event()
        host = Host(len(self.hosts), self.spec.cores, self.spec.memory_mb, self.env.now, event)
        self.hosts.append(host)
        if booted:
            event.succeed()
        else:
            boot_s = self._boot()
            self.sim.mark("host_added", host=host.index, boot_s=boot_s)
            self.env.process(self._boot_host(event, boot_s))
        return host

    def _boot_host(self, event, boot_s: float) -> Generator:
        yield self.env.timeout(boot_s)
        event.succeed()

    def _remove_if_idle(self, host: Host) -> None:
        if host.alive and not host.members and len(self.alive()) > self.spec.initial:
            host.removed_at = self.env.now
            self.sim.mark("host_removed", host=host.index)
