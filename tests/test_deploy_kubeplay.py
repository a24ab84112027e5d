"""``kubeplay.for_podman``: the generated manifests adapted to what ``podman kube play`` plays,
and the rollout commands' one-line refusals of bad input (no engine needed)."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from simulator.cli import app
from simulator.deploy import kubeplay, manifests

from loadtest_targets import free_port


HOST_PORT = free_port()  #: Only written into the manifests (nothing binds it), still one free now.


def played(style: str = "monolith", replicas: int = 2) -> dict[str, dict]:
    text = kubeplay.for_podman(manifests.kubernetes(style, replicas), "p1", entry="gateway", host_port=HOST_PORT)
    return {d["metadata"]["name"]: d for d in yaml.safe_load_all(text)}


def env(deployment: dict) -> dict[str, str]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {v["name"]: v["value"] for v in container.get("env", [])}


def test_services_are_dropped_and_every_deployment_is_prefixed():
    assert list(played()) == ["p1-postgres", "p1-monolith", "p1-gateway"]


def test_service_names_become_the_pods_dns_names_one_upstream_per_pod():
    deployments = played()
    assert env(deployments["p1-gateway"])["ARCHSIM_UPSTREAMS"] == "/=http://p1-monolith-pod-0:8080,http://p1-monolith-pod-1:8080"
    assert env(deployments["p1-monolith"])["ARCHSIM_DATABASE_URL"] == (
        "postgresql://archsim:change-me-database@p1-postgres-pod-0:5432/archsim")


def test_only_the_entry_is_published_and_on_loopback():
    ports = {name: d["spec"]["template"]["spec"]["containers"][0].get("ports") for name, d in played().items()}
    assert ports == {"p1-postgres": None, "p1-monolith": None,
                     "p1-gateway": [{"containerPort": 8080, "hostPort": HOST_PORT, "hostIP": "127.0.0.1"}]}


def test_an_unknown_entry_is_refused():
    try:
        kubeplay.for_podman(manifests.kubernetes("monolith", 1), "p1", entry="gateway", host_port=1)
    except ValueError as error:
        assert "no Deployment 'gateway'" in str(error)
    else:
        raise AssertionError("a single-replica monolith has no gateway Deployment")


def test_rollout_refuses_zero_surge_and_zero_unavailable_in_one_line(monkeypatch):
    monkeypatch.setattr("simulator.deploy.cli.detect", lambda engine: None)
    result = CliRunner().invoke(app, ["deploy", "rollout", "monolith", "--to", "x", "--max-surge", "0"])
    assert result.exit_code == 2
    assert "both at least 0 and not both 0" in result.output and len(result.output.strip().splitlines()) == 1


def test_release_refuses_the_name_latest(monkeypatch):
    monkeypatch.setattr("simulator.deploy.cli.detect", lambda engine: None)
    monkeypatch.setattr("simulator.deploy.images.build_all", lambda engine, log: {})
    result = CliRunner().invoke(app, ["deploy", "release", "latest"])
    assert result.exit_code == 2 and "not 'latest'" in result.output
