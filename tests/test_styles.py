"""Architecture styles, pinned down with numbers derived by hand or from queueing theory.

Most tests use a two-capability application with deterministic demands and deterministic
arrivals at low load, so that a request never waits and its latency is exactly the sum of what it
does; the overload tests use the utilisation law (U = X * D) and flow balance (a backlog grows at
arrival rate minus service rate).
"""

from __future__ import annotations


import numpy as np
import pytest
import yaml

from simulator.engine import simulation as engine
from simulator.platforms import extensions_for
from simulator.scenario import load_scenario
from simulator.scenario.model import Scenario


def simulate(s: Scenario, replication: int = 0):
    """One replication with the extensions the scenario needs, as the runner passes them."""
    return engine.simulate(s, replication, extensions=extensions_for(s))


def build(s: Scenario, replication: int = 0) -> engine.Simulation:
    """The built model of one replication, with the extensions the scenario needs."""
    return engine.Simulation(s, replication, extensions_for(s))


LATENCY_S = 0.25e-3  #: One-way network latency per hop in these tests.
SERIALISATION_S = 100e-6  #: Style default: CPU at each end of a call between deployables.
IN_PROCESS_S = 1e-6  #: Style default: an in-process call.
GATEWAY_S = 50e-6  #: Microservices default: gateway routing CPU.
REL = 1e-9  #: Deterministic runs: latencies are exact up to float rounding.


def two_step_shop(**overrides) -> dict:
    """One request class ``order``: ``a.x`` (2 ms CPU, one read) then ``b.y`` (3 ms CPU, one write).

    Database: reads take 1 ms, writes 4 ms; everything deterministic, arrivals evenly spaced.
    """
    doc = {
        "name": "two-step",
        "seed": 5,
        "duration": "20s",
        "workload": {"rate": "2/s", "arrivals": "deterministic"},
        "network": {"latency": "0.25ms"},
        "application": {
            "database": {"read": "const(1ms)", "write": "const(4ms)", "cores": 4, "pool": 8},
            "capabilities": {
                "a": {"x": {"cpu": "const(2ms)", "reads": 1}},
                "b": {"y": {"cpu": "const(3ms)", "writes": 1}},
            },
            "requests": {"order": {"steps": ["a.x", "b.y"]}},
        },
        "style": {"kind": "monolith"},
    }
    for dotted, value in overrides.items():
        node = doc
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return doc


