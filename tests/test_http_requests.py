"""Declarative HTTP requests (``classes.<name>.http``) and SLO thresholds (``slo:``, ``--threshold``):
what validates, what is refused in one line, what a request renders to, how thresholds judge."""

from __future__ import annotations

import json
import math
import random
from collections import Counter

import pytest
from pydantic import ValidationError

from simulator.errors import ArchsimError
from simulator.scenario import load_scenario
from simulator.scenario.http import HttpRequest
from simulator.scenario.slo import Slo, Threshold, parse_thresholds


def render(block: dict, seed: int = 1, n: int = 1):
    request = HttpRequest.model_validate(block)
    draw = request.renderer(random.Random(seed))
    return [draw() for _ in range(n)]


# --- requests ------------------------------------------------------------------------------------


def test_a_bare_get_is_the_minimal_form():
    assert render({"path": "/"}) == [("GET", "/", {}, None)]
    request = HttpRequest.model_validate({"method": "GET", "path": "/"})
    assert [request.accepts(s) for s in (200, 204, 301, 404, 500)] == [True, True, True, False, False]


def test_templates_fill_path_query_headers_and_json_keeping_the_values_types():
    [(method, path, headers, body)] = render({
        "method": "POST", "path": "/carts/{cart}/items", "query": {"src": "{src}"},
        "params": {"cart": {"counter": 7}, "src": ["web"], "qty": {"uniform_int": [2, 2]}},
        "headers": {"X-Cart": "{cart}"}, "json": {"quantity": "{qty}", "note": "cart {cart}", "tags": ["{src}"]},
    })
    assert (method, path) == ("POST", "/carts/7/items?src=web")
    assert headers == {"X-Cart": "7", "Content-Type": "application/json"}
    assert json.loads(body) == {"quantity": 2, "note": "cart 7", "tags": ["web"]}


def test_path_values_are_escaped_and_literal_braces_stay():
    [(_, path, _, body)] = render({"path": "/q/{term}", "params": {"term": ["a b/c"]}, "body": "{{\"t\": \"{term}\"}}"})
    assert path == "/q/a%20b%2Fc" and body == b'{"t": "a b/c"}'


def test_parameters_follow_their_distributions():
    draws = [r[1] for r in render({"path": "/{k}", "params": {"k": {"choice": ["a", "b"], "weights": [3, 1]}}}, n=8000)]
    assert Counter(draws)["/a"] / 8000 == pytest.approx(0.75, abs=0.02)  # 4+ standard deviations
    ints = [int(r[1][1:]) for r in render({"path": "/{i}", "params": {"i": {"uniform_int": [1, 6]}}}, n=6000)]
    assert set(ints) == {1, 2, 3, 4, 5, 6} and sum(ints) / 6000 == pytest.approx(3.5, abs=0.1)
    zipf = Counter(int(r[1][1:]) for r in render({"path": "/{i}", "params": {"i": {"zipf": {"n": 100, "s": 1.0}}}}, n=20000))
    harmonic = sum(1 / k for k in range(1, 101))
    assert zipf[1] / 20000 == pytest.approx(1 / harmonic, abs=0.015) and zipf[1] / zipf[2] == pytest.approx(2, rel=0.15)
    ids = [r[1] for r in render({"path": "/{id}", "params": {"id": {"uuid": True}}}, n=3)]
    assert len(set(ids)) == 3 and all(len(i) == 37 for i in ids)
    waits = [float(r[1][1:]) for r in render({"path": "/{s}", "params": {"s": {"distribution": "exp(100ms)"}}}, n=5000)]
    assert sum(waits) / 5000 == pytest.approx(0.1, rel=0.06)


def test_the_same_seed_renders_the_same_requests():
    block = {"path": "/{i}", "params": {"i": {"uniform_int": [1, 10 ** 6]}}}
    assert render(block, seed=3, n=20) == render(block, seed=3, n=20) != render(block, seed=4, n=20)


@pytest.mark.parametrize("block, message", [
    ({"path": "items"}, "path must start with '/'"),
    ({"path": "/{id}"}, "placeholder {id} has no parameter"),
    ({"path": "/{id:>5}", "params": {"id": [1]}}, "write {name} with a parameter's name"),
    ({"path": "/", "body": "x", "json": {}}, "give `body` or `json`, not both"),
    ({"path": "/", "expect": 999}, "status codes are 100-599"),
    ({"path": "/", "method": "FETCH"}, "Input should be 'GET'"),
    ({"path": "/", "params": {"x": {"uniform_int": [5, 1]}}}, "low <= high"),
    ({"path": "/", "params": {"x": {"choice": [1, 2], "weights": [1]}}}, "weights need a choice with as many values"),
    ({"path": "/", "params": {"x": {"counter": 1, "uuid": True}}}, "exactly one of"),
    ({"path": "/", "retries": 3}, "Extra inputs are not permitted"),
])
def test_bad_requests_are_refused(block, message):
    with pytest.raises(ValidationError, match=message.replace("{", r"\{").replace("(", r"\(")):
        HttpRequest.model_validate(block)


