"""The real measurement loop: deploy a style, find its saturation, load it level by level, keep everything.

``measure_style`` deploys the reference services with the deploy package under a project of its
own (so it never touches another deployment), then:

1. **Ramp.** Short open-model load tests at rising rates (``RAMP_STEP_PER_S`` apart) until the
   completed throughput stops following the offered load (below 90% of it, by more than arrival noise: :func:`fell_short`) or latency passes
   ``RAMP_LATENCY_LIMIT_S``; the saturation throughput is the most any step completed.
2. **Levels.** At each level (a fraction of that saturation) and the hold-out, ``repetitions``
   open-model load tests of ``duration_s`` with a warm-up, through the ``archsim loadtest`` command
   (a subprocess: the loadtest package's public interface), with a locustfile that also records the
   services' per-request CPU (``collect.py``). During each run every container's cgroup CPU counter
   is sampled once a second; ``/metrics`` is read before and after.
3. **Everything is kept** in the measurement folder (``folder.py``), and the manifest is rewritten
   after every run with its status.

A deployment that does not start, a run whose target errors (more than ``MAX_ERROR_RATE`` of its
requests failed, or the load test failed), and Ctrl-C or SIGTERM each end the loop with one line; the runs so
far stay in the folder and every container of the project is removed. A load generator that fell
behind (achieved under 97% of target, or more than 5% of arrivals late) is warned about.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..deploy import lifecycle
from ..deploy import topology as topologies
from ..deploy.engine import detect
from ..errors import ArchsimError, EnvironmentProblem
from ..results.rundir import write_json
from . import collect
from . import folder as folders
from . import styles

REPO = Path(__file__).resolve().parents[2]
SHOP_SCENARIO = REPO / "scenarios" / "styles-baseline.yaml"  #: The shop's request classes and mix.
STEADY = "workload.spikes=[]"  #: Each level is a steady rate: the shop scenario's flash-sale spike (4x for 5 s) would load a level past saturation.
LOCUSTFILES = REPO / "loadtests" / "locustfiles"
RAMP_START_PER_S = 100.0
RAMP_STEP_PER_S = 100.0
RAMP_MAX_PER_S = 1500.0
RAMP_LATENCY_LIMIT_S = 0.5  #: A ramp step with a mean latency above this is past saturation.
MAX_ERROR_RATE = 0.05  #: A run with more failed requests than this means the target is erroring.


def deployed_structure(style: str, replicas: int, mix: dict[str, float], project: str) -> tuple[styles.Deployed, dict]:
    """The style's calibration structure of the deployment that will run, and its facts for the manifest."""
    plan = topologies.build(style, replicas, topologies.Secrets("unused", "unused"), project)
    found = styles.deployed(style, plan, mix)
    facts = {"project": project, "replicas": replicas, "host_cores": collect.host_cores(), "containers": [
        {"name": c.name, "role": c.role, "tier": found.tiers[c.name], "cpus": c.cpus, "memory_mb": c.memory_mb, "image": c.image}
        for c in plan.containers]}
    return found, facts


def shop_mix() -> dict[str, float]:
    from ..scenario import load_scenario

    return dict(load_scenario(SHOP_SCENARIO).base.workload.mix or {})


def ramp_step_outcome(offered_per_s: float, completed_per_s: float, mean_s: float, window_s: float) -> str:
    """``failed`` when nothing was answered (0% completed: no saturation figure), ``past`` when the
    step is beyond saturation (:func:`fell_short` or latency over ``RAMP_LATENCY_LIMIT_S``), else ``below``."""
    if not completed_per_s or completed_per_s <= 0:
        return "failed"
    if fell_short(offered_per_s, completed_per_s, window_s) or mean_s > RAMP_LATENCY_LIMIT_S:
        return "past"
    return "below"


