"""A style asked for something the application lacks gets one line: file, line, field, what is expected.

Also: the shipped style scenarios run from the command line as a user runs them.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from simulator.errors import ScenarioError
from simulator.scenario import load_scenario

SHOP = """\
name: tiny-shop
duration: 5s
workload: {rate: 10/s}
application:
  capabilities:
    orders:
      place: {cpu: exp(1ms), writes: 1}
    payment:
      charge: {cpu: exp(1ms), writes: 1}
    notification:
      send: {cpu: exp(0.5ms), writes: 1}
  requests:
    place_order:
      steps:
        - orders.place
        - payment.charge
        - {use: notification.send, deferrable: true}
style:
  kind: event-driven
"""


def error_of(tmp_path, text: str) -> ScenarioError:
    path = tmp_path / "shop.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "\n" not in message
    return caught.value


def test_the_unmodified_shop_is_valid(tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP)
    assert load_scenario(path).base.meta["style"] == "event-driven"


def test_a_step_using_a_capability_that_does_not_exist(tmp_path):
    error = error_of(tmp_path, SHOP.replace("- payment.charge", "- paymnt.charge"))
    assert error.path == "application.requests.place_order.steps[1]"
    assert error.line == 16
    assert "no capability 'paymnt' in the application (did you mean 'payment'?)" in error.expected


def test_a_step_using_an_operation_that_does_not_exist(tmp_path):
    error = error_of(tmp_path, SHOP.replace("- payment.charge", "- payment.refund"))
    assert "capability 'payment' has no operation 'refund'; it has: charge" in error.expected


def test_a_broker_topic_with_no_consumer(tmp_path):
    text = SHOP + "  event-driven:\n    topics:\n      audit: {consumers: []}\n"
    error = error_of(tmp_path, text)
    assert error.path == "style.event-driven.topics.audit.consumers"
    assert error.line == 22
    assert "topic 'audit' has no consumer" in error.expected


def test_a_topic_consumed_by_a_capability_that_does_not_exist(tmp_path):
    text = SHOP + "  event-driven:\n    topics:\n      order-placed: {consumers: [notifications]}\n"
    error = error_of(tmp_path, text)
    assert error.path == "style.event-driven.topics.order-placed.consumers[0]"
    assert "no capability 'notifications' to consume it (did you mean 'notification'?)" in error.expected


def test_a_deferrable_step_that_no_topic_carries(tmp_path):
    text = SHOP + "  event-driven:\n    topics:\n      order-placed: {consumers: [payment]}\n"
    error = error_of(tmp_path, text)
    assert error.path == "application.requests.place_order.steps[2]"
    assert "deferrable step 'notification.send' has no topic" in error.expected


def test_a_domain_service_holding_an_unknown_capability(tmp_path):
    text = SHOP.replace("kind: event-driven", "kind: service-based") + (
        "  service-based:\n    domains:\n      ordering: [orders, payment]\n      messaging: [notifcation]\n"
    )
    error = error_of(tmp_path, text)
    assert error.path == "style.service-based.domains.messaging[0]"
    assert "(did you mean 'notification'?)" in error.expected


def test_a_microkernel_core_naming_an_unknown_capability(tmp_path):
    text = SHOP.replace("kind: event-driven", "kind: microkernel") + "  microkernel:\n    core: [order]\n"
    error = error_of(tmp_path, text)
    assert error.path == "style.microkernel.core[0]"
    assert "no capability 'order' in the application (did you mean 'orders'?)" in error.expected


def test_overrides_for_a_deployable_the_style_does_not_have(tmp_path):
    text = SHOP.replace("kind: event-driven", "kind: microservices") + (
        "  microservices:\n    deployables:\n      paymnt: {instances: 3}\n"
    )
    error = error_of(tmp_path, text)
    assert error.path == "style.microservices.deployables.paymnt"
    assert "the microservices style has no deployable 'paymnt' (did you mean 'payment'?)" in error.expected


def test_a_misspelt_style_parameter(tmp_path):
    error = error_of(tmp_path, SHOP + "  space-based:\n    unitz: 4\n")
    assert error.path == "style.space-based.unitz"
    assert error.line == 21
    assert error.expected == "unknown field 'unitz' (did you mean 'units'?)"


def test_an_unknown_style_kind(tmp_path):
    error = error_of(tmp_path, SHOP.replace("kind: event-driven", "kind: serverless"))
    assert error.path == "style.kind"
    assert "'monolith'" in error.expected and "'microkernel'" in error.expected


def test_a_variant_choosing_a_style_that_does_not_exist(tmp_path):
    error = error_of(tmp_path, SHOP + "variants:\n  - {name: micro, set: {style.kind: microservice}}\n")
    assert error.path == "variants[0].set"
    assert "variant 'micro' is invalid at style.kind" in error.expected


def test_services_written_by_hand_next_to_an_application(tmp_path):
    error = error_of(tmp_path, SHOP + "services:\n  api: {service_time: 1ms}\n")
    assert error.path == "services"
    assert "gets its services and classes from the style" in error.expected


def test_a_style_without_an_application(tmp_path):
    error = error_of(tmp_path, "name: x\nduration: 5s\nworkload: {rate: 1/s}\nstyle: {kind: monolith}\n")
    assert error.path == "application"


def test_the_command_line_prints_the_error_on_one_line(tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP.replace("- payment.charge", "- paymnt.charge"))
    done = subprocess.run(["archsim", "validate", str(path)], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert f"{path}:16: application.requests.place_order.steps[1]: no capability 'paymnt'" in done.stderr


# --- the shipped scenarios, run as a user runs them -------------------------------------------------


def test_archsim_run_compares_the_six_styles_of_the_baseline(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        ["archsim", "run", "scenarios/styles-baseline.yaml", "--set", "duration=6s", "--set", "warmup=1s",
         "--set", "metrics_interval=1s", "--replications", "1", "--no-charts", "-q", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "ok"
    variants = summary["variants"]
    assert list(variants) == ["monolith", "microservices", "event-driven", "space-based", "service-based", "microkernel"]
    latency = {name: v["overall"]["latency_mean_s"]["mean"] for name, v in variants.items()}
    # Relative order the styles' structure implies at this light load: microservices pay extra
    # hops; space-based skips the database; event-driven defers order fulfilment.
    assert latency["space-based"] < latency["event-driven"] < latency["monolith"] < latency["microservices"]
    assert variants["microservices"]["extras"]["structure"]["deployables"]["mean"] == 7
    assert "async_latency_mean_s" in variants["event-driven"]["classes"]["place_order"]


def test_the_saturation_sweep_validates_and_runs(tmp_path):
    loaded = load_scenario("scenarios/styles-saturation.yaml")
    assert len(loaded.variants) == 36  # a sweep: six styles x six rates
    assert {v.scenario.meta["style"] for v in loaded.variants} == {
        "monolith", "microservices", "event-driven", "space-based", "service-based", "microkernel"}
    out = tmp_path / "run"
    done = subprocess.run(
        ["archsim", "run", "scenarios/styles-saturation.yaml", "--set", "duration=3s", "--set", "warmup=1s",
         "--set", "metrics_interval=1s", "--variant", "monolith-1500", "--variant", "space-based-1500",
         "--no-charts", "-q", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    variants = json.loads((out / "summary.json").read_text())["variants"]
    # at 1500/s the shared database (capacity ~940/s) is saturated; space-based keeps it off the path
    assert variants["monolith-1500"]["services"]["db"]["utilisation"]["mean"] > 0.95
    assert variants["space-based-1500"]["overall"]["latency_mean_s"]["mean"] < 0.01


def test_shipped_yaml_is_plain_yaml():
    for name in ("styles-baseline", "styles-saturation"):
        data = yaml.safe_load(open(f"scenarios/{name}.yaml"))
        assert {"application", "style"} <= set(data)
        assert {"variants", "sweep"} & set(data)  # compared styles: listed variants or a sweep
