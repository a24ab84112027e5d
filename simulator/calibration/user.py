"""Calibrating a user's own system: their scenario, their running deployment, the CPU counters they have.

``archsim calibrate --scenario FILE --host URL`` fits the ``service_time`` of every operation of a
user's scenario (one with ``services`` to simulate and ``http:`` request classes to send, see
``docs/loadtests.md``) from load tests of a deployment that is already running. archsim starts no
container and stops nothing: it only sends load, and only to loopback unless ``--allow-remote``
(the load-test rule, ``loadtest/target.py``).

The model structure is read from the scenario itself (:func:`user_structure`): every service is a
tier with the instances, cores and concurrency the file gives; each request class visits the
operations its ``calls`` reach, following nested calls, one network round trip per call. The CPU
the user can give (:class:`CpuSource`) is attributed to the *entry* service, the one every class
calls first:

- ``cgroup:PATH``: a cgroup v2 directory (or its ``cpu.stat``), whose ``usage_usec`` is sampled
  once a second during every run, as the style path samples containers. The utilisation law
  (CPU = Σ throughput × demand) then enters the response-time estimator, and the utilisation
  regression cross-checks it.
- ``header:NAME``: a response header carrying the request's own CPU in milliseconds (as the
  reference services' ``X-CPU-Time-Ms``). Each operation's demand *is* its reports' mean (and
  its shape their CV, both with bootstrap standard errors): a direct measurement of each class's
  CPU, where the response-time estimator only infers the split from latency differences that
  queueing and time-slicing blur. The response-time estimator then fits the per-hop cost around
  those demands, and its free fit is the cross-check (:func:`demands_from_reports`).
- ``none``: response times alone. Without CPU the utilisation law is unavailable and there is
  nothing to cross-check against, so only the response-time estimator runs on the latencies; the
  report and the calibrated file say so.

With ``cgroup`` alone the utilisation regression sees one load mix at every level (the loop
sends the scenario's mix), so it identifies the CPU per request, not the split between classes;
the split then rests on the response-time estimator.

A loopback target runs on the machine that sends the load, so the model shares the machine's
cores (``collect.host_cores``, recorded) between the user's services and the load generator,
whose CPU per request is measured from its processes (:func:`shares_host`; the calibrated file
gets a ``hosts: {cpu: shared}`` block). Other processes on the machine are measured too (the
machine's busy CPU) and warned about, not modelled.

The calibrated scenario is the user's file with each fitted ``service_time`` (and the network
latency, the per-hop cost) replaced, every replaced value followed by a comment with its source and
standard error (:func:`render_user_scenario`).
"""

from __future__ import annotations

import ipaddress
import os
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import ArchsimError
from ..loadtest.plan import PLAN_ENV, plan_for
from ..loadtest.target import check_target
from ..scenario import load_scenario
from ..scenario import model as m
from . import collect
from . import folder as folders
from .estimate import Fitted
from .orchestrate import REPO, Loop
from .parameters import ModelParameters
from .structure import GENERATOR_TIER, Structure, Tier
from .writer import distribution

SOURCE = "user-system"  #: The manifest's ``source`` for a user's deployment.
RAMP_START_WITHOUT_RATE_PER_S = 10.0  #: Where the ramp starts when the scenario gives a profile instead of a rate.
OTHERS_WARNING_SHARE = 0.25  #: Warn when other processes kept more than this share of the machine's cores busy in a run.
RAMP_DOUBLINGS = 8  #: The ramp stops at the scenario's rate times 2**8 even if the system still keeps up.
SCENARIO_COPY = "scenario.yaml"  #: The user's scenario as calibrated, copied into the measurement folder (``--from`` reads it).
HTTP_LOCUSTFILE = REPO / "loadtests" / "locustfiles" / "archsim_http.py"
NONE_NOTE = ("no CPU source (--cpu-source none): response-time estimation alone; without CPU counters the utilisation "
             "law is unavailable and no second estimator cross-checks the demands")


@dataclass(frozen=True)
class CpuSource:
    """Where the user's CPU comes from: ``cgroup`` (a cpu.stat file), ``header`` (a header name) or ``none``."""

    kind: str
    value: str = ""

    @property
    def text(self) -> str:
        return self.kind if self.kind == "none" else f"{self.kind}:{self.value}"


