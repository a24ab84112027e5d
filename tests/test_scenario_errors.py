"""Bad scenario files get one line naming the file, the field (and line) and what is expected."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import yaml

from simulator.errors import ScenarioError
from simulator.scenario import load_scenario

BASE = {
    "name": "t",
    "duration": "10s",
    "workload": {"rate": "10/s"},
    "classes": {"a": {"calls": ["api"]}},
    "services": {"api": {"service_time": "exp(10ms)"}},
}


def write(tmp_path, data, name="scenario.yaml"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def error_for(tmp_path, change) -> ScenarioError:
    data = copy.deepcopy(BASE)
    change(data)
    path = write(tmp_path, data)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return caught.value


CASES = [
    ("unknown key with a hint", lambda d: d["workload"].update(rat="5/s"), "workload.rat", "unknown field 'rat' (did you mean 'rate'?)"),
    ("unknown service field", lambda d: d["services"]["api"].update(cors=2), "services.api.cors", "did you mean 'cores'?"),
    ("wrong unit", lambda d: d.update(duration="10 parsecs"), "duration", "unknown duration unit 'parsecs'"),
    ("negative rate", lambda d: d["workload"].update(rate="-5/s"), "workload.rate", "greater than 0"),
    ("rate without unit slash", lambda d: d["workload"].update(rate="5 per s"), "workload.rate", "cannot read"),
    ("call to undefined service", lambda d: d["classes"]["a"].update(calls=["apii"]), "classes.a.calls[0].call", "undefined service 'apii' (did you mean 'api'?)"),
    ("undefined operation", lambda d: d["classes"]["a"].update(calls=["api.get"]), "classes.a.calls[0].call", "has no operation 'get'"),
    (
        "mix not summing to 1",
        lambda d: (d["classes"].update(b={"calls": ["api"]}), d["workload"].update(mix={"a": 0.5, "b": 0.6})),
        "workload.mix",
        "shares must sum to 1 (they sum to 1.1)",
    ),
    ("mix naming an unknown class", lambda d: d["workload"].update(mix={"x": 1.0}), "workload.mix.x", "unknown request class 'x'"),
    ("several classes without a mix", lambda d: d["classes"].update(b={"calls": ["api"]}), "workload.mix", "required with several request classes"),
    (
        "cycle in a synchronous call graph",
        lambda d: (d["services"].update(x={"operations": {"o": {"calls": ["api"]}}}), d["services"]["api"].update(calls=["x.o"])),
        "services",
        "synchronous call cycle",
    ),
    ("warm-up longer than the run", lambda d: d.update(warmup="20s"), "warmup", "must be shorter than duration"),
    ("unknown distribution", lambda d: d["services"]["api"].update(service_time="weibull(3)"), "services.api.service_time", "unknown distribution 'weibull'"),
    ("negative mean", lambda d: d["services"]["api"].update(service_time="exp(-1ms)"), "services.api.service_time", "greater than 0"),
    ("not an integer", lambda d: d["services"]["api"].update(instances="many"), "services.api.instances", "valid integer"),
    ("missing field", lambda d: d.pop("duration"), "duration", "required field is missing"),
    ("probability above 1", lambda d: d["classes"]["a"].update(calls=[{"call": "api", "probability": 1.5}]), "classes.a.calls[0].probability", "less than or equal to 1"),
    ("route not summing to 1", lambda d: d["classes"].update(a={"route": {"start": {"api": 0.5}}}), "classes.a.route.start", "start probabilities must sum to 1"),
    ("both rate and profile", lambda d: d["workload"].update(profile=[{"at": "0s", "rate": "5/s"}]), "workload", "either `rate` or `profile`"),
]


@pytest.mark.parametrize("title,change,path,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_names_the_field_and_what_is_expected(tmp_path, title, change, path, expected):
    error = error_for(tmp_path, change)
    assert error.path.startswith(path), str(error)
    assert expected in error.expected, str(error)


def test_the_error_carries_the_line_of_the_field(tmp_path):
    path = write(tmp_path, "name: t\nduration: 10s\nworkload:\n  rate: 10/s\nclasses:\n  a:\n    calls: [api]\nservices:\n  api:\n    service_time: exp(10ms)\n    cors: 2\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}:11: services.api.cors: unknown field 'cors' (did you mean 'cores'?)"


def test_invalid_yaml_reports_the_line(tmp_path):
    path = write(tmp_path, "name: t\nduration: [10s\n")
    with pytest.raises(ScenarioError, match=r":3: invalid YAML"):
        load_scenario(path)


def test_a_file_that_is_not_a_mapping(tmp_path):
    with pytest.raises(ScenarioError, match="expected a mapping of scenario fields"):
        load_scenario(write(tmp_path, "- a\n- b\n"))


def test_a_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "nope.yaml")


def test_a_distribution_cut_by_a_yaml_comma_says_to_quote_it(tmp_path):
    data = yaml.safe_dump(BASE, sort_keys=False).replace("service_time: exp(10ms)", "{service_time: gamma(8ms, cv=0.5)}")
    text = "name: t\nduration: 10s\nworkload: {rate: 10/s}\nclasses: {a: {calls: [api]}}\nservices:\n  api: {service_time: gamma(8ms, cv=0.5)}\n"
    del data
    with pytest.raises(ScenarioError, match="quote it"):
        load_scenario(write(tmp_path, text))


def test_an_invalid_variant_names_the_variant(tmp_path):
    data = copy.deepcopy(BASE)
    data["variants"] = [{"name": "big", "set": {"services.api.instances": 0}}]
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, data))
    assert "variant 'big' is invalid at services.api.instances" in str(caught.value)


def test_duplicate_variant_names(tmp_path):
    data = copy.deepcopy(BASE)
    data["variants"] = [{"name": "v"}, {"name": "v"}]
    with pytest.raises(ScenarioError, match="duplicate variant name 'v'"):
        load_scenario(write(tmp_path, data))


def test_a_bad_override(tmp_path):
    path = write(tmp_path, BASE)
    with pytest.raises(ScenarioError, match="--set foo: cannot apply override"):
        load_scenario(path, ["foo"])
    with pytest.raises(ScenarioError, match="services.api.cores"):
        load_scenario(path, ["services.api.cores=zero"])


@pytest.mark.parametrize("command", ["validate", "run"])
def test_the_cli_prints_one_line_and_exits_2(tmp_path, command):
    data = copy.deepcopy(BASE)
    data["workload"]["rat"] = "5/s"
    path = write(tmp_path, data)
    result = subprocess.run([sys.executable, "-m", "simulator.cli", command, str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith(f"error: {path}:")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "results").exists(), "a rejected scenario must not start a run"


def test_a_duplicate_key_is_refused_with_both_lines(tmp_path):
    path = write(tmp_path, "name: t\nduration: 10s\nduration: 20s\nworkload: {rate: 1/s}\nclasses: {a: {calls: [api]}}\nservices: {api: {service_time: 1ms}}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}:3: duration: duplicate key (first given on line 2); YAML would silently keep only the last"


def test_a_distribution_that_is_not_one_says_what_a_distribution_looks_like(tmp_path):
    error = error_for(tmp_path, lambda d: d["services"]["api"].update(service_time={"dist": "exp", "mean": "10ms"}))
    assert error.expected.startswith("expected a distribution: a short form like exp(10ms)")
    error = error_for(tmp_path, lambda d: d["services"]["api"].update(service_time="lognormal(10ms)"))
    assert error.expected == "required field 'cv' is missing"


def test_a_string_without_a_unit_is_an_error(tmp_path):
    error = error_for(tmp_path, lambda d: d["services"]["api"].update(service_time="exp(10)"))
    assert "'10' has no unit" in error.expected


def test_an_override_into_an_unknown_service_is_a_typo_not_a_new_service(tmp_path):
    path = write(tmp_path, BASE)
    with pytest.raises(ScenarioError, match=r"no 'apii' in services \(did you mean 'api'\?\)"):
        load_scenario(path, ["services.apii.cores=2"])
    data = copy.deepcopy(BASE)
    data["variants"] = [{"name": "v", "set": {"services.apii.cores": 2}}]
    with pytest.raises(ScenarioError, match="no 'apii' in services"):
        load_scenario(write(tmp_path, data, "variants.yaml"))


def test_an_error_in_a_field_set_on_the_command_line_names_the_flag(tmp_path):
    path = write(tmp_path, BASE)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, ["services.api.cores=two"])
    assert str(caught.value).startswith(f"{path}: services.api.cores:")  # no line: the file is not at fault
    assert str(caught.value).endswith("(set by --set services.api.cores=two)")
    with pytest.raises(ScenarioError, match=r"\(set by --replications 0\)"):
        load_scenario(path, replications=0)
