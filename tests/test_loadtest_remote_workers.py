"""Workers on other machines, played on this one: ``archsim loadtest --expect-workers 2`` (the
Locust master only) and two ``archsim loadtest-worker --master HOST:PORT`` processes started as
separate commands, as a user starts them on other machines; nginx on a free loopback port as the
target, every port chosen free at run time. Also: a worker killed mid-run is reported (status
``error``, exit 1), never merged as complete; and the pure parts (address parsing, the worker
report) without Locust.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from loadtest_targets import Nginx, free_port

from simulator.errors import ArchsimError
from simulator.loadtest.plan import LoadPlan
from simulator.loadtest.remote import (
    WORKERS_FILE,
    parse_master,
    worker_command,
    worker_report,
)

REPO = Path(__file__).resolve().parents[1]
needs_nginx = pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                                 reason="nginx is not installed (bash loadtests/ci/setup-loadgen.sh installs it)")


def scenario(folder: Path, rate: str = "400/s") -> Path:
    path = folder / "remote.yaml"
    path.write_text(f"""
name: remote
duration: 10s
warmup: 2s
workload: {{rate: {rate}, arrivals: deterministic, mix: {{home: 0.8, item: 0.2}}}}
classes:
  home: {{http: {{method: GET, path: /}}}}
  item:
    http:
      path: /items/{{id}}
      params: {{id: {{uniform_int: [1, 100]}}}}
      expect: 200
""")
    return path


def archsim(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "simulator.cli", *map(str, args)], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def summary_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def shape(value):
    """The keys of a summary, recursively (values and list lengths aside)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def _plans_given(out: Path) -> list:
    try:
        return json.loads((out / "locust" / "records" / WORKERS_FILE).read_text())["plans"]
    except (OSError, ValueError, KeyError):
        return []


def master_and_workers(tmp_path: Path, host: str, out: Path, kill_one_after_s: float | None = None):
    port = free_port()
    master = archsim("loadtest", scenario(tmp_path), "--host", host, "--expect-workers", "2", "--master-port", port,
                     "--expect-workers-max-wait", "60s", "--allow-late", "--out", out, "--no-charts")
    time.sleep(1.0)
    workers = [archsim("loadtest-worker", "--master", f"127.0.0.1:{port}") for _ in range(2)]
    if kill_one_after_s is not None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_plans_given(out)) < 2:  # both workers have their plans
            time.sleep(0.2)
        time.sleep(kill_one_after_s)
        victim = psutil.Process(workers[0].pid)
        for process in [*victim.children(recursive=True), victim]:  # the worker and its Locust: gone without a word
            process.send_signal(signal.SIGKILL)
    try:
        stdout, stderr = master.communicate(timeout=180)
    finally:
        for worker in workers:
            try:
                worker.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.communicate()
    return master.returncode, stdout, stderr, port


@needs_nginx
@pytest.mark.slow
def test_two_remote_workers_merge_into_one_summary_shaped_like_workers_2(tmp_path):
    with Nginx(tmp_path) as nginx:
        code, _stdout, stderr, port = master_and_workers(tmp_path, nginx.url, tmp_path / "remote")
        assert code == 0, stderr[-3000:]
        assert f"archsim loadtest-worker --master 127.0.0.1:{port}" in stderr  # the printed command
        local = subprocess.run([sys.executable, "-m", "simulator.cli", "loadtest", scenario(tmp_path), "--host", nginx.url,
                                "--workers", "2", "--allow-late", "--out", tmp_path / "local", "--no-charts"],
                               check=False, cwd=REPO, capture_output=True, text=True, timeout=180)
        assert local.returncode == 0, local.stderr[-3000:]
    remote, here = summary_of(tmp_path / "remote"), summary_of(tmp_path / "local")
    block = remote["variants"]["measured"]
    extras = block["extras"]
    assert remote["status"] == "ok" and remote["passed"]
    assert extras["achieved_rate_per_s"]["mean"] == pytest.approx(400, rel=0.01)
    assert extras["workers"]["mean"] == 2
    records = sorted(p.name for p in (tmp_path / "remote" / "locust" / "records").glob("record-*.json"))
    assert records == ["record-w0.json", "record-w1.json"]
    workers = remote["checks"]["workers"]
    assert workers["records"] == 2 and workers["complete"] == 2 and workers["problems"] == []
    per_worker = [json.loads((tmp_path / "remote" / "locust" / "records" / r).read_text()) for r in records]
    assert all(r["pacing"]["arrivals"] == pytest.approx(1600, rel=0.01) for r in per_worker)  # rate / 2 each
    assert sum(r["pacing"]["arrivals"] for r in per_worker) == block["extras"]["pacing"]["arrivals"]["mean"]
    # each worker watched its own CPU every 0.5 s over the 8 s: its busiest share is their 90th percentile, as locally
    assert all(r["cpu"]["intervals"] >= 12 and 0 < r["cpu"]["busiest_share"] < 1.5 for r in per_worker), [r["cpu"] for r in per_worker]
    for summary in (remote, here):  # a warning only when a shared machine made the generator late (--allow-late)
        summary["checks"]["generator"].pop("warning", None)
    assert shape(remote) == shape(here)


@needs_nginx
@pytest.mark.slow
def test_a_worker_that_disconnects_is_reported_not_merged_as_complete(tmp_path):
    with Nginx(tmp_path) as nginx:
        code, _stdout, stderr, _ = master_and_workers(tmp_path, nginx.url, tmp_path / "run", kill_one_after_s=5.0)
    summary = summary_of(tmp_path / "run")
    assert code == 1, stderr[-3000:]
    assert summary["status"] == "error" and not summary["passed"]
    workers = summary["checks"]["workers"]
    assert workers["complete"] <= 1 and workers["problems"]
    assert "worker" in summary["error"]


def test_master_addresses_and_the_printed_command():
    assert parse_master("127.0.0.1:5557") == ("127.0.0.1", 5557)  # parsing only: nothing binds these addresses
    assert parse_master("[::1]:5557") == ("::1", 5557)
    for bad in ("127.0.0.1", "host:0", ":5557", "host:port"):
        with pytest.raises(ArchsimError):
            parse_master(bad)
    assert worker_command("10.0.0.5:5557", allow_remote=True) == "archsim loadtest-worker --master 10.0.0.5:5557 --allow-remote"


def _plan(workers: int, remote: bool) -> LoadPlan:
    return LoadPlan(model="open", duration_s=10, warmup_s=2, interval_s=1, seed=1, mix={"a": 1.0}, users=10,
                    spawn_rate_per_s=100, workers=workers, remote=remote)


def test_the_worker_report_names_missing_and_partial_workers(tmp_path):
    (tmp_path / WORKERS_FILE).write_text(json.dumps({
        "expected": 2, "plans": [{"index": 0}, {"index": 1}],
        "records": {"0": {"index": 0, "client_id": "a", "complete": True, "elapsed_s": 11.0, "host": "m1"}},
        "missing": [{"client_id": "b", "at_s": 4.2}],
    }))
    report = worker_report(tmp_path, _plan(2, True), [])
    assert report["complete"] == 1 and len(report["problems"]) == 2
    assert "disconnected at 4.2 s" in report["problems"][0] and "1 of 2 worker(s) sent no record" in report["problems"][1]
    local = worker_report(tmp_path, _plan(2, False), [{"elapsed_s": 11.0}, {"elapsed_s": 3.0}])
    assert local["complete"] == 1 and "stopped after 3.0 s" in local["problems"][0]
    assert worker_report(tmp_path, _plan(1, False), [{"elapsed_s": 11.0}]) is None
