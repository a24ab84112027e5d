"""The generated Kubernetes manifests, adapted for ``podman kube play`` (Podman 4.3).

``podman kube play`` runs Deployments (``spec.replicas`` pods named ``<deployment>-pod-<i>``),
their containers, ``args``, ``env``, resource limits, the security context and Memory
``emptyDir`` volumes as written. What it does not play, and what :func:`for_podman` changes:

- **Services.** They are accepted and ignored: no Service name resolves and nothing balances
  across a Deployment's pods. Each ``http://<service>:port`` or ``@<service>:port`` in an env value
  becomes the pods' own DNS names (``<deployment>-pod-<i>``, which Podman's network DNS resolves);
  a list of upstreams gets one entry per pod, so the gateway does the balancing a Service would.
- **Namespaces.** Pod names are global on the host: every Deployment gets a ``prefix`` so that
  two plays (or a user's own) never collide.
- **containerPort is published.** Podman 4.3 binds a ``containerPort`` without ``hostPort`` to
  the same port on every host address, so a Deployment's second pod fails ("address already in
  use") and every pod would be reachable from outside. Only the entry Deployment keeps its port,
  with ``hostPort`` on ``127.0.0.1``; the others lose ``ports`` (informational in Kubernetes).
- **readinessProbe** is not turned into anything (only liveness probes become health checks): wait
  for the entry point's ``/health`` instead.
- The infra (pause) container is built locally from the ``catatonit`` binary when no registry is
  reachable (Debian package ``catatonit``).
"""

from __future__ import annotations

import re

import yaml


def for_podman(manifest: str, prefix: str, entry: str, host_port: int) -> str:
    """``manifest`` (from :func:`.manifests.kubernetes`) rewritten as described in the module docstring;
    ``entry`` names the Deployment published on ``127.0.0.1:host_port``."""
    documents = [d for d in yaml.safe_load_all(manifest) if d]
    deployments = [d for d in documents if d["kind"] == "Deployment"]
    pods = {d["metadata"]["name"]: [f"{prefix}-{d['metadata']['name']}-pod-{i}" for i in range(d["spec"]["replicas"])]
            for d in deployments}
    if entry not in pods:
        raise ValueError(f"no Deployment {entry!r} in the manifest: it has {', '.join(pods)}")

    def resolved(value: str) -> str:
        def hosts(match: re.Match) -> str:
            scheme, name, port = match.group(1), match.group(2), match.group(3)
            if name not in pods:
                return match.group(0)
            return ",".join(f"{scheme}{pod}:{port}" for pod in pods[name])
        value = re.sub(r"(http://)([a-z0-9-]+):(\d+)", hosts, value)
        value = ";".join(_unique_urls(part) for part in value.split(";"))  # one entry per pod
        return re.sub(r"(@)([a-z0-9-]+):(\d+)", lambda m: f"@{pods[m.group(2)][0]}:{m.group(3)}" if m.group(2) in pods else m.group(0), value)

    for deployment in deployments:
        name = deployment["metadata"]["name"]
        deployment["metadata"]["name"] = f"{prefix}-{name}"
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for variable in container.get("env", []):
                variable["value"] = resolved(variable["value"])
            if name == entry:
                for port in container["ports"]:
                    port.update({"hostPort": host_port, "hostIP": "127.0.0.1"})
            else:
                container.pop("ports", None)
    return yaml.safe_dump_all(deployments, sort_keys=False)


def _unique_urls(route: str) -> str:
    """``/=a,b,a`` -> ``/=a,b`` (a route's prefix stays before its first ``=``)."""
    prefix, separator, urls = route.rpartition("=") if "=http" in route else ("", "", route)
    return prefix + separator + ",".join(dict.fromkeys(urls.split(",")))