def parse_cpu_source(text: str) -> CpuSource:
    """``cgroup:PATH``, ``header:NAME`` or ``none``; one line naming what is wrong otherwise."""
    kind, _, value = text.strip().partition(":")
    if kind == "none" and not value:
        return CpuSource("none")
    if kind == "header" and value.strip():
        return CpuSource("header", value.strip())
    if kind == "cgroup" and value:
        path = Path(value)
        stat = path / "cpu.stat" if path.is_dir() else path
        if not stat.is_file():
            raise ArchsimError(f"--cpu-source {text}: no cgroup v2 cpu.stat at {stat} (give the cgroup's directory, "
                               "e.g. cgroup:/sys/fs/cgroup/system.slice/myapp.service)")
        try:
            collect.read_cpu_s(stat)
        except (OSError, ValueError) as exc:
            raise ArchsimError(f"--cpu-source {text}: cannot read usage_usec from {stat} ({exc})") from None
        return CpuSource("cgroup", str(stat.resolve()))
    raise ArchsimError(f"--cpu-source: expected cgroup:PATH, header:NAME or none, got {text!r}")


def _calls(steps: list[Any], services: dict[str, m.Service], what: str, visits: dict[tuple[str, str], int], depth: int = 0) -> int:
    """Add the operations ``steps`` reach to ``visits``; return the round trips they make."""
    trips = 0
    for step in steps:
        if not isinstance(step, m.Call):
            raise ArchsimError(f"{what}: calibration follows plain `call` steps only, found a {type(step).__name__.lower()} step")
        if step.mode != "sync" or step.probability != 1.0 or step.repeat_probability or step.retries:
            raise ArchsimError(f"{what}: calibration needs every call synchronous, always made and without retries ({step.call})")
        service, _, op = step.call.partition(".")
        op = op or next(iter(services[service].operations))
        visits[(service, op)] = visits.get((service, op), 0) + 1
        trips += 1 + _calls(services[service].operations[op].calls, services, what, visits, depth + 1)
    return trips


def user_structure(scenario_file: Path) -> tuple[Structure, dict[str, float], Any]:
    """The model structure a user's scenario describes, its mix, and the loaded scenario."""
    loaded = load_scenario(scenario_file)
    base = loaded.base
    if not base.services:
        raise ArchsimError(f"{scenario_file}: no `services`: calibration fits the service_time of the services the scenario models")
    missing = [name for name, c in base.classes.items() if c.http is None]
    if missing:
        raise ArchsimError(f"{scenario_file}: request class '{missing[0]}' has no `http:` block: calibration sends each class as its `http:` request")
    if not isinstance(base.workload, m.OpenWorkload):
        raise ArchsimError(f"{scenario_file}: calibration needs an open workload (`workload.rate`), the levels are arrival rates")
    tiers = {name: Tier(name, s.instances, s.cores, s.concurrency) for name, s in base.services.items()}
    visits, trips = {}, {}
    for name, c in base.classes.items():
        if c.route is not None or not c.calls:
            raise ArchsimError(f"{scenario_file}: classes.{name}: calibration needs `calls`, not `route`")
        visits[name] = {}
        trips[name] = _calls(c.calls, base.services, f"{scenario_file}: classes.{name}", visits[name])
    entries = {next(iter(v))[0] for v in visits.values()}
    if len(entries) != 1:
        raise ArchsimError(f"{scenario_file}: classes enter different services ({', '.join(sorted(entries))}); "
                           "calibration attributes the measured CPU to one entry service, the first every class calls")
    mix = dict(base.workload.mix or {next(iter(base.classes)): 1.0})
    structure = Structure(base.name, tiers, visits, trips, entries.pop(),
                          [f"structure read from {scenario_file}: services, instances, cores and calls as the file gives them"])
    return structure, mix, base


