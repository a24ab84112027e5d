"""Service-based: a few coarse domain services over one shared database.

Capabilities are grouped into domain services (``style.service-based.domains``). Inside a domain
service, capabilities call each other in-process; a request that needs a capability of another
domain makes a network call to it (one round trip of ``network.latency`` each way and
``style.serialisation`` CPU at each end). Clients call the domain service of a request's first
step directly (no gateway). Every domain service uses the one shared database ``db``, so, as in
the monolith, the database and its connection pool are the common bottleneck.

Without ``domains``, capabilities that some request uses together are put in the same domain
service (connected components of "used by the same request"), so no request crosses a domain.
"""

from __future__ import annotations

from ...suggest import did_you_mean, listing

from .building import Build, synchronous_layout

KIND = "service-based"
DATABASE = "db"  #: The shared database.


def default_domains(b: Build) -> dict[str, list[str]]:
    """Group capabilities used by the same request (union-find); name each group after its first capability."""
    parent = {c: c for c in b.app.capabilities}

    def root(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for request in b.app.requests:
        used = b.capabilities_of(request)
        for other in used[1:]:
            parent[root(other)] = root(used[0])
    groups: dict[str, list[str]] = {}
    for capability in b.app.capabilities:
        groups.setdefault(root(capability), []).append(capability)
    return {f"{members[0]}-domain": members for members in groups.values()}


def domain_of_each(b: Build, domains: dict[str, list[str]]) -> dict[str, str]:
    """Capability -> its domain service; every capability in exactly one domain."""
    where = b.settings_path + ("domains",)
    owner: dict[str, str] = {}
    for domain, members in domains.items():
        if not members:
            b.error(where + (domain,), f"domain service '{domain}' holds no capability")
        for i, capability in enumerate(members):
            if capability not in b.app.capabilities:
                suggestion = did_you_mean(capability, b.app.capabilities)
                b.error(where + (domain, i), f"no capability '{capability}' in the application{suggestion}; it has: {listing(b.app.capabilities)}")
            if capability in owner:
                b.error(where + (domain, i), f"capability '{capability}' is already in domain service '{owner[capability]}'")
            owner[capability] = domain
    for capability in b.app.capabilities:
        if capability not in owner:
            b.error(where, f"capability '{capability}' is in no domain service; add it to one of {listing(domains)}")
    return owner


def compile(b: Build) -> None:
    """Build the domain services over the shared database."""
    domains = b.style.service_based.domains or default_domains(b)
    owner = domain_of_each(b, domains)
    operations = synchronous_layout(
        b,
        deployable_of=owner,
        database_of={c: DATABASE for c in b.app.capabilities},
        local_call=lambda capability: b.style.in_process_call,
    )
    for domain in domains:
        b.deployable(domain, operations[domain])
    b.database(DATABASE)
