"""The one work queue: the same numbers whatever runs the tasks (this process, 2 worker processes,
a real Dask LocalCluster), resume after a real SIGKILL, and the tidy sweep table."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from simulator.errors import ArchsimError
from simulator.runner import run_scenario
from simulator.scenario import load_scenario
from simulator.sweep.executors import DaskExecutor

ROOT = Path(__file__).resolve().parent.parent

#: 4 points x 2 variants x 2 replications = 16 tasks of about a quarter of a second each.
SCENARIO = {
    "name": "queue",
    "seed": 5,
    "duration": "120s",
    "warmup": "10s",
    "replications": 2,
    "metrics_interval": "30s",
    "workload": {"rate": "50/s"},
    "classes": {"get": {"calls": ["api.get"]}},
    "services": {"api": {"instances": 1, "cores": 2, "operations": {"get": {"service_time": "exp(20ms)"}}}},
    "variants": [{"name": "one", "set": {"services.api.instances": 1}}, {"name": "two", "set": {"services.api.instances": 2}}],
    "sweep": {"grid": {"workload.rate": [20, 40, 60, 80]}},
}


def comparable(run_dir: Path) -> dict:
    """summary.json without wall-clock and executor fields, plus the CSV files byte for byte."""
    summary = json.loads((run_dir / "summary.json").read_text())
    summary.pop("run")
    for block in summary["variants"].values():
        block.pop("wall_time_s")
    files = {name: (run_dir / name).read_text() for name in ("sweep.csv", "timeseries.csv", "one-20_stats.csv")}
    return {"summary": summary, **files}


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("queue") / "queue.yaml"
    path.write_text(yaml.safe_dump(SCENARIO, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def reference(scenario_file, tmp_path_factory) -> Path:
    """The run in this process, one task after another."""
    run_dir = tmp_path_factory.mktemp("inline")
    run_scenario(load_scenario(scenario_file), run_dir, jobs=1)
    return run_dir


def test_two_worker_processes_give_the_very_same_files(scenario_file, reference, tmp_path):
    summary = run_scenario(load_scenario(scenario_file), tmp_path, jobs=2)
    assert summary["status"] == "ok" and summary["run"]["executor"] == "processes" and summary["run"]["workers"] == 2
    assert comparable(tmp_path) == comparable(reference)
    assert list(summary["variants"]) == [f"{v}-{r}" for r in (20, 40, 60, 80) for v in ("one", "two")]


@pytest.mark.slow
def test_a_dask_local_cluster_runs_the_sweep_end_to_end_with_the_same_files(scenario_file, reference, tmp_path):
    summary = run_scenario(load_scenario(scenario_file), tmp_path, jobs=2, dask="local")
    assert summary["status"] == "ok"
    assert summary["run"]["executor"] == "dask" and summary["run"]["workers"] == 2
    assert summary["run"]["tasks"] == {"total": 16, "reused": 0, "ran": 16}
    assert comparable(tmp_path) == comparable(reference)


def test_the_tidy_table_has_a_row_per_point_variant_and_metric(reference):
    rows = list(csv.DictReader((reference / "sweep.csv").open()))
    p95 = [r for r in rows if r["metric"] == "overall.latency_p95_s"]
    assert [(r["base_variant"], float(r["workload.rate"])) for r in p95] == [(v, r) for r in (20, 40, 60, 80) for v in ("one", "two")]
    summary = json.loads((reference / "summary.json").read_text())
    for row in p95:
        estimate = summary["variants"][row["variant"]]["overall"]["latency_p95_s"]
        assert float(row["mean"]) == pytest.approx(estimate["mean"], rel=1e-8)
        assert float(row["ci95"]) == pytest.approx(estimate["ci95"], rel=1e-8) and row["n"] == "2"
    # p95 grows with the offered load for one instance (a fixed seed: a spec, not a statistical test)
    one = [float(r["mean"]) for r in p95 if r["base_variant"] == "one"]
    assert one == sorted(one)
    pyarrow = pytest.importorskip("pyarrow.parquet")
    table = pyarrow.read_table(reference / "sweep.parquet").to_pylist()
    assert len(table) == len(rows) and table[0]["metric"] == rows[0]["metric"] and table[0]["workload.rate"] == 20.0


def _archsim(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "simulator.cli", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_a_run_killed_with_sigkill_resumes_without_rerunning_finished_tasks(scenario_file, reference, tmp_path):
    run_dir = tmp_path / "run"
    killed = _archsim("run", str(scenario_file), "--out", str(run_dir), "--jobs", "2", "--no-charts", "-q", start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list(run_dir.glob("tasks/*/replication-*.json"))) < 5:
        assert killed.poll() is None, killed.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(killed.pid, signal.SIGKILL)  # the run, its forkserver and its workers, at once
    killed.wait()
    done_before = len(list(run_dir.glob("tasks/*/replication-*.json")))
    assert 5 <= done_before < 16
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "running"

    resumed = _archsim("run", "--resume", str(run_dir), "--jobs", "2", "--no-charts")
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert f"resumed: {done_before} finished task(s) kept, {16 - done_before} run now" in err
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["run"]["tasks"]["reused"] == done_before
    assert comparable(run_dir) == comparable(reference)


def test_resume_refuses_other_flags_and_a_changed_scenario(scenario_file, reference, tmp_path):
    both = _archsim("run", str(scenario_file), "--resume", str(reference))
    assert both.wait() == 2 and "--resume: FILE cannot be given" in both.stderr.read()
    run_dir = tmp_path / "run"
    changed = tmp_path / "queue.yaml"
    changed.write_text(scenario_file.read_text())
    run_scenario(load_scenario(changed, ["sweep.grid={workload.rate: [20]}"]), run_dir, jobs=1, options={"file": str(changed)})
    refused = _archsim("run", "--resume", str(run_dir), "-q", "--no-charts")
    assert refused.wait() == 2
    assert "the scenario changed since the run" in refused.stderr.read()
    missing = _archsim("run", "--resume", str(tmp_path))
    assert missing.wait() == 2 and "not a run directory of archsim run" in missing.stderr.read()


def test_without_dask_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ArchsimError, match=r"install the extra: pip install 'archsim\[dask\]'"):
        DaskExecutor("local", 1).__enter__()


def test_a_sweep_over_the_load_draws_capacity_curves_once_with_a_line_per_variant(reference):
    """capacity.png is the saturation chart of the sweep (one line per declared variant, knees in
    the legend); a separate saturation.png would repeat it, so it is not drawn."""
    from simulator.charts import CHARTS_DIR, draw_charts, load_runs

    out = reference / "drawn"
    made = {p.name for p in draw_charts(load_runs(reference), out / CHARTS_DIR, workers=1)}
    assert {"capacity.png", "capacity.svg"} <= made
    assert not any(name.startswith("saturation") for name in made)
    svg = (out / CHARTS_DIR / "capacity.svg").read_text()
    assert svg.count("one: ") == 1 and svg.count("two: ") == 1  # one legend entry per line, with its knee


def test_on_several_workers_the_biggest_tasks_start_first(scenario_file, tmp_path):
    """Longest first: the tasks reach the executor in decreasing offered requests (rate x
    duration); plan order (rates 20, 40, 60, 80) would leave the two 80/s tasks for last."""
    from simulator.sweep.queue import run_queue
    from simulator.sweep.store import TaskStore
    from simulator.sweep.tasks import expected_work, plan

    class Recording:
        workers = 2

        def __init__(self):
            self.order = []

        def results(self, tasks, partial=None):
            self.order = [t.key for t in tasks]
            return iter(())

    tasks = plan(load_scenario(scenario_file).variants)
    assert [expected_work(t) for t in tasks[:4:2]] == [20 * 120.0, 20 * 120.0]
    executor = Recording()
    run_queue(tasks, TaskStore(tmp_path), executor, lambda task, result: None)
    assert executor.order[:4] == ["one-80/0", "one-80/1", "two-80/0", "two-80/1"]
    assert executor.order[-4:] == ["one-20/0", "one-20/1", "two-20/0", "two-20/1"]


def test_ctrl_c_while_the_pool_starts_exits_130(tmp_path):
    """Ctrl-C as soon as the run starts (the pool's workers still starting) stops the workers and
    exits 130; the pool's list of workers is taken before shutdown() drops it."""
    out = tmp_path / "run"
    command = [sys.executable, "-m", "simulator.cli", "run", "scenarios/mm1.yaml", "--set", "duration=200s", "--set", "warmup=10s",
               "--replications", "40", "--jobs", "2", "-q", "--no-charts", "--out", str(out)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 60
    while time.time() < deadline and not (out / "summary.json").exists():
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "AttributeError" not in stderr
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"