def test_a_scenario_field_error_names_the_file_line_and_field(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nduration: 5s\nworkload: {rate: 5/s}\nclasses:\n  home:\n    http:\n      path: /{id}\n")
    with pytest.raises(ArchsimError) as refused:
        load_scenario(path)
    message = str(refused.value)
    assert message.startswith(f"{path}:") and "classes.home.http" in message and "placeholder {id} has no parameter" in message
    assert "\n" not in message


def test_a_class_needs_calls_or_http_and_a_scenario_with_services_still_simulates(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nduration: 5s\nworkload: {rate: 5/s}\nclasses:\n  home: {}\n")
    with pytest.raises(ArchsimError, match="needs `calls` or `route` \\(to simulate\\) or `http` \\(to load-test\\)"):
        load_scenario(path)
    both = tmp_path / "both.yaml"
    both.write_text("name: both\nduration: 5s\nworkload: {rate: 5/s}\nclasses:\n  home: {calls: [web], http: {path: /}}\n"
                    "services:\n  web: {service_time: exp(5ms)}\n")
    loaded = load_scenario(both)
    assert loaded.base.classes["home"].http.path == "/" and "web" in loaded.base.services


# --- thresholds ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, metric, op, bound, cls", [
    ("p95<200ms", "p95", "<", 0.2, None),
    ("errors<1%", "errors", "<", 0.01, None),
    ("errors<=0.005", "errors", "<=", 0.005, None),
    ("throughput>100/s", "throughput", ">", 100.0, None),
    ("browse.p99<=1s", "p99", "<=", 1.0, "browse"),
    ("p99.9 < 2s", "p99.9", "<", 2.0, None),
    ("mean<50ms", "mean", "<", 0.05, None),
])
def test_thresholds_parse_k6_style(text, metric, op, bound, cls):
    t = Threshold.parse(text)
    assert (t.metric, t.op, t.request_class) == (metric, op, cls) and t.bound == pytest.approx(bound)


@pytest.mark.parametrize("text, message", [
    ("p95", "expected a threshold such as"),
    ("p95<fast", "bad value 'fast'"),
    ("p42<1s", "unknown percentile 'p42'"),
    ("errors<150%", "between 0% and 100%"),
    ("latency<1s", "expected a threshold such as"),
])
def test_bad_thresholds_are_one_line(text, message):
    with pytest.raises(ValueError, match=message):
        parse_thresholds([text])


def test_thresholds_judge_a_summary_block_and_an_unmeasured_figure_fails():
    block = {"overall": {"latency_p95_s": {"mean": 0.15}, "error_rate": {"mean": 0.02}, "throughput_per_s": {"mean": 99.0}},
             "classes": {"browse": {"latency_p99_s": {"mean": None}}}}
    results = {t: Threshold.parse(t).judge(block)["passed"] for t in ("p95<200ms", "p95<100ms", "errors<1%", "errors<=2%",
                                                                        "throughput>100/s", "throughput>=99/s", "browse.p99<1s")}
    assert results == {"p95<200ms": True, "p95<100ms": False, "errors<1%": False, "errors<=2%": True,
                       "throughput>100/s": False, "throughput>=99/s": True, "browse.p99<1s": False}


def test_slo_is_a_list_or_a_mapping_and_keeps_the_simulators_recovery_objective():
    listed = Slo.model_validate(["p95<200ms", "errors<2%"])
    assert [t.text for t in listed.thresholds] == ["p95<200ms", "errors<2%"]
    assert (listed.p95_s, listed.error_rate) == (0.2, 0.02)
    mapped = Slo.model_validate({"p95": "250ms", "error_rate": 0.01})  # the form the platform scenarios use
    assert [t.text for t in mapped.thresholds] == ["p95<=250ms", "error_rate<=0.01"]
    assert (mapped.p95_s, mapped.error_rate) == (0.25, 0.01)
    only_errors = Slo.model_validate({"errors": "<1%", "throughput": "50/s"})
    assert [t.text for t in only_errors.thresholds] == ["errors<1%", "throughput>=50/s"]
    assert math.isinf(only_errors.p95_s) and only_errors.error_rate == 0.01
    with pytest.raises(ValidationError, match="unknown SLO metric 'latency'"):
        Slo.model_validate({"latency": "1s"})


def test_the_shipped_platform_scenarios_slo_still_drives_recovery():
    from pathlib import Path

    loaded = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "spike-vm-vs-container.yaml")
    assert (loaded.base.slo.p95_s, loaded.base.slo.error_rate) == (0.25, 0.01)