def fell_short(offered_per_s: float, completed_per_s: float, window_s: float) -> bool:
    """Whether a ramp step completed less than 90% of the offered load by more than Poisson noise.

    A short step at a low rate completes few requests: 80 at 20/s over 4 s, whose count varies by
    about 11% from arrivals alone. So the shortfall must also exceed three standard deviations of
    the offered count (``3 sqrt(rate × window)``), which noise alone passes about once in 700 steps.
    """
    expected = offered_per_s * window_s
    shortfall = (offered_per_s - completed_per_s) * window_s
    return completed_per_s < 0.9 * offered_per_s and shortfall > 3 * math.sqrt(expected)


class Interrupted(KeyboardInterrupt):
    """The calibration was stopped by a signal (SIGINT is Ctrl-C; SIGTERM a supervisor or ``kill``)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  #: 130 for SIGINT, 143 for SIGTERM, as shells report them.


@contextmanager
def interruptible() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` while a calibration measures, so either ends
    it through the same path: the run in progress is marked, the folder kept, the target cleaned up."""
    def stop(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def cleanup_signals_ignored() -> Iterator[None]:
    """A second Ctrl-C or SIGTERM must not stop the clean-up half way."""
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class Loop:
    """One calibration's measurements in ``out`` (see the module docstring)."""

    def __init__(self, style: str, out: Path, *, levels: list[float], hold_out: float | None, duration_s: float,
                 warmup_s: float, repetitions: int, ramp_step_s: float, log: Callable[[str], None], engine: str = "auto"):
        self.style, self.out, self.levels, self.hold_out = style, out.resolve(), levels, hold_out
        self.duration_s, self.warmup_s, self.repetitions, self.ramp_step_s = duration_s, warmup_s, repetitions, ramp_step_s
        self.log = log
        self.engine = detect(engine)
        self.project = f"calib-{os.getpid()}"
        self.mix = shop_mix()
        self.deployed, facts = deployed_structure(style, 1, self.mix, self.project)
        self.structure, self.tiers = self.deployed.structure, self.deployed.tiers
        self.manifest = folders.Manifest(style, self.structure, "containers", self.mix, deployment=facts)
        self.url = ""
        self.ramp_runs: list[folders.RunRecord] = []
        self.ramp_start_per_s, self.ramp_step_per_s, self.ramp_max_per_s = RAMP_START_PER_S, RAMP_STEP_PER_S, RAMP_MAX_PER_S

    # --- one load test -----------------------------------------------------------------------

    def loadtest_argv(self, run: folders.RunRecord, where: Path) -> tuple[list[str], dict[str, str]]:
        """The ``archsim loadtest`` command of one run and its environment (the style's scenario and locustfile)."""
        structure = self.structure
        locustfile = collect.cpu_report_locustfile(
            where / "calibrate_locustfile.py", LOCUSTFILES / f"{self.style.replace('-', '_')}.py", structure.entry_tier,
            header=self.deployed.cpu_header, class_tiers={c: structure.reported_operation(c)[0] for c in structure.classes})
        env = {**os.environ, "PYTHONPATH": str(REPO), collect.REPORTS_ENV: str(where / folders.CPU_REPORTS),
               collect.START_ENV: str(where / "test_start.txt")}
        argv = [sys.executable, "-m", "simulator.cli", "loadtest", str(SHOP_SCENARIO), "--host", self.url, "--variant", self.style,
                "--duration", f"{run.duration_s:g}s", "--set", f"workload.rate={run.target_rate_per_s:.6g}/s",
                "--set", f"warmup={run.warmup_s:g}s", "--set", STEADY, "--out", str(where), "--locustfile", str(locustfile), "--no-charts",
                "--allow-late"]  # a generator that fell behind is judged and warned about here (_generator_check)
        return argv, env

    def cpu_counters(self) -> dict[str, tuple[str, Path]]:
        """Counter name -> (tier, cumulative CPU file) to sample during a run: every container's cgroup."""
        return collect.container_counters(self.engine, self.tiers)

    def load_test(self, run: folders.RunRecord, where: Path) -> dict:
        """One ``archsim loadtest`` at ``run.target_rate_per_s`` with CPU collection; returns its summary."""
        where.mkdir(parents=True, exist_ok=True)
        argv, env = self.loadtest_argv(run, where)
        (where / "metrics").mkdir(exist_ok=True)
        write_json(where / "metrics" / "entry-before.json", collect.metrics(self.url))
        counters = self.cpu_counters()
        with collect.CpuSampler(counters) as sampler, open(where / "loadtest.log", "w", encoding="utf-8") as log:
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
            sampler.add_generator(process.pid)  # Locust's CPU per request: the shared host's load_generator tenant
            try:
                code = process.wait(timeout=run.duration_s + 240)
            except BaseException:
                process.send_signal(signal.SIGINT)  # the loadtest stops Locust and keeps what it measured
                try:
                    process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    process.kill()
                raise
        write_json(where / "metrics" / "entry-after.json", collect.metrics(self.url))
        start_file = where / "test_start.txt"
        start = float(start_file.read_text()) if start_file.is_file() else (sampler.rows[0][0] if sampler.rows else 0.0)
        folders.write_cpu_series(where / folders.CPU_SERIES, [(t - start, c, tier, cpu) for t, c, tier, cpu in sampler.rows])
        summary_path = where / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
        if code != 0 or summary.get("status") != "ok":
            tail = (where / "loadtest.log").read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise EnvironmentProblem(f"load test {run.id} at {run.target_rate_per_s:.0f}/s failed (exit {code}): {tail[0][:200]} (log: {where / 'loadtest.log'})")
        block = next(iter(summary["variants"].values()))
        errors = (block["overall"].get("error_rate") or {}).get("mean") or 0.0
        if errors > MAX_ERROR_RATE:
            raise EnvironmentProblem(f"the target errors: {errors:.0%} of requests failed in {run.id} at {run.target_rate_per_s:.0f}/s "
                                     f"({', '.join(list(summary.get('failures', {}) or {})[:2]) or 'see locust/'}); see {where}")
        self._generator_check(run, block)
        return summary

    def _generator_check(self, run: folders.RunRecord, block: dict) -> None:
        extras = block.get("extras", {})
        ratio = (extras.get("achieved_ratio") or {}).get("mean")
        late = ((extras.get("pacing") or {}).get("late_share") or {}).get("mean")
        if (ratio is not None and ratio < 0.97) or (late is not None and late > 0.05):
            line = (f"{run.id}: the load generator fell behind (achieved {ratio or 0:.0%} of target, {late or 0:.0%} of arrivals late): "
                    "the system or Locust was saturated at this rate")
            self.manifest.warnings.append(line)
            self.log(f"warning: {line}")

    def record(self, run: folders.RunRecord, where: Path, listing: list[folders.RunRecord]) -> dict:
        """Run one load test, listed in ``listing`` (the levels' runs or the ramp's) with its status."""
        listing.append(run)
        try:
            summary = self.load_test(run, where)
            run.status = "ok"
            return summary
        except KeyboardInterrupt:
            run.status, run.error = "interrupted", f"interrupted ({sys.exc_info()[1] or 'SIGINT'})"
            raise
        except ArchsimError as exc:
            run.status, run.error = "error", exc.message
            raise
        finally:
            self.manifest.extras["ramp_runs"] = [r.to_json() for r in self.ramp_runs]
            folders.write_manifest(self.out, self.manifest)

    # --- the loop ------------------------------------------------------------------------------

    ramp_method = f"{RAMP_STEP_PER_S:g}/s apart"

    def next_ramp_rate(self, rate: float) -> float:
        """The ramp's next offered rate: ``RAMP_STEP_PER_S`` more."""
        return rate + self.ramp_step_per_s

    def ramp(self) -> float:
        rate, best, steps = self.ramp_start_per_s, 0.0, []
        while rate <= self.ramp_max_per_s:
            run = folders.RunRecord(f"ramp-{rate:.0f}", "ramp", 1, rate, min(3.0, self.ramp_step_s / 3), self.ramp_step_s)
            summary = self.record(run, self.out / "ramp" / run.id, self.ramp_runs)
            overall = next(iter(summary["variants"].values()))["overall"]
            throughput = overall["throughput_per_s"]["mean"] or 0.0
            mean = (overall.get("latency_mean_s") or {}).get("mean") or 0.0
            outcome = ramp_step_outcome(rate, throughput, mean, run.duration_s - run.warmup_s)
            if outcome == "failed":  # nothing answered: a failure of the step, not a saturation figure
                run.status, run.error = "failed", "0% completed: no request was answered"
                steps.append({"target_per_s": rate, "throughput_per_s": None, "failed": run.error})
                self.log(f"ramp: step at {rate:.0f}/s FAILED: 0% completed (no request answered); not a saturation figure")
                break
            steps.append({"target_per_s": rate, "throughput_per_s": throughput, "latency_mean_s": mean})
            best = max(best, throughput)
            self.log(f"ramp: {rate:.0f}/s offered, {throughput:.1f}/s completed, mean {mean * 1e3:.1f} ms")
            if outcome == "past":
                break
            rate = self.next_ramp_rate(rate)
        self.manifest.saturation = {"measured_per_s": best, "method": f"ramp of {self.ramp_step_s:g} s steps, {self.ramp_method}", "steps": steps}
        folders.write_manifest(self.out, self.manifest)
        return best

    def start(self) -> None:
        """Bring the target up and set ``self.url``: deploy the style under the loop's own project, then warm it up.

        A deployment that has just started is not in steady state: its connection pools open and
        its first queries are planned during the first seconds of load (the first ramp step of a
        cold microkernel averaged 1.2 s at 100/s, the next deployment's second step 57 ms at
        200/s). One ramp step at half the ramp's start rate, kept in the folder as ``ramp/warm-up``
        and not judged, lets the ramp measure the deployment and not its start-up.
        """
        self.log(f"deploying {self.style} (project {self.project})")
        self.url = lifecycle.up(self.engine, self.style, replicas=1, project=self.project, log=self.log)
        run = folders.RunRecord("warm-up", "warm-up", 1, self.ramp_start_per_s / 2, min(3.0, self.ramp_step_s / 3), self.ramp_step_s)
        self.record(run, self.out / "ramp" / run.id, self.ramp_runs)
        self.log(f"warm-up: {run.target_rate_per_s:.0f}/s for {run.duration_s:g} s (not judged)")

    def stop(self) -> None:
        """Remove every container of the loop's project."""
        with cleanup_signals_ignored():
            removed = lifecycle.down(self.engine, self.project)
            self.log(f"removed {removed} container(s) of project {self.project}")

    def measure(self) -> None:
        """Ramp to saturation, then every level's repetitions (the target is up)."""
        saturation = self.ramp()
        if saturation <= 0:
            raise EnvironmentProblem("the ramp completed no requests: the deployment does not answer")
        plan = [(f"{f:.0%}", f * saturation, False) for f in self.levels]
        if self.hold_out is not None:
            plan.append((f"hold-out {self.hold_out:.0%}", self.hold_out * saturation, True))
        self.manifest.levels = {label: rate for label, rate, _ in plan}
        self.manifest.hold_out = [label for label, _, held in plan if held]
        for label, rate, held in plan:
            for repetition in range(1, self.repetitions + 1):
                run = folders.RunRecord(f"{label.replace('%', 'pct').replace(' ', '-')}-rep{repetition}", label, repetition, rate,
                                        self.warmup_s, self.duration_s, hold_out=held)
                self.log(f"{label}: {rate:.1f}/s, repetition {repetition}/{self.repetitions}, {self.duration_s:g} s")
                self.record(run, folders.run_dir(self.out, run), self.manifest.runs)

    def run(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        folders.write_manifest(self.out, self.manifest)
        try:
            self.start()
            self.measure()
        finally:
            self.stop()
