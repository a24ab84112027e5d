"""`sweep:` in a scenario: grids, zipped lists and Latin hypercubes expand into points, each point
runs every variant, seeds keep common random numbers, and bad paths or values get the one-line
errors of `--set`."""

from __future__ import annotations

import copy
import subprocess
import sys

import numpy as np
import pytest
import yaml

from simulator.engine.simulation import simulate
from simulator.errors import ScenarioError
from simulator.scenario import load_scenario
from simulator.scenario.sweep import Sample, SampledParameter, Sweep, point_seed, points

BASE = {
    "name": "sw",
    "seed": 7,
    "duration": "20s",
    "warmup": "2s",
    "workload": {"rate": "50/s"},
    "classes": {"get": {"calls": ["api.get"]}},
    "services": {"api": {"instances": 1, "cores": 1, "operations": {"get": {"service_time": "exp(10ms)"}}}},
}


def write(tmp_path, data):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def scenario_with(tmp_path, sweep, **extra):
    data = copy.deepcopy(BASE)
    data.update(extra)
    data["sweep"] = sweep
    return load_scenario(write(tmp_path, data))


def test_a_grid_is_every_combination_first_path_slowest(tmp_path):
    loaded = scenario_with(tmp_path, {"grid": {"workload.rate": ["20/s", "40/s"], "services.api.cores": [1, 2, 4]}})
    got = [(v.scenario.workload.rate_per_s, v.scenario.services["api"].cores) for v in loaded.variants]
    assert got == [(20, 1), (20, 2), (20, 4), (40, 1), (40, 2), (40, 4)]
    assert [v.name for v in loaded.variants][:2] == ["20_s-1", "20_s-2"]
    assert [v.point.index for v in loaded.variants] == list(range(6))


def test_zipped_paths_move_together_and_each_point_runs_every_variant(tmp_path):
    variants = [{"name": "small", "set": {"services.api.instances": 1}}, {"name": "big", "set": {"services.api.instances": 3}}]
    loaded = scenario_with(tmp_path, {"zip": {"workload.rate": [10, 30], "services.api.cores": [1, 2]}, "name": "r{workload.rate}"},
                           variants=variants)
    got = [(v.name, v.declared, v.scenario.workload.rate_per_s, v.scenario.services["api"].cores, v.scenario.services["api"].instances)
           for v in loaded.variants]
    assert got == [("small-r10", "small", 10, 1, 1), ("big-r10", "big", 10, 1, 3), ("small-r30", "small", 30, 2, 1), ("big-r30", "big", 30, 2, 3)]


def test_a_latin_hypercube_puts_one_point_in_each_stratum_of_every_parameter():
    n = 20
    sweep = Sweep(sample=Sample(points=n, parameters={
        "workload.rate": SampledParameter(low="100/s", high="300/s"),
        "services.api.instances": SampledParameter(low=1, high=20),
        "network.latency": SampledParameter(low="0.1ms", high="10ms", log=True),
    }))
    made = points(sweep, seed=5)
    rates = [float(p.values["workload.rate"].removesuffix("/s")) for p in made]
    assert all(r.endswith("/s") for r in (p.values["workload.rate"] for p in made))
    # Latin property: exactly one point in each of the n equal slices of the range.
    assert sorted(int((r - 100) / 200 * n) for r in rates) == list(range(n))
    assert sorted(p.values["services.api.instances"] for p in made) == list(range(1, 21))
    latencies = [float(p.values["network.latency"].removesuffix("ms")) for p in made]
    assert sorted(int(np.log(x / 0.1) / np.log(100) * n) for x in latencies) == list(range(n))
    assert [p.label for p in made][:2] == ["p000", "p001"]


def test_the_same_seed_samples_the_same_points_and_another_seed_others():
    sweep = Sweep(sample=Sample(points=8, parameters={"workload.rate": SampledParameter(low=1.0, high=2.0)}))
    first = [p.values for p in points(sweep, seed=1)]
    assert first == [p.values for p in points(sweep, seed=1)]
    assert first != [p.values for p in points(sweep, seed=2)]
    fixed = Sweep(sample=Sample(points=8, seed=99, parameters={"workload.rate": SampledParameter(low=1.0, high=2.0)}))
    assert [p.values for p in points(fixed, seed=1)] == [p.values for p in points(fixed, seed=2)]


def test_common_streams_keep_the_scenario_seed_and_independent_ones_derive_one_per_point():
    common = points(Sweep(grid={"workload.rate": [1, 2, 3]}), seed=42)
    assert [p.seed for p in common] == [42, 42, 42]
    independent = points(Sweep(grid={"workload.rate": [1, 2, 3]}, streams="independent"), seed=42)
    expected = [int(np.random.SeedSequence(42, spawn_key=(i,)).generate_state(1, np.uint64)[0] >> np.uint64(1)) for i in range(3)]
    assert [p.seed for p in independent] == expected == [point_seed(42, i, "independent") for i in range(3)]
    assert len(set(expected)) == 3 and all(0 <= s < 2**63 for s in expected)


