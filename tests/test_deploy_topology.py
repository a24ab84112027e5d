"""Each style's topology: the containers it needs, one published entry point, replicas where they scale."""

from pathlib import Path

import pytest

from simulator.deploy import topology
from simulator.deploy.topology import STYLES, Secrets, build

SECRETS = Secrets("db-secret", "broker-secret")


def roles(style: str, replicas: int = 1) -> list[str]:
    return [c.role for c in build(style, replicas, SECRETS).containers]


def test_roles_per_style_with_one_replica():
    assert roles("monolith") == ["postgres", "monolith"]
    assert roles("microservices") == ["postgres"] + ["service"] * 6 + ["gateway"]
    assert roles("event-driven") == ["postgres", "broker", "worker", "api"]
    assert roles("space-based") == ["postgres", "broker", "pump", "unit"]
    assert roles("service-based") == ["postgres", "domain", "domain", "gateway"]
    assert roles("microkernel") == ["postgres", "core"]


def test_replicas_multiply_scalable_services_and_add_a_gateway():
    assert roles("monolith", 3) == ["postgres", "monolith", "monolith", "monolith", "gateway"]
    assert roles("space-based", 2) == ["postgres", "broker", "pump", "unit", "unit", "gateway"]
    assert roles("microservices", 2).count("service") == 12


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("replicas", [1, 2])
def test_exactly_one_entry_point(style, replicas):
    plan = build(style, replicas, SECRETS)
    assert [c for c in plan.containers if c.entry] == [plan.entry]


def test_each_microservice_has_its_own_database():
    plan = build("microservices", 1, SECRETS)
    urls = {c.env["ARCHSIM_CAPABILITY"]: c.env["ARCHSIM_DATABASE_URL"] for c in plan.containers if c.role == "service"}
    assert {url.rsplit("/", 1)[1] for url in urls.values()} == set(topology.CAPABILITIES)
    assert plan.containers[0].env["ARCHSIM_DATABASES"].split() == list(topology.CAPABILITIES)


def test_the_microservices_gateway_sends_order_placement_to_orders_and_the_rest_by_prefix():
    upstreams = build("microservices", 1, SECRETS).entry.env["ARCHSIM_UPSTREAMS"].split(";")
    assert [route.split("=")[0] for route in upstreams] == ["/catalog", "/carts/*/order", "/carts", "/orders"]
    assert "orders-1" in upstreams[1] and "carts-1" in upstreams[2]


def test_service_based_domains_share_one_database_and_reach_the_other_domain_over_http():
    plan = build("service-based", 2, SECRETS)
    domains = [c for c in plan.containers if c.role == "domain"]
    assert len({c.env["ARCHSIM_DATABASE_URL"] for c in domains}) == 1
    ordering = next(c for c in domains if c.group == "ordering")
    assert ordering.env["ARCHSIM_CAPABILITIES"] == "orders,inventory,payments,notifications"
    assert ordering.env["ARCHSIM_CATALOG_URL"] == ordering.env["ARCHSIM_CARTS_URL"] == \
        "http://archsim-service-based-storefront-1:8080,http://archsim-service-based-storefront-2:8080"
    assert "ARCHSIM_INVENTORY_URL" not in ordering.env  # in-process within its domain
    routes = dict(route.split("=") for route in plan.entry.env["ARCHSIM_UPSTREAMS"].split(";"))
    assert "ordering-1" in routes["/carts/*/order"] and "storefront-1" in routes["/carts"]


def test_the_domains_are_those_of_the_shipped_baseline_scenario():
    import yaml

    scenario = yaml.safe_load((Path(__file__).resolve().parents[1] / "scenarios" / "styles-baseline.yaml").read_text())
    simulated = scenario["style"]["service-based"]["domains"]
    plural = {"cart": "carts", "payment": "payments", "notification": "notifications"}  # the services' names
    assert {d: tuple(plural.get(c, c) for c in members) for d, members in simulated.items()} == topology.DOMAINS


def test_space_based_gateway_keeps_a_user_on_one_unit():
    assert build("space-based", 2, SECRETS).entry.env["ARCHSIM_BALANCE"] == "sticky"


def test_secrets_reach_the_database_and_broker():
    plan = build("event-driven", 1, SECRETS)
    assert plan.containers[0].env["ARCHSIM_DB_PASSWORD"] == "db-secret"
    assert "broker-secret" in plan.entry.env["ARCHSIM_BROKER_URL"]


def test_unknown_styles_and_zero_replicas_are_refused():
    with pytest.raises(ValueError, match="unknown style 'serverless'"):
        build("serverless", 1, SECRETS)
    with pytest.raises(ValueError, match="replicas must be at least 1"):
        build("monolith", 0, SECRETS)
