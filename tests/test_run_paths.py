"""``archsim run --out``: an empty or unusable folder is refused before the run, messages name the
real file (never a temporary one), and every result file follows the umask like the charts."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.results.rundir import atomic_write

ROOT = Path(__file__).resolve().parent.parent
MM1 = str(ROOT / "scenarios" / "mm1.yaml")
SHORT = ["--set", "duration=10s", "--set", "warmup=1s", "--replications", "1", "-q"]


def archsim(*args: str, cwd: Path, umask: int | None = None) -> subprocess.CompletedProcess:
    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)

    return subprocess.run(
        [sys.executable, "-m", "simulator.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=set_umask,
    )


def test_an_empty_out_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    result = archsim("run", MM1, "--out", "", *SHORT, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --out: empty path: give a folder for the run directory (e.g. --out results/my-run)"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("make", "expected"), [
    (lambda tmp: (tmp / "file").write_text("x") and tmp / "file", "is a file; give a folder"),
    (lambda tmp: (tmp / "file").write_text("x") and tmp / "file" / "run", "cannot create the folder (Not a directory)"),
])
def test_an_unusable_out_is_refused_before_the_run(tmp_path: Path, make, expected: str) -> None:
    out = make(tmp_path)
    result = archsim("run", MM1, "--out", str(out), *SHORT, cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_write_failure_names_the_real_file_not_a_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    target.mkdir()  # os.replace onto a folder fails
    with pytest.raises(OSError) as caught:
        atomic_write(target, "{}")
    assert caught.value.filename == str(target)
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # the temporary file is gone


def test_result_files_and_charts_follow_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = archsim("run", str(ROOT / "scenarios" / "shop-spike.yaml"), "--out", str(out), *SHORT, cwd=tmp_path, umask=0o027)
    assert result.returncode == 0, result.stderr
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*") if p.is_file()}
    assert {"summary.json", "timeseries.csv", "resolved.json", "report.html"} <= set(modes)
    assert any(name.startswith("charts/") for name in modes)
    assert set(modes.values()) == {0o640}, modes