class UserLoop(Loop):
    """The measurement loop against a user's running deployment: no containers, the user's scenario and CPU source."""

    def __init__(self, scenario_file: Path, host: str, out: Path, *, cpu_source: CpuSource, allow_remote: bool, **options: Any):
        self.url = check_target(host, allow_remote=allow_remote)
        self.scenario_file = scenario_file.resolve()
        self.cpu_source = cpu_source
        self.allow_remote = allow_remote
        self.structure, self.mix, self.scenario = user_structure(scenario_file)
        self.style = self.structure.style
        self.out, self.levels, self.hold_out = out.resolve(), options["levels"], options["hold_out"]
        self.duration_s, self.warmup_s = options["duration_s"], options["warmup_s"]
        self.repetitions, self.ramp_step_s, self.log = options["repetitions"], options["ramp_step_s"], options["log"]
        self.project = ""
        self.ramp_start_per_s = float(self.scenario.workload.rate_per_s or RAMP_START_WITHOUT_RATE_PER_S)
        self.ramp_step_per_s = self.ramp_start_per_s
        self.ramp_max_per_s = self.ramp_start_per_s * 2 ** RAMP_DOUBLINGS
        self.ramp_runs: list[folders.RunRecord] = []
        notes = [] if cpu_source.kind != "none" else [NONE_NOTE]
        if cpu_source.kind == "cgroup":
            notes.append("one load mix at every level: the utilisation regression identifies the CPU per request, "
                         "not its split between classes, which rests on the response-time estimator")
        if is_loopback(self.url):
            notes.append(f"a loopback target: the services share this machine's {collect.host_cores()} cores with the load "
                         "generator (hosts: cpu: shared); other processes on the machine are measured and warned about, not modelled")
        self.structure.notes.extend(notes)
        deployment = {"host": self.url, "cpu_source": cpu_source.text, "scenario": str(self.scenario_file),
                      "cpu_attributed_to": self.structure.entry_tier, "host_cores": collect.host_cores(),
                      "shares_host": is_loopback(self.url)}
        self.manifest = folders.Manifest(self.style, self.structure, SOURCE, self.mix, deployment=deployment,
                                         warnings=[n for n in notes if n == NONE_NOTE], extras={"user_scenario": SCENARIO_COPY})

    def loadtest_argv(self, run: folders.RunRecord, where: Path) -> tuple[list[str], dict[str, str]]:
        env = {**os.environ, "PYTHONPATH": str(REPO), collect.START_ENV: str(where / "test_start.txt"),
               collect.REPORTS_ENV: str(where / folders.CPU_REPORTS)}
        # The generated locustfile wraps the generic http one, which defines its user class from a plan; the
        # load test's own check of the file runs before the run's plan exists, so give it this one.
        loaded = load_scenario(self.scenario_file, [f"workload.rate={run.target_rate_per_s:.6g}/s"])
        check_plan = where / "check_plan.json"
        check_plan.write_text(plan_for(loaded.base, duration_s=run.duration_s).to_json(), encoding="utf-8")
        env[PLAN_ENV] = str(check_plan)
        header = self.cpu_source.value if self.cpu_source.kind == "header" else ""
        locustfile = collect.cpu_report_locustfile(where / "calibrate_locustfile.py", HTTP_LOCUSTFILE, self.structure.entry_tier, header=header)
        argv = [sys.executable, "-m", "simulator.cli", "loadtest", str(self.scenario_file), "--host", self.url,
                "--duration", f"{run.duration_s:g}s", "--set", f"workload.rate={run.target_rate_per_s:.6g}/s",
                "--set", f"warmup={run.warmup_s:g}s", "--out", str(where), "--locustfile", str(locustfile), "--no-charts",
                "--allow-late", *(["--allow-remote"] if self.allow_remote else [])]
        return argv, env

    ramp_method = "doubling from the scenario's rate"

    def next_ramp_rate(self, rate: float) -> float:
        """Double: a user's system may saturate at 10/s or 10,000/s, and each step costs a load test."""
        return 2 * rate

    def cpu_counters(self) -> dict[str, tuple[str, Path]]:
        if self.cpu_source.kind != "cgroup":
            return {}
        return {"cgroup": (self.structure.entry_tier, Path(self.cpu_source.value))}

    def load_test(self, run: folders.RunRecord, where: Path) -> dict:
        """One load test, then how busy the machine was: other processes' CPU is not in the model, so say it."""
        summary = super().load_test(run, where)
        cores = folders.tier_cores(where / folders.CPU_SERIES, run.warmup_s, run.duration_s)
        measured = [self.structure.entry_tier] if self.cpu_source.kind == "cgroup" else []
        others = collect.others_cores(cores, measured_tiers=measured)
        if others is not None:
            besides = "the server, " if measured else ""
            self.log(f"{run.id}: machine {cores.get(collect.MACHINE, 0.0):.2f} of {collect.host_cores()} cores busy, load generator "
                     f"{cores.get(GENERATOR_TIER, 0.0):.2f}, others {'(server included) ' if not measured else ''}{others:.2f}")
            if measured and others > OTHERS_WARNING_SHARE * collect.host_cores():
                line = (f"{run.id}: processes other than {besides}the load generator kept {others:.2f} of the machine's "
                        f"{collect.host_cores()} cores busy; the model does not include them, so its latencies are too low")
                self.manifest.warnings.append(line)
                self.log(f"warning: {line}")
        return summary

    def start(self) -> None:
        (self.out / SCENARIO_COPY).write_text(self.scenario_file.read_text(encoding="utf-8"), encoding="utf-8")
        self.log(f"calibrating {self.scenario_file.name} against {self.url} (CPU: {self.cpu_source.text}); archsim starts no containers")

    def stop(self) -> None:
        """Nothing to remove: the deployment is the user's."""


