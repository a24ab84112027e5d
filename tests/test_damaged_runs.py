"""``archsim report`` and ``archsim compare`` refuse damaged run directories: one line naming the
file and what is wrong, exit code 2; never a traceback, never an empty report with exit 0."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.errors import ArchsimError
from simulator.results.rundata import load_runs, read_summary
from simulator.runner import run_scenario
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "good"
    loaded = load_scenario(ROOT / "scenarios" / "mm1.yaml", ["duration=20s", "warmup=1s"], replications=2)
    run_scenario(loaded, run_dir)
    return run_dir


def _summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def _with_variants(run: Path, variants: object) -> str:
    return json.dumps({**_summary(run), "variants": variants})


def _header(run: Path) -> str:
    return (run / "timeseries.csv").read_text().splitlines()[0]


DAMAGE = [
    ("binary summary", "summary.json", lambda run: b"\x89PNG\x00\xff\xfe" * 10, "summary.json: is not UTF-8 text"),
    ("binary time series", "timeseries.csv", lambda run: b"\xff\xfe\x00" * 30, "timeseries.csv: is not UTF-8 text"),
    ("truncated summary", "summary.json", lambda run: (run / "summary.json").read_text()[:500], "summary.json:19: not valid JSON"),
    (
        "truncated time series", "timeseries.csv",
        lambda run: _header(run) + "\nbase,0,1.0\n",
        "timeseries.csv:2: 3 fields where the header has",
    ),
    (
        "non-numeric time series", "timeseries.csv",
        lambda run: _header(run) + "\n" + ",".join(["base", "0"] + ["abc"] * (len(_header(run).split(",")) - 2)) + "\n",
        "timeseries.csv:2: column 'time_s': 'abc' is not a number",
    ),
    ("time series without a header", "timeseries.csv", lambda run: "1,2,3\n", "not an archsim time series (no 'variant' column"),
    ("garbage resolved.json", "resolved.json", lambda run: '{"variants": [1, 2', "resolved.json:1: not valid JSON"),
    ("resolved.json of the wrong shape", "resolved.json", lambda run: "[1, 2, 3]", "resolved.json: not an archsim resolved scenario"),
    ("variants as a list", "summary.json", lambda run: _with_variants(run, [1, 2]), "summary.json: not an archsim run summary (no `variants` mapping)"),
    ("a variant that is a string", "summary.json", lambda run: _with_variants(run, {"base": "x"}), "variants.base: expected a mapping of figures, got str"),
    ("a variant without figures", "summary.json", lambda run: _with_variants(run, {"base": {"classes": {}}}), "variants.base: no `overall` figures"),
    (
        "a figure that is not a number", "summary.json",
        lambda run: _with_variants(run, {"base": {**_summary(run)["variants"]["base"], "overall": {"latency_p95_s": {"mean": "fast"}}}}),
        "variants.base.overall.latency_p95_s.mean: 'fast' is not a number",
    ),
    ("no finished variant", "summary.json", lambda run: json.dumps({**_summary(run), "variants": {}, "status": "error"}), "no finished variant in summary.json (status 'error')"),
]


def _damaged(good_run: Path, tmp_path: Path, file: str, content) -> Path:
    run = tmp_path / "damaged"
    shutil.copytree(good_run, run)
    data = content(good_run)
    (run / file).write_bytes(data if isinstance(data, bytes) else data.encode())
    return run


@pytest.mark.parametrize(("label", "file", "content", "expected"), DAMAGE, ids=[d[0] for d in DAMAGE])
def test_damaged_run_files_give_one_line_naming_the_file(good_run: Path, tmp_path: Path, label: str, file: str, content, expected: str) -> None:
    run = _damaged(good_run, tmp_path, file, content)
    with pytest.raises(ArchsimError) as caught:
        read_summary(run)
        load_runs(run)
    message = caught.value.message
    assert expected in message
    assert message.startswith(str(run))
    assert "\n" not in message


def test_a_good_run_reads_back(good_run: Path) -> None:
    (variant,) = load_runs(good_run)
    assert variant.series("throughput_per_s") is not None


@pytest.mark.parametrize("command", ["report", "compare"])
def test_the_commands_exit_2_with_one_line_on_a_damaged_run(good_run: Path, tmp_path: Path, command: str) -> None:
    run = _damaged(good_run, tmp_path, "timeseries.csv", lambda r: b"\xff\xfe\x00" * 30)
    args = [str(run)] if command == "report" else [str(good_run), str(run)]
    result = subprocess.run(
        [sys.executable, "-m", "simulator.cli", command, *args, "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {run / 'timeseries.csv'}: is not UTF-8 text (byte 0 cannot be decoded): a run file must be text"
    assert not (tmp_path / "out" / "report.html").exists()
