"""The ``archsim`` command, run in a subprocess as a user runs it."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.results.rundir import LOCUST_STATS_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
ARCHSIM = shutil.which("archsim") or ""


def archsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    command = [ARCHSIM] if ARCHSIM else [sys.executable, "-m", "simulator.cli"]
    return subprocess.run(command + list(args), capture_output=True, text=True, cwd=cwd or ROOT, timeout=300)


SHORT = ["--set", "duration=60s", "--set", "warmup=5s", "--replications", "2", "--no-charts"]


def test_run_writes_a_complete_run_directory(tmp_path):
    out = tmp_path / "run"
    result = archsim("run", "scenarios/mm1.yaml", *SHORT, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "results:" in result.stdout and "p95" in result.stdout
    for name in ("summary.json", "scenario.yaml", "resolved.json", "timeseries.csv", "base_stats.csv"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["error"] is None
    assert summary["seed"] == 7 and summary["replications"] == 2
    assert summary["archsim_version"]
    assert summary["run"]["wall_time_s"] > 0
    overall = summary["variants"]["base"]["overall"]
    assert overall["latency_p999_s"]["n"] == 2 and overall["latency_p999_s"]["ci95"] is not None
    with open(out / "base_stats.csv") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == LOCUST_STATS_COLUMNS
    assert [r[1] for r in rows[1:]] == ["job", "Aggregated"]
    with open(out / "timeseries.csv") as handle:
        header = next(csv.reader(handle))
    assert {"variant", "replication", "time_s", "offered_per_s", "throughput_per_s", "latency_p95_s", "in_flight", "utilisation.server", "queue.server"} <= set(header)


def test_the_same_seed_gives_the_same_summary(tmp_path):
    summaries = []
    for name in ("a", "b"):
        result = archsim("run", "scenarios/mm1.yaml", *SHORT, "-q", "--out", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        summary.pop("run")  # wall-clock times
        for variant in summary["variants"].values():
            variant.pop("wall_time_s")
        summaries.append(summary)
    assert summaries[0] == summaries[1]
    other = archsim("run", "scenarios/mm1.yaml", *SHORT, "-q", "--seed", "8", "--out", str(tmp_path / "c"))
    assert other.returncode == 0
    assert json.loads((tmp_path / "c" / "summary.json").read_text())["variants"]["base"]["overall"] != summaries[0]["variants"]["base"]["overall"]


def test_json_output_and_quiet_output(tmp_path):
    result = archsim("run", "scenarios/mm1.yaml", *SHORT, "--json", "--out", str(tmp_path / "j"))
    data = json.loads(result.stdout)
    assert data["status"] == "ok"
    assert "histograms" not in data["variants"]["base"]
    quiet = archsim("run", "scenarios/mm1.yaml", *SHORT, "-q", "--out", str(tmp_path / "q"))
    assert quiet.stdout.strip() == str(tmp_path / "q")


def test_default_output_goes_under_results(tmp_path):
    shutil.copy(ROOT / "scenarios" / "mm1.yaml", tmp_path / "mm1.yaml")
    result = archsim("run", "mm1.yaml", *SHORT, "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run_dir = Path(tmp_path / result.stdout.strip())
    assert run_dir.parent == tmp_path / "results" / "mm1"
    assert (run_dir / "summary.json").is_file()


def test_validate_and_schema():
    ok = archsim("validate", "scenarios/shop-spike.yaml")
    assert ok.returncode == 0 and "2 variant(s) (one-orders, three-orders)" in ok.stdout
    schema = json.loads(archsim("schema").stdout)
    assert {"workload", "services", "classes", "variants"} <= set(schema["properties"])


def test_the_schema_describes_slo_as_users_write_it():
    """``slo:`` is written as threshold strings or a mapping; the schema must accept exactly those
    forms (an editor plugin validates against it), not the parsed ``{thresholds: [...]}`` model."""
    import re

    import yaml

    slo = json.loads(archsim("schema").stdout)["$defs"]["Slo"]
    as_list, as_string, as_mapping = slo["anyOf"]
    assert "properties" not in slo and "required" not in slo
    pattern = re.compile(as_string["pattern"])
    assert "(?P<" not in as_string["pattern"]  # JavaScript regex engines refuse Python's named groups
    written = [yaml.safe_load(p.read_text()).get("slo") for p in sorted(Path("scenarios").glob("*.yaml"))]
    written = [w for w in written if w is not None]
    assert len(written) >= 5
    for form in written:
        if isinstance(form, list):
            assert as_list["type"] == "array" and all(pattern.match(t) for t in form), form
        else:
            assert isinstance(form, dict) and as_mapping["type"] == "object" and len(form) >= as_mapping["minProperties"]
    assert not pattern.match("p95 under 200ms") and pattern.match("browse.p99<=1s")


def test_analytic_prints_theory_beside_simulation():
    result = archsim("analytic", "scenarios/mm1.yaml", "--set", "duration=120s", "--replications", "2")
    assert result.returncode == 0, result.stderr
    assert "mean response time" in result.stdout and "0.1" in result.stdout
    refused = archsim("analytic", "scenarios/shop-spike.yaml", "--no-simulate")
    assert refused.returncode == 2
    assert "not a product-form network" in refused.stderr


def test_version():
    result = archsim("--version")
    assert result.returncode == 0 and result.stdout.startswith("archsim ")


def test_an_unknown_variant_is_a_one_line_error():
    result = archsim("run", "scenarios/shop-spike.yaml", "--variant", "nope", "--no-charts")
    assert result.returncode == 2
    assert "no such variant" in result.stderr and "one-orders" in result.stderr


@pytest.mark.parametrize("failure", [RuntimeError("boom"), KeyboardInterrupt()])
def test_a_failed_or_interrupted_run_keeps_what_finished(tmp_path, monkeypatch, failure):
    from simulator import runner
    from simulator.scenario import load_scenario

    loaded = load_scenario(ROOT / "scenarios" / "shop-spike.yaml", ["duration=20s", "warmup=2s"], replications=1)
    from simulator.sweep import executors

    real = executors.run_replication
    calls = []

    def flaky(scenario, replication, progress=None, extensions=()):
        calls.append(replication)
        if len(calls) == 2:
            raise failure
        return real(scenario, replication, progress, extensions)

    monkeypatch.setattr(executors, "run_replication", flaky)
    with pytest.raises(type(failure)):
        runner.run_scenario(loaded, tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == ("interrupted" if isinstance(failure, KeyboardInterrupt) else "error")
    assert summary["error"]
    assert list(summary["variants"]) == ["one-orders"]
    assert (tmp_path / "one-orders_stats.csv").is_file()
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


@pytest.mark.parametrize(
    "args",
    [["run", "scenarios/mm1.yaml", "--foo"], ["run"], ["frob"], ["run", "scenarios/mm1.yaml", "--seed", "x"]],
    ids=["unknown option", "missing argument", "unknown command", "bad option value"],
)
def test_usage_errors_are_short_and_exit_2(args):
    result = archsim(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Error:" in result.stderr


def test_an_output_path_that_is_a_file_is_a_one_line_error(tmp_path):
    target = tmp_path / "afile"
    target.write_text("")
    result = archsim("run", "scenarios/mm1.yaml", "--out", str(target))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: --out {target}: is a file; give a folder for the run directory"


def test_ctrl_c_exits_130_and_keeps_finished_replications(tmp_path):
    import signal
    import time

    out = tmp_path / "run"
    command = [ARCHSIM] if ARCHSIM else [sys.executable, "-m", "simulator.cli"]
    process = subprocess.Popen(command + ["run", "scenarios/mm1.yaml", "--set", "duration=200s", "--set", "warmup=10s", "--replications", "400", "-q", "--no-charts", "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not (out / "summary.json").exists():
        time.sleep(0.2)
    time.sleep(4)  # let a few replications finish
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    variant = summary["variants"]["base"]
    assert variant["interrupted"] is True and 1 <= variant["replications"] < 400


def test_an_overloaded_variant_gets_a_warning(tmp_path):
    scenario = tmp_path / "over.yaml"
    scenario.write_text("name: over\nduration: 60s\nworkload: {rate: 150/s}\nclasses: {a: {calls: [api]}}\nservices: {api: {service_time: exp(10ms)}}\n")
    result = archsim("run", str(scenario), "--no-charts", "--out", str(tmp_path / "run"))
    assert result.returncode == 0
    assert "variant 'base' left" in " ".join(result.stderr.split())
    assert "unfinished" in result.stdout  # flagged in the table too


def test_help_shows_no_value_placeholder_on_flags_and_no_cut_defaults():
    for command in (["--help"], ["run", "--help"], ["report", "--help"], ["compare", "--help"], ["deploy", "--help"]):
        result = subprocess.run([sys.executable, "-m", "simulator.cli", *command], capture_output=True, text=True, timeout=60,
                                cwd=ROOT, env={**os.environ, "COLUMNS": "80"})
        assert result.returncode == 0, result.stderr
        assert "<bool>" not in result.stdout, command
        assert "…" not in result.stdout, command  # nothing truncated at 80 columns
