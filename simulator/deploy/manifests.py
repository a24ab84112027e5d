"""The deployments as Kubernetes manifests and compose files, for users with real clusters.

Generated from the same :mod:`.topology` as ``archsim deploy up``: one Deployment and one Service
per container group (replicas become ``spec.replicas``), the same hardening (non-root, read-only
root filesystem, all capabilities dropped, memory and CPU limits) and the entry point published
on 127.0.0.1 only in compose. Secrets are placeholders (``change-me``): set real ones before
deploying anywhere shared. Written as YAML by a tiny emitter (this package uses only the stdlib).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import topology as topologies

PLACEHOLDER_SECRETS = topologies.Secrets("change-me-database", "change-me-broker")


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts, lists and scalars (strings quoted as JSON, which YAML accepts)."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:\n{to_yaml(item, indent + 1)}")
            else:
                lines.append(f"{pad}{key}: {to_yaml(item)}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return "[]"
        lines = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                body = to_yaml(item, indent + 1).lstrip()
                lines.append(f"{pad}- {body}")
            else:
                lines.append(f"{pad}- {to_yaml(item)}")
        return "\n".join(lines)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value))


def _groups(plan: topologies.Topology) -> dict[str, list[topologies.Container]]:
    groups: dict[str, list[topologies.Container]] = {}
    for container in plan.containers:
        groups.setdefault(container.group or container.name, []).append(container)
    return groups


def _k8s_env(env: dict[str, str], plan: topologies.Topology) -> list[dict[str, str]]:
    """Container names become Service names (``archsim-x-catalog-1`` -> ``catalog``): one Service per group."""
    renames = {c.name: (c.group or c.name) for c in plan.containers}
    out = []
    for key, value in env.items():
        for old, new in sorted(renames.items(), key=lambda kv: -len(kv[0])):
            value = value.replace(f"//{old}:", f"//{new}:").replace(f"@{old}:", f"@{new}:")
        # replicas of one group now share a URL: collapse the duplicates
        value = ";".join(",".join(dict.fromkeys(part.split(","))) for part in value.split(";"))
        out.append({"name": key, "value": value})
    return out


def kubernetes(style: str, replicas: int = 1) -> str:
    """A multi-document YAML: Deployment + Service per group, labelled like the containers."""
    plan = topologies.build(style, replicas, PLACEHOLDER_SECRETS)
    documents = []
    for group, members in _groups(plan).items():
        first = members[0]
        labels = {"app.kubernetes.io/name": group, "archsim.project": "archsim", "archsim.style": style}
        container: dict[str, Any] = {
            "name": group,
            "image": first.image,
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"containerPort": first.port}],
            "env": _k8s_env(first.env, plan),
            "resources": {"limits": {"memory": f"{first.memory_mb}Mi", "cpu": f"{int(first.cpus * 1000)}m"}},
            "securityContext": {
                "runAsNonRoot": True,
                "readOnlyRootFilesystem": True,
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }
        if first.image == topologies.APP_IMAGE:
            container["securityContext"]["runAsUser"] = 65534
        if first.command:
            container["args"] = list(first.command)
        if first.role not in ("postgres", "broker"):
            container["readinessProbe"] = {"httpGet": {"path": "/health", "port": first.port}, "periodSeconds": 2}
        documents.append({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": group, "labels": labels},
            "spec": {
                "replicas": len(members),
                "selector": {"matchLabels": {"app.kubernetes.io/name": group}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [container],
                        "volumes": [{"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": f"{first.tmpfs_mb}Mi"}}],
                    },
                },
            },
        })
        documents.append({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": group, "labels": labels},
            "spec": {
                "selector": {"app.kubernetes.io/name": group},
                "ports": [{"port": first.port, "targetPort": first.port}],
            },
        })
    header = f"# archsim {style}: generated by 'archsim deploy manifests' from simulator/deploy/topology.py\n"
    return header + "\n---\n".join(to_yaml(doc) for doc in documents) + "\n"


def compose(style: str, replicas: int = 1, port: int = topologies.EXAMPLE_HOST_PORT) -> str:
    """A compose file (Podman Compose or Docker Compose) with the same containers and hardening."""
    plan = topologies.build(style, replicas, PLACEHOLDER_SECRETS)
    services: dict[str, Any] = {}
    for c in plan.containers:
        service: dict[str, Any] = {
            "image": c.image,
            "container_name": c.name,
            "labels": {"archsim.project": "archsim", "archsim.style": style, "archsim.role": c.role},
            "read_only": True,
            "tmpfs": [f"/tmp:size={c.tmpfs_mb}m,mode=1777"],
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"],
            "mem_limit": f"{c.memory_mb}m",
            "cpus": c.cpus,
            "pids_limit": 256,
            "environment": dict(c.env),
            "networks": {"archsim": {"aliases": [c.group]}} if c.group else ["archsim"],
        }
        if c.command:
            service["command"] = list(c.command)
        if c.entry:
            service["ports"] = [f"127.0.0.1:{port}:{c.port}"]
        services[c.name.removeprefix(f"archsim-{style}-")] = service
    document = {"name": f"archsim-{style}", "services": services, "networks": {"archsim": {"labels": {"archsim.project": "archsim"}}}}
    header = f"# archsim {style}: generated by 'archsim deploy manifests' from simulator/deploy/topology.py\n"
    return header + to_yaml(document) + "\n"


def write_all(folder: Path, replicas: int = 1) -> list[Path]:
    """Write ``<style>.k8s.yaml`` and ``<style>.compose.yaml`` for every style into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for style in topologies.STYLES:
        for suffix, render in (("k8s", kubernetes), ("compose", compose)):
            path = folder / f"{style}.{suffix}.yaml"
            path.write_text(render(style, replicas))
            written.append(path)
    return written
