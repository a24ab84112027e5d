"""Hostile scenario files are refused in one line, fast: bounded documents, finite numbers in their
domains, referenced files read safely, and messages that stay one short line.

Each case is one of the classes found by fuzzing ~1,800 mutated files (issue 10).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from simulator.errors import ScenarioError
from simulator.scenario import load_scenario
from simulator.scenario.document import MAX_DEPTH, MAX_NODES
from simulator.suggest import MAX_SHOWN, did_you_mean, shown

ROOT = Path(__file__).resolve().parent.parent
MM1 = (ROOT / "scenarios" / "mm1.yaml").read_text()
BOMB = "meta:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9)
)


def refused(tmp_path: Path, text: str, overrides: list[str] | None = None) -> str:
    """The one-line message for ``text``, checked to come within a second and fit on one line."""
    path = tmp_path / "s.yaml"
    path.write_text(text)
    started = time.process_time()
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    assert time.process_time() - started < 1.0
    message = caught.value.message
    assert "\n" not in message and len(message) < 600, message
    assert message.startswith(str(path))
    return message


@pytest.mark.parametrize(
    ("label", "text", "expected"),
    [
        ("500 nested [", MM1 + "meta: {x: " + "[" * 500 + "]" * 500 + "}\n", f"nested more than {MAX_DEPTH} levels deep"),
        ("recursive alias", MM1 + "meta: &a [*a]\n", "recursive alias '*a'"),
        ("!!int abc", MM1 + "meta: {x: !!int abc}\n", "YAML tags such as '!!int' are not accepted"),
        ("python tag", MM1 + "meta: {x: !!python/object:os.system ls}\n", "YAML tags such as '!!python/object:os.system'"),
        ("4,301-digit integer", MM1 + "meta: {x: " + "9" * 4301 + "}\n", "an integer of 4301 digits"),
        ("alias bomb (10^8 nodes)", MM1 + BOMB, f"more than {MAX_NODES:,} YAML nodes once aliases are expanded"),
        ("NaN rate", MM1.replace("rate: 90/s", "rate: .nan"), "workload.rate: 'nan' is not a finite number"),
        ("inf rate", MM1.replace("rate: 90/s", "rate: 1e400/s"), "workload.rate: '1e400/s' is not a finite number"),
        ("inf duration", MM1.replace("duration: 30m", "duration: .inf"), "duration: 'inf' is not a finite number"),
        ("NaN mix share", MM1.replace("  rate: 90/s\n", "  rate: 90/s\n  mix: {job: .nan}\n"), "workload.mix.job: must be a finite number"),
        ("empirical negative", MM1.replace("exp(10ms)", "empirical(-1ms, 2ms)"), "greater than or equal to 0"),
        ("empirical NaN", MM1.replace("exp(10ms)", "{type: empirical, values: [.nan, 2ms]}"), "not a finite number"),
        ("lognormal cv=inf", MM1.replace("exp(10ms)", "lognormal(10ms, cv=inf)"), "cv: must be a finite number"),
        ("lognormal cv=1e300", MM1.replace("exp(10ms)", "lognormal(1e300s, cv=1e300)"), "cv: input should be less than or equal to 100"),
        ("gamma cv=1e-300", MM1.replace("exp(10ms)", "gamma(10ms, cv=1e-300)"), "cv: input should be greater than or equal to 0.001"),
        ("exp(1e400ms)", MM1.replace("exp(10ms)", "exp(1e400ms)"), "'1e400ms' is not a finite number"),
        ("erlang k=0", MM1.replace("exp(10ms)", "erlang(10ms, k=0)"), "k: input should be greater than or equal to 1"),
        ("duplicate argument", MM1.replace("exp(10ms)", "exp(mean=10ms, mean=3s)"), "argument 'mean' given twice in 'exp(mean=10ms, mean=3s)'"),
        ("positional and keyword", MM1.replace("exp(10ms)", "exp(10ms, mean=3s)"), "argument 'mean' given twice"),
        ("too many spikes", MM1.replace("  rate: 90/s\n", "  rate: 90/s\n  spikes: [" + ", ".join(["{at: 1s, duration: 1s, factor: 2}"] * 1001) + "]\n"), "at most 1000 items"),
        ("a huge instance count", MM1.replace("    cores: 1\n", "    cores: 1\n    instances: 100000000000\n"), "less than or equal to 10000"),
    ],
)
def test_hostile_documents_get_one_line(tmp_path: Path, label: str, text: str, expected: str) -> None:
    assert expected in refused(tmp_path, text)


def test_a_device_file_as_start_up_profile_is_refused_without_reading_it(tmp_path: Path) -> None:
    text = MM1.replace("    cores: 1\n", "    cores: 1\n    platform: {kind: container, profile: /dev/zero}\n")
    assert "start-up profile '/dev/zero': is not a regular file" in refused(tmp_path, text)


def test_a_folder_or_a_huge_file_as_start_up_profile_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.json").write_bytes(b" " * 10_000_001)
    text = MM1.replace("    cores: 1\n", "    cores: 1\n    platform: {kind: container, profile: big.json}\n")
    assert "10,000,001 bytes; at most 10,000,000 are read" in refused(tmp_path, text)
    text = MM1.replace("    cores: 1\n", f"    cores: 1\n    platform: {{kind: container, profile: {tmp_path}}}\n")
    assert "is a folder" in refused(tmp_path, text)


def test_a_scenario_that_is_a_device_or_too_big_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario("/dev/zero")
    big = tmp_path / "big.yaml"
    big.write_text(MM1 + "#" * 1_000_000)
    with pytest.raises(ScenarioError, match="at most 1,000,000 are read"):
        load_scenario(big)


def test_a_500_part_set_path_on_a_file_with_variants_is_one_line() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(ROOT / "scenarios" / "shop-spike.yaml", [".".join(["a"] * 500) + "=1"])
    assert "a path of 500 parts: at most 32 are accepted" in caught.value.message
    assert len(caught.value.message) < 400


def test_a_set_value_of_500_nested_brackets_is_one_line() -> None:
    with pytest.raises(ScenarioError, match="nested more than 64 levels"):
        load_scenario(ROOT / "scenarios" / "mm1.yaml", ["meta=" + "[" * 500 + "]" * 500])


def test_a_key_with_a_newline_is_escaped_on_one_line(tmp_path: Path) -> None:
    message = refused(tmp_path, MM1 + '"a\\nb": 1\n')
    assert r"unknown field 'a\nb'" in message


def test_a_field_in_the_wrong_section_is_not_suggested_as_itself(tmp_path: Path) -> None:
    message = refused(tmp_path, MM1.replace("  job:\n", "  job:\n    service_time: exp(1ms)\n"))
    assert "unknown field 'service_time' here (it is a field of another section)" in message
    assert "did you mean 'service_time'" not in message


def test_a_very_long_name_is_shortened(tmp_path: Path) -> None:
    message = refused(tmp_path, MM1.replace("calls: [server]", "calls: [" + "k" * 100_000 + "]"))
    assert "call to undefined service 'kkk" in message
    assert "k" * MAX_SHOWN not in message and "..." in message


def test_the_count_of_further_errors_counts_fields(tmp_path: Path) -> None:
    one_more = refused(tmp_path, MM1.replace("  rate: 90/s\n", "  rate: 90/s\n  rat: 1\n").replace("    cores: 1\n", "    cors: 1\n"))
    assert one_more.endswith("(1 more error)")
    none_more = refused(tmp_path, MM1.replace("exp(10ms)", "lognormal(10ms, cv=inf)"))
    assert "more error" not in none_more  # one bad field, though pydantic reports it per union member


def test_a_host_smaller_than_one_instance_is_a_load_error() -> None:
    with pytest.raises(ScenarioError, match=r"services.api: one instance needs 2 cores and 522 MB .* a host has 1 cores"):
        load_scenario(ROOT / "scenarios" / "cost-per-request.yaml", ["hosts.cores=1"])


def test_suggestions_are_close_names_never_the_name_itself() -> None:
    assert did_you_mean("rat", ["rate", "duration"]) == " (did you mean 'rate'?)"
    assert did_you_mean("rate", ["rate"]) == ""
    assert did_you_mean("x" * 1000, ["x"]) == ""
    assert shown("a\nb") == r"a\nb"
    assert len(shown("é" * 10_000)) == MAX_SHOWN


def test_the_shipped_scenarios_still_load() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        load_scenario(path)
