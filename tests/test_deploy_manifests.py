"""Kubernetes and compose manifests carry the same topology and hardening; the shipped files are current."""

from pathlib import Path

import pytest

from simulator.deploy import manifests
from simulator.deploy.topology import STYLES

yaml = pytest.importorskip("yaml")
SHIPPED = Path(__file__).resolve().parents[1] / "loadtests" / "deploy"


@pytest.mark.parametrize("style", STYLES)
def test_kubernetes_has_a_hardened_deployment_and_a_service_per_group(style):
    documents = list(yaml.safe_load_all(manifests.kubernetes(style, replicas=2)))
    deployments = [d for d in documents if d["kind"] == "Deployment"]
    services = [d for d in documents if d["kind"] == "Service"]
    assert [d["metadata"]["name"] for d in deployments] == [s["metadata"]["name"] for s in services]
    for deployment in deployments:
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] and security["runAsNonRoot"]
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert set(container["resources"]["limits"]) == {"memory", "cpu"}
        assert deployment["metadata"]["labels"]["archsim.project"] == "archsim"


def test_kubernetes_replicas_and_service_names_replace_container_names():
    documents = list(yaml.safe_load_all(manifests.kubernetes("microservices", replicas=3)))
    orders = next(d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == "orders")
    assert orders["spec"]["replicas"] == 3
    env = {e["name"]: e["value"] for e in orders["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["ARCHSIM_CATALOG_URL"] == "http://catalog:8080"


@pytest.mark.parametrize("style", STYLES)
def test_compose_publishes_only_the_entry_point_on_loopback(style):
    document = yaml.safe_load(manifests.compose(style))
    published = {name: s["ports"] for name, s in document["services"].items() if "ports" in s}
    assert len(published) == 1 and list(published.values())[0][0].startswith("127.0.0.1:")
    assert all(s["read_only"] and s["cap_drop"] == ["ALL"] for s in document["services"].values())


@pytest.mark.parametrize("style", STYLES)
def test_shipped_manifests_match_the_topology(style):
    assert (SHIPPED / f"{style}.k8s.yaml").read_text() == manifests.kubernetes(style)
    assert (SHIPPED / f"{style}.compose.yaml").read_text() == manifests.compose(style)