def test_points_share_random_numbers_so_a_faster_service_sees_the_very_same_arrivals(tmp_path):
    loaded = scenario_with(tmp_path, {"grid": {"services.api.operations.get.service_time": ["exp(5ms)", "exp(15ms)"]}})
    fast, slow = (simulate(v.scenario, 0) for v in loaded.variants)
    assert fast.overall["arrived_requests"] == slow.overall["arrived_requests"]
    assert fast.overall["latency_mean_s"] < slow.overall["latency_mean_s"]
    independent = scenario_with(tmp_path, {"grid": {"services.api.operations.get.service_time": ["exp(5ms)", "exp(15ms)"]},
                                           "streams": "independent"})
    a, b = (simulate(v.scenario, 0) for v in independent.variants)
    assert a.overall["arrived_requests"] != b.overall["arrived_requests"]


BAD = [
    ({"grid": {"workload.rate": ["20/s", "abc"]}}, "sweep.grid.workload.rate[1]:", "cannot read 'abc'"),
    ({"grid": {"workload.rat": [1]}}, "sweep.grid.workload.rat[0]:", "did you mean 'rate'?"),
    ({"grid": {"services.apx.cores": [1]}}, "sweep.grid.services.apx.cores[0]:", "no 'apx' in services (did you mean 'api'?)"),
    ({"grid": {"workload.rate": ["-1/s"]}}, "sweep.grid.workload.rate[0]:", "greater than 0"),
    ({"zip": {"workload.rate": [1, 2], "services.api.cores": [1]}}, "sweep:", "same length"),
    ({"sample": {"points": 3, "parameters": {"workload.rate": {"low": "1/s", "high": "2ms"}}}}, "sweep.sample.parameters.workload.rate:", "same unit"),
    ({"sample": {"points": 3, "parameters": {"services.api.cores": {"low": 0, "high": 2}}}}, "sweep.sample.parameters.services.api.cores:", "greater than or equal to 1"),
    ({"grid": {"workload.rate": [1]}, "name": "{rate}"}, "sweep:", "{rate} is not a swept path"),
    ({"grdi": {"workload.rate": [1]}}, "sweep.grdi:", "did you mean 'grid'?"),
]


@pytest.mark.parametrize("sweep, field, expected", BAD, ids=[b[1] + b[2] for b in BAD])
def test_bad_sweeps_get_one_line_naming_file_line_field_and_what_is_expected(tmp_path, sweep, field, expected):
    with pytest.raises(ScenarioError) as caught:
        scenario_with(tmp_path, sweep)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(tmp_path / "sweep.yaml") + ":")
    assert field in message and expected in message, message
    assert caught.value.line is not None


def test_a_variant_may_not_set_a_swept_path(tmp_path):
    with pytest.raises(ScenarioError, match=r"variants\[0\]\.set\.workload\.rate: is also swept"):
        scenario_with(tmp_path, {"grid": {"workload.rate": [1, 2]}}, variants=[{"name": "a", "set": {"workload.rate": "3/s"}}])


def test_archsim_validate_checks_a_sweep_like_set(tmp_path):
    bad = copy.deepcopy(BASE)
    bad["sweep"] = {"grid": {"workload.rate": ["10/s", "ten"]}}
    path = write(tmp_path, bad)
    done = subprocess.run([sys.executable, "-m", "simulator.cli", "validate", str(path)], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "sweep.grid.workload.rate[1]:" in done.stderr
    with_set = subprocess.run([sys.executable, "-m", "simulator.cli", "run", str(path), "--set", "workload.rate=ten"],
                              capture_output=True, text=True)
    assert "cannot read 'ten' as a number with a unit" in with_set.stderr
    assert "cannot read 'ten' as a number with a unit" in done.stderr


def test_set_reaches_into_a_sweep_with_the_dotted_path_of_a_swept_field(tmp_path):
    """`--set` splits its path at every dot, so `sweep.grid.workload.rate=[..]` arrives as nested
    mappings; the sweep reads them as the dotted path and the override replaces the file's list."""
    data = copy.deepcopy(BASE)
    data["sweep"] = {"grid": {"workload.rate": ["20/s", "40/s"], "services.api.cores": [1, 2]},
                     "sample": {"points": 2, "parameters": {"services.api.instances": {"low": 1, "high": 3}}}}
    path = write(tmp_path, data)
    loaded = load_scenario(path, ["sweep.grid.workload.rate=[10/s, 30/s, 50/s]", "sweep.sample.parameters.services.api.instances.high=2"])
    assert loaded.base.sweep.paths() == ["workload.rate", "services.api.cores", "services.api.instances"]
    assert sorted({v.scenario.workload.rate_per_s for v in loaded.variants}) == [10, 30, 50]
    assert {v.scenario.services["api"].instances for v in loaded.variants} <= {1, 2}
    assert len(loaded.variants) == 3 * 2 * 2
    added = load_scenario(path, ["sweep.grid.services.api.operations.get.service_time=[exp(5ms), exp(8ms)]"])
    assert len(added.variants) == 2 * 2 * 2 * 2


def test_a_set_into_a_sweep_with_a_bad_value_gets_one_line_naming_the_flag(tmp_path):
    path = write(tmp_path, {**copy.deepcopy(BASE), "sweep": {"grid": {"workload.rate": ["20/s"]}}})
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, ["sweep.grid.workload.rate=20/s"])
    message = str(caught.value)
    assert "\n" not in message
    assert "sweep.grid.workload.rate: input should be a valid list" in message and "(set by --set sweep.grid.workload.rate=20/s)" in message