def is_loopback(url: str) -> bool:
    """Whether ``url`` names this machine (127.0.0.0/8, ::1, localhost)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def demands_from_reports(manifest: folders.Manifest) -> bool:
    """Whether the folder's demands come from per-request CPU reports (``--cpu-source header:NAME``)."""
    return manifest.source == SOURCE and str(manifest.deployment.get("cpu_source", "")).startswith("header:")


def shares_host(manifest: folders.Manifest) -> bool:
    """Whether the user's system ran on the measuring machine (a loopback target), so the model shares its cores."""
    return manifest.source == SOURCE and bool(manifest.deployment.get("shares_host")) and "host_cores" in manifest.deployment


def _fitted_comment(fitted: Fitted) -> str:
    return f"{fitted.describe()}, {fitted.source}"


def render_user_scenario(scenario_file: Path, structure: Structure, parameters: ModelParameters, header: list[str],
                         rate_per_s: float) -> str:
    """The user's scenario with each fitted number replaced and commented (see the module docstring).

    The file is re-emitted from its data (PyYAML keeps no comments), so the user's own comments are
    not carried over; the header says which file it came from.
    """
    data = yaml.safe_load(scenario_file.read_text(encoding="utf-8"))
    comments: dict[str, str] = {}

    def marker(text: str, comment: str) -> str:
        key = f"__archsim_fitted_{len(comments)}__"
        comments[key] = f"{text}  # {comment}"
        return key

    for (service, op), demand in parameters.demands.items():
        cv = parameters.cv.get((service, op))
        block = data["services"][service]
        shape = f"; cv {_fitted_comment(cv)}" if cv is not None else ""
        value = marker(distribution(demand.value, cv.value if cv is not None else 1.0), f"fitted mean {_fitted_comment(demand)}{shape}")
        if "operations" in block:
            block["operations"][op]["service_time"] = value
        else:
            block["service_time"] = value
    host = structure.host
    if host is not None and "hosts" not in data:
        data["hosts"] = {"cores": marker(str(host.cores), host.cores_source), "cpu": "shared"}
        if host.generator_cpu_per_request_s is not None:
            generator = Fitted(host.generator_cpu_per_request_s, host.generator_std_error_s, host.generator_source)
            data["hosts"]["load_generator"] = {"cpu_per_request": marker(f"{host.generator_cpu_per_request_s * 1e3:.4g}ms",
                                                                         f"load generator {_fitted_comment(generator)}")}
    data.setdefault("network", {})["latency"] = marker(f"const({parameters.hop_s.value * 1e3:.6g}ms)",
                                                       f"fitted one-way per hop {_fitted_comment(parameters.hop_s)}")
    if parameters.client_hop_s is not None:
        data["network"]["client_latency"] = marker(f"const({parameters.client_hop_s.value * 1e3:.6g}ms)",
                                                   f"fitted one-way per client round trip {_fitted_comment(parameters.client_hop_s)}")
    data["workload"]["rate"] = f"{rate_per_s:.6g}/s"
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=200)
    for key, replacement in comments.items():
        text = text.replace(f"'{key}'", key).replace(key, replacement)
    lines = [f"# {line}" if line else "#" for line in header] + [f"# Assumption: {note}" for note in structure.notes]
    return "\n".join(lines) + "\n" + text


def user_header(folder: Path, manifest: folders.Manifest, scenario_file: Path, runs: int, held: int, stamp: str) -> list[str]:
    d = manifest.deployment
    return [f"Calibrated copy of {d.get('scenario')}, written by `archsim calibrate --scenario` at {stamp}.",
            f"Measurements: {folder} (load tests of {d.get('host')}, CPU source {d.get('cpu_source')}, {runs} runs fitted, {held} held out).",
            "Each fitted service_time and the network latency carry a comment with source and standard error; "
            "the original file's comments are not copied.",
            f"Simulate: archsim run {scenario_file} --set workload.rate=R/s",
            f"Measure:  archsim loadtest {scenario_file} --host {d.get('host')} --set workload.rate=R/s", ""]