def load(tmp_path, doc: dict, name: str = "scenario.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_scenario(path)


def run(tmp_path, doc: dict, replication: int = 0):
    return simulate(load(tmp_path, doc).base, replication)


# --- request/response styles: latency is the sum of the demands plus the hops ----------------------


def test_monolith_latency_at_low_load_is_the_sum_of_its_demands(tmp_path):
    result = run(tmp_path, two_step_shop())
    # client round trip + two in-process calls + CPU + one read and one write, each a round trip
    expected = 2 * LATENCY_S + 2 * IN_PROCESS_S + (2e-3 + 3e-3) + (2 * LATENCY_S + 1e-3) + (2 * LATENCY_S + 4e-3)
    assert result.classes["order"]["latency_mean_s"] == pytest.approx(expected, rel=REL)
    assert result.extras["style"] == "monolith"
    assert result.extras["structure"]["deployables"] == 1
    assert result.extras["structure"]["network_hops_per_request"] == 3  # client, read, write


def test_microservices_add_exactly_the_hop_costs(tmp_path):
    monolith = run(tmp_path, two_step_shop())
    micro = run(tmp_path, two_step_shop(**{"style.kind": "microservices"}))
    # Two extra network calls: gateway -> a, and a -> b. Each is a round trip plus serialisation at
    # both ends; the gateway also routes; b is no longer an in-process call.
    hop = 2 * LATENCY_S + 2 * SERIALISATION_S
    expected_extra = hop + GATEWAY_S + hop - IN_PROCESS_S
    extra = micro.classes["order"]["latency_mean_s"] - monolith.classes["order"]["latency_mean_s"]
    assert extra == pytest.approx(expected_extra, rel=1e-6)
    assert micro.extras["structure"]["deployables"] == 3  # gateway, a, b
    assert micro.extras["structure"]["databases"] == 2  # a-db, b-db
    assert micro.extras["structure"]["network_hops_per_request"] == 5


def test_microkernel_adds_the_plugin_call_and_service_based_a_hop_between_domains(tmp_path):
    monolith = run(tmp_path, two_step_shop()).classes["order"]
    kernel = run(tmp_path, two_step_shop(**{"style.kind": "microkernel"})).classes["order"]
    # default core = capabilities that start a request = {a}; b is a plug-in (5 us instead of 1 us)
    assert kernel["latency_mean_s"] - monolith["latency_mean_s"] == pytest.approx(5e-6 - IN_PROCESS_S, rel=1e-6)
    split = two_step_shop(**{"style.kind": "service-based", "style.service-based": {"domains": {"front": ["a"], "back": ["b"]}}})
    service_based = run(tmp_path, split).classes["order"]
    hop = 2 * LATENCY_S + 2 * SERIALISATION_S
    assert service_based["latency_mean_s"] - monolith["latency_mean_s"] == pytest.approx(hop - IN_PROCESS_S, rel=1e-6)
    # by default, capabilities used by the same request form one domain: no hop at all
    together = run(tmp_path, two_step_shop(**{"style.kind": "service-based"})).classes["order"]
    assert together["latency_mean_s"] == pytest.approx(monolith["latency_mean_s"], rel=REL)


# --- a shared database caps throughput where the utilisation law says --------------------------------


def database_bound_shop(kind: str, rate: str) -> dict:
    """Every request: one read (2 ms) on ``a`` and one write (3 ms) on ``b``; a 1-core database.

    Database demand per request D = 5 ms, so by the utilisation law U = X * D the shared database
    saturates at X = 1 / D = 200 requests/s. The application tier has plenty of cores.
    """
    doc = two_step_shop(**{"style.kind": kind, "workload": {"rate": rate}, "duration": "25s", "warmup": "5s"})
    doc["application"]["database"] = {"read": "exp(2ms)", "write": "exp(3ms)", "cores": 1, "pool": 10}
    doc["application"]["capabilities"] = {"a": {"x": {"cpu": "exp(0.2ms)", "reads": 1}}, "b": {"y": {"cpu": "exp(0.2ms)", "writes": 1}}}
    doc["style"].update({"instances": 2, "cores": 4, "concurrency": 64})
    if kind == "service-based":
        doc["style"]["service-based"] = {"domains": {"front": ["a"], "back": ["b"]}}
    return doc


@pytest.mark.parametrize("kind", ["monolith", "service-based"])
def test_shared_database_bottleneck_caps_throughput_at_the_utilisation_law_limit(tmp_path, kind):
    below = run(tmp_path, database_bound_shop(kind, "100/s"))
    assert below.services["db"]["utilisation"] == pytest.approx(100 * 5e-3, abs=0.04)  # U = X * D = 0.5

    over = run(tmp_path, database_bound_shop(kind, "300/s"))
    assert over.services["db"]["utilisation"] > 0.98
    requests_per_s = over.services["db"]["throughput_per_s"] / 2  # two database operations per request
    assert requests_per_s == pytest.approx(1 / 5e-3, rel=0.05)  # X_max = 1 / D = 200/s, not the offered 300/s


def test_microservices_own_databases_lift_that_cap(tmp_path):
    # a-db serves only reads (2 ms -> 500/s), b-db only writes (3 ms -> 333/s): 300/s fits.
    over = run(tmp_path, database_bound_shop("microservices", "300/s"))
    assert over.services["b-db"]["utilisation"] == pytest.approx(300 * 3e-3, abs=0.05)
    assert over.classes["order"]["throughput_per_s"] == pytest.approx(300, rel=0.05)


# --- event-driven ----------------------------------------------------------------------------------------


def event_shop(rate: str, duration: str = "40s") -> dict:
    """``order``: accept (1 ms CPU) for the client; notify (10 ms CPU) deferred to one consumer thread.

    The consumer serves one event at a time in 10 ms + 0.1 ms of deserialisation, so its service
    rate is mu = 1 / 10.1 ms = 99.0 events/s. No database work, to isolate the broker path.
    """
    doc = two_step_shop(**{"style.kind": "event-driven", "workload": {"rate": rate}, "duration": duration})
    doc["application"]["capabilities"] = {"orders": {"accept": {"cpu": "const(1ms)"}}, "notification": {"send": {"cpu": "const(10ms)"}}}
    doc["application"]["requests"] = {"order": {"steps": ["orders.accept", {"use": "notification.send", "deferrable": True}]}}
    doc["style"]["event-driven"] = {"deployables": {"notification-consumer": {"instances": 1, "cores": 1, "concurrency": 1}}}
    return doc


def test_event_driven_client_latency_stays_flat_while_the_backlog_grows_at_arrival_minus_service_rate(tmp_path):
    mu = 1 / (10e-3 + SERIALISATION_S)
    calm = run(tmp_path, event_shop("50/s"))
    flood = run(tmp_path, event_shop("150/s"))

    # The client only waits for accept + publish: not for the overloaded consumer.
    client_path = 2 * LATENCY_S + IN_PROCESS_S + 1e-3 + SERIALISATION_S + 2 * LATENCY_S + 0.2e-3
    assert calm.classes["order"]["latency_mean_s"] == pytest.approx(client_path, rel=0.05)
    assert flood.classes["order"]["latency_mean_s"] == pytest.approx(calm.classes["order"]["latency_mean_s"], rel=0.05)

    # The backlog of the consumer grows linearly at lambda - mu = 150 - 99 = 51 events/s.
    rows = [r for r in flood.timeseries if r["time_s"] >= 5]
    times = np.array([r["time_s"] for r in rows])
    backlog = np.array([r["queue.notification-consumer"] for r in rows])
    slope, _ = np.polyfit(times, backlog, 1)
    assert slope == pytest.approx(150 - mu, rel=0.1)
    assert calm.services["notification-consumer"]["mean_queue_length"] < 2  # rho = 0.5: no backlog

    # End-to-end event latency is where the overload shows.
    assert calm.classes["order"]["async_latency_mean_s"] < 0.05
    assert flood.classes["order"]["async_latency_mean_s"] > 5


def test_event_driven_consumer_crash_redelivers_and_loses_nothing(tmp_path):
    doc = event_shop("50/s", duration="30s")
    # arrivals stop at 20 s so every event can be delivered before the end
    doc["workload"] = {"profile": [{"at": "0s", "rate": "50/s"}, {"at": "20s", "rate": 0}]}
    doc["style"]["event-driven"]["deployables"]["notification-consumer"] = {"instances": 2, "cores": 1, "concurrency": 4}
    sim = build(load(tmp_path, doc).base)
    consumer = sim.services["notification-consumer"]
    crashed = consumer.instances[0]

    def crash_while_busy(t: float = 10.0) -> None:  # crash at the first moment it holds an event
        if crashed.in_service == 0:
            sim.at(t + 1e-3, lambda: crash_while_busy(t + 1e-3))
            return
        crashed.crash()
        sim.at(t + 2.0, crashed.restart)

    sim.at(10.0, crash_while_busy)
    result = sim.run()

    published = sum(i.completed for i in sim.services["broker"].all_instances())
    consumed = sum(i.completed for i in consumer.all_instances())
    assert crashed.failed >= 1  # the crash did take events with it...
    assert consumed == published == result.classes["order"]["successes"]  # ...and every one was delivered again
    assert result.classes["order"]["errors"] == 0


def test_event_driven_reports_backlog_per_consumer_and_structure(tmp_path):
    result = run(tmp_path, event_shop("20/s", duration="5s"))
    assert "queue.notification-consumer" in result.timeseries[0]
    assert result.extras["structure"]["brokers"] == 1
    assert result.extras["structure"]["topics"] == 1  # default: one topic per request class
    assert result.extras["structure"]["client_path_hops_per_request"] == 2  # client -> api, api -> broker
    assert result.extras["structure"]["network_hops_per_request"] == 3  # ... and broker -> consumer


# --- space-based -----------------------------------------------------------------------------------------


GRID_READ_S, GRID_WRITE_S, REPLICATION_S = 10e-6, 20e-6, 50e-6  #: Space-based defaults.


def space_shop(units: int, db_write: str = "const(4ms)") -> dict:
    doc = two_step_shop(**{"style.kind": "space-based", "style.space-based": {"units": units}})
    doc["application"]["database"]["write"] = db_write
    return doc


def test_space_based_keeps_the_database_off_the_request_path(tmp_path):
    fast = run(tmp_path, space_shop(3))
    slow = run(tmp_path, space_shop(3, db_write="const(300ms)"))
    # read from the local grid, write to it, replicate to 2 peers, hand the write to the pump
    expected = (2 * LATENCY_S + 2 * IN_PROCESS_S + GRID_READ_S + 2e-3 + 3e-3
                + GRID_WRITE_S + 2 * REPLICATION_S + SERIALISATION_S)
    assert fast.classes["order"]["latency_mean_s"] == pytest.approx(expected, rel=REL)
    assert slow.classes["order"]["latency_mean_s"] == pytest.approx(expected, rel=REL)  # database 75x slower: no change
    # ...but the write-behind lag (request start -> row in the database) does see it
    # lag = hand-off (latency minus the reply hop) + hop to the pump, its deserialisation, the database
    # write and its round trip, and the pump's acknowledgement hop
    lag = expected - LATENCY_S + LATENCY_S + SERIALISATION_S + (2 * LATENCY_S + 4e-3) + LATENCY_S
    assert fast.classes["order"]["async_latency_mean_s"] == pytest.approx(lag, rel=REL)
    assert slow.classes["order"]["async_latency_mean_s"] > 0.3


def test_space_based_replication_cost_grows_linearly_with_the_number_of_units(tmp_path):
    latency = {units: run(tmp_path, space_shop(units)).classes["order"]["latency_mean_s"] for units in (1, 2, 4, 8)}
    for units in (2, 4, 8):
        # one write per request, copied to every other unit
        assert latency[units] - latency[1] == pytest.approx((units - 1) * REPLICATION_S, rel=1e-6)

    # Utilisation law on the units: U = X * D / (units * cores), with D including (units - 1) copies.
    doc = space_shop(4)
    doc["workload"] = {"rate": "400/s", "arrivals": "deterministic"}
    doc["duration"] = "10s"
    result = run(tmp_path, doc)
    demand = 2 * IN_PROCESS_S + GRID_READ_S + 5e-3 + GRID_WRITE_S + 3 * REPLICATION_S + SERIALISATION_S
    assert result.services["processing-unit"]["utilisation"] == pytest.approx(400 * demand / (4 * 2), rel=0.01)
    assert result.extras["structure"]["units"] == 4
    assert result.extras["style_parameters"]["replication_per_write_s"] == pytest.approx(3 * REPLICATION_S)


# --- every style, and the shipped comparison -----------------------------------------------------------


EXPECTED_DEPLOYABLES = {"monolith": 1, "microservices": 7, "event-driven": 5, "space-based": 2, "service-based": 2, "microkernel": 1}


def test_the_baseline_compares_all_six_styles_under_one_load():
    loaded = load_scenario("scenarios/styles-baseline.yaml", ["duration=4s", "warmup=1s", "metrics_interval=1s"], replications=1)
    assert [v.name for v in loaded.variants] == list(EXPECTED_DEPLOYABLES)
    for variant in loaded.variants:
        result = simulate(variant.scenario)
        assert result.extras["style"] == variant.name
        assert result.extras["structure"]["deployables"] == EXPECTED_DEPLOYABLES[variant.name]
        assert result.overall["error_rate"] == 0
        assert result.overall["throughput_per_s"] == pytest.approx(300, rel=0.15)
        assert set(result.classes) == {"browse", "add_to_cart", "place_order", "order_status"}


def test_variants_share_the_same_workload_so_only_the_style_differs():
    loaded = load_scenario("scenarios/styles-baseline.yaml", ["duration=3s", "warmup=0s", "metrics_interval=1s"], replications=1)
    arrivals = {v.name: [row["offered_per_s"] for row in simulate(v.scenario).timeseries] for v in loaded.variants}
    assert all(series == arrivals["monolith"] for series in arrivals.values())  # common random numbers: same arrivals


def test_a_variant_can_switch_style_with_a_whole_style_section(tmp_path):
    doc = two_step_shop()
    doc["variants"] = [{"name": "micro", "set": {"style": {"kind": "microservices", "cores": 1}}}]
    scenario = load(tmp_path, doc).variants[0].scenario
    assert scenario.meta["style"] == "microservices"
    assert scenario.services["gateway"].cores == 1


def test_deployable_overrides_apply_and_style_owned_sizes_are_refused(tmp_path):
    doc = two_step_shop(**{"style.monolith": {"deployables": {"monolith": {"instances": 3, "cores": 8}}}})
    scenario = load(tmp_path, doc).base
    assert (scenario.services["monolith"].instances, scenario.services["monolith"].cores) == (3, 8)
    assert scenario.services["db"].cores == 4 and scenario.services["db"].concurrency == 8  # pool

    doc = space_shop(3)
    doc["style"]["space-based"]["deployables"] = {"processing-unit": {"instances": 5}}
    with pytest.raises(Exception, match=r"style\.space-based\.deployables\.processing-unit\.instances: set by the style"):
        load(tmp_path, doc)
