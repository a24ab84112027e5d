"""Reports: one self-contained, valid HTML file (checked in headless Chromium) and a Markdown
summary; ``archsim report`` and ``archsim compare`` on the command line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from simulator.charts import load_runs
from simulator.paired import PAIRED, WELCH, difference, shared_randomness
from simulator.report.compare import comparability_warnings, differences
from simulator.report.tables import cell
from simulator.results.rundata import Estimate

from test_charts_support import main_job_run, reported_run, sweep_run

CHROMIUM = Path("/usr/bin/chromium")
VOID = {"meta", "img", "br", "hr", "link", "input"}


class Checker(HTMLParser):
    """Balanced tags and every URL the page would load."""

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.urls = [], [], []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    run_dir, made = reported_run(tmp_path_factory.getbasetemp())
    return run_dir, (run_dir / "report.html").read_text(encoding="utf-8")


def test_report_html_is_valid_and_self_contained(report):
    run_dir, html = report
    checker = Checker()
    checker.feed(html)
    assert html.startswith("<!DOCTYPE html>")
    assert checker.errors == [] and checker.stack == []
    assert checker.urls and all(url.startswith("data:image/png;base64,") for url in checker.urls)
    assert not re.search(r"https?://|url\(", html)


def test_report_shows_summary_scorecard_charts_and_scenario(report):
    run_dir, html = report
    for text in ("Summary", "Trade-off scorecard", "Richards &amp; Ford", "start-up time by phase", "name: charts-sweep", "disagrees"):
        assert text in html
    assert html.count("<img") >= 8


def test_markdown_summary_has_the_tables_and_links_the_charts(report):
    run_dir, _ = report
    md = (run_dir / "report.md").read_text()
    assert "| variant | source | style |" in md and "## Trade-off scorecard" in md
    assert "](charts/latency-percentiles.png)" in md


def chromium(*args, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=90,
    )


@pytest.fixture(scope="module")
def main_job_report(tmp_path_factory):
    from simulator.report import build_report

    out = tmp_path_factory.mktemp("main-job-report")
    build_report([main_job_run(tmp_path_factory.getbasetemp())], out)
    return out / "report.html"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the Debian package chromium (installed by .ci/run)")
def test_main_job_report_at_1400_px_has_no_sideways_scroll_and_no_console_errors(main_job_report, tmp_path):
    shot = tmp_path / "report.png"
    done = chromium(f"--screenshot={shot}", "--window-size=1400,2000", main_job_report.as_uri(), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    assert not [line for line in done.stderr.splitlines() if "Uncaught" in line or "CONSOLE" in line]
    # The page has no script of its own: a copy with one that writes the widths into the DOM.
    probe = tmp_path / "probe.html"
    measure = ('<script>document.body.dataset.widths = [document.documentElement.scrollWidth, document.documentElement.clientWidth]'
               '.concat([...document.querySelectorAll(".scroll, table, li")].map(e => e.scrollWidth - e.clientWidth)).join(" ");</script>')
    probe.write_text(main_job_report.read_text(encoding="utf-8").replace("</body>", measure + "</body>"), encoding="utf-8")
    dom = chromium("--dump-dom", "--window-size=1400,2000", probe.as_uri(), tmp_path=tmp_path).stdout
    widths = [int(w) for w in re.search(r'data-widths="([^"]*)"', dom).group(1).split()]
    page, viewport, overflows = widths[0], widths[1], widths[2:]
    assert page <= viewport and max(overflows) <= 0, widths
    html = main_job_report.read_text(encoding="utf-8")
    # one Performance row in the star table and one in the numbers behind the stars (no capacity row repeated there)
    assert html.count(">Performance</td>") == 2
    assert re.search(r'<span class="when">\d{4}-\d\d-\d\d \d\d:\d\d UTC</span>', html)


def test_welch_interval_of_a_difference():
    a, b = Estimate(10.0, None, (9.0, 10.0, 11.0)), Estimate(12.0, None, (11.0, 12.0, 13.0))
    unpaired = difference(a, b, paired=False)
    assert unpaired.method == WELCH
    assert unpaired.ci95 == pytest.approx(2.776445 * (2 / 3) ** 0.5, rel=1e-4)  # t(0.975, df=4)
    assert difference(Estimate(1.0, None, (1.0,)), b, paired=False).ci95 is None


def test_paired_interval_uses_the_per_replication_differences():
    # b_i - a_i = 2.0, 2.5, 1.5: mean 2, sd 0.5, t(0.975, 2) = 4.302653
    a, b = Estimate(10.0, None, (9.0, 10.0, 11.0)), Estimate(12.0, None, (11.0, 12.5, 12.5))
    paired = difference(a, b, paired=True)
    assert paired.method == PAIRED
    assert paired.ci95 == pytest.approx(4.302653 * 0.5 / 3**0.5, rel=1e-5)
    assert paired.significant and not difference(a, b, paired=False).significant  # Welch: 2 vs ±2.9
    # different replication counts cannot be paired, whatever the caller asks
    assert difference(a, Estimate(12.0, None, (11.0, 13.0)), paired=True).method == WELCH


def test_runs_are_paired_only_when_they_share_seed_and_replications():
    assert shared_randomness({"seed": 7, "replications": 3}, {"seed": 7, "replications": 3})
    assert not shared_randomness({"seed": 7, "replications": 3}, {"seed": 8, "replications": 3})
    assert not shared_randomness({"seed": 7, "replications": 3}, {"seed": 7, "replications": 5})


def test_a_run_compared_with_itself_shows_no_significant_difference(tmp_path_factory):
    variants = load_runs(sweep_run(tmp_path_factory.getbasetemp()))
    diffs = differences(variants, variants, paired=True)
    assert diffs and all(d.diff == 0 and not d.significant for d in diffs)


def archsim(*args):
    exe = shutil.which("archsim") or sys.executable
    command = [exe, *args] if exe.endswith("archsim") else [exe, "-m", "simulator.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_report_command_rejects_a_folder_that_is_not_a_run(tmp_path):
    done = archsim("report", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {tmp_path}: not a run directory (no summary.json)"


def test_compare_command_prints_differences_and_charts_them(tmp_path_factory, tmp_path):
    run = sweep_run(tmp_path_factory.getbasetemp())
    done = archsim("compare", str(run), str(run), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "p95" in done.stdout and "no significant difference" in done.stdout
    assert "intervals: paired (paired per-replication differences: same seed and replications)" in done.stdout
    assert not re.search(r"\b0\.0\d{3,}", done.stdout)  # no raw seconds such as 0.09986
    assert (tmp_path / "compare.png").stat().st_size > 10_000


def test_report_tables_write_figures_with_the_one_formatter():
    assert cell(Estimate(0.0379, 0.0244), "s") == "37.9 ms ± 24.4"
    assert cell(Estimate(0.0379, 0.00001), "s") == "37.9 ms"
    assert cell(Estimate(1234.5, 0.02), "/s") == "1,234/s"  # three significant digits, never fewer decimals than zero
    assert cell(None, "s") == "–"


def test_compare_warns_when_runs_are_not_like_for_like():
    a = {"scenario": {"name": "s"}, "seed": 1, "duration_s": 60.0, "warmup_s": 10.0, "replications": 3, "status": "ok"}
    assert comparability_warnings(a, dict(a)) == []
    b = {**a, "seed": 2, "status": "interrupted"}
    assert comparability_warnings(a, b) == ["different seed: A 1, B 2",
                                            "run B status is 'interrupted', not 'ok': its figures may be partial"]
    c = {**a, "scenario": {"name": "t"}, "duration_s": 90.0, "replications": 1}
    assert len(comparability_warnings(a, c)) == 3


def test_compare_command_prints_warnings_before_the_table(tmp_path_factory, tmp_path):
    import json

    run = sweep_run(tmp_path_factory.getbasetemp())
    other = tmp_path / "other"
    shutil.copytree(run, other)
    summary = json.loads((other / "summary.json").read_text())
    (other / "summary.json").write_text(json.dumps({**summary, "seed": summary["seed"] + 1}))
    done = archsim("compare", str(run), str(other), "--out", str(tmp_path / "cmp"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"warning: different seed: A {summary['seed']}, B {summary['seed'] + 1}"
    assert "p95" in done.stdout
    assert "intervals: Welch (Welch's t: the runs differ in seed or replications, so they are not paired)" in done.stdout


def test_command_line_overrides_are_recorded_shown_and_compared(tmp_path):
    import json

    from test_charts_support import FIXTURE

    runs = {}
    for name, extra in (("a", []), ("b", ["--set", "workload.rate=120/s", "--seed", "9"])):
        done = archsim("run", str(FIXTURE), "--variant", "load-50", "--replications", "2", "--no-charts", "-q",
                       "--out", str(tmp_path / name), *extra)
        assert done.returncode == 0, done.stderr
        runs[name] = json.loads((tmp_path / name / "summary.json").read_text())
    assert runs["a"]["run"]["overrides"] == {"replications": 2}
    assert runs["b"]["run"]["overrides"] == {"set": {"workload.rate": "120/s"}, "seed": 9, "replications": 2}
    assert comparability_warnings(runs["a"], runs["b"]) == [
        "different seed: A 3, B 9", "runs differ in --set workload.rate: A not set (the file), B 120/s"]
    done = archsim("report", str(tmp_path / "b"))
    assert done.returncode == 0, done.stderr
    assert "--set workload.rate=120/s --seed 9 --replications 2" in (tmp_path / "b" / "report.html").read_text()
