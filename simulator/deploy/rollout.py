"""Rolling updates on the real containers, like a Kubernetes Deployment's RollingUpdate strategy.

The replicas of one group (the monolith, the microkernel core, the event-driven API) sit behind
the deployment's gateway. :func:`rollout` replaces them one step at a time:

1. remove old replicas while the serving count stays at least ``replicas - max_unavailable``
   (each is first taken out of the gateway's routes, then drained, then stopped);
2. start new ones while the total stays at most ``replicas + max_surge``;
3. wait until each new one's ``/health`` answers 200 (probed inside its own container, so no
   container address is ever dialled from the host), then add it to the gateway's routes
   (the gateway reloads them on SIGHUP, see ``archsim_services.gateway``).

A new replica that is not ready within ``progress_deadline_s`` (or stops) ends the rollout: the
unready replicas are removed and any already replaced are rolled back to the old image, as
``rollback_on.progress_deadline`` does in scenarios/rolling-update.yaml. ``pause_after`` stops
after that many replicas were replaced; running the same rollout again resumes it. Each step is
logged with its time and recorded (:class:`Record`, written as JSON), and the project's state file
keeps the current and the previous image, which :func:`rollback` returns to.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from simulator.errors import ArchsimError, EnvironmentProblem

from . import project as projects
from . import topology as topologies
from .engine import Engine

ROLLED_GROUPS = {"monolith": "monolith", "microkernel": "core", "event-driven": "api"}
"""The replicated group a rollout replaces, per style: the one the gateway alone sends requests to."""
VERSION_KEY = "archsim.version"  #: Label of a replica started by a rollout: the image it runs.
STATE_ENV = "ARCHSIM_STATE_DIR"  #: Folder of the projects' rollout state files (default ~/.local/state/archsim).
RELEASE_CONTAINERFILE = "images/release/Containerfile"  #: Relative to loadtests/.
UPSTREAMS_FILE = "/tmp/archsim-upstreams"  #: Where the gateway reads its routes on SIGHUP.
_WRITE = "import sys; open(sys.argv[1], 'w').write(sys.argv[2])"
_PROBE = ("import sys, urllib.request\n"
          "try:\n    sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%d/health', timeout=2).status == 200 else 1)\n"
          "except Exception:\n    sys.exit(1)\n")


@dataclass(frozen=True)
class Replica:
    name: str
    image: str
    index: int  #: The number after the group in its name; new replicas get the next free one.


@dataclass
class Step:
    """One change to the deployment, and the replicas by image right after it."""

    t_s: float  #: Seconds since the rollout started.
    at: str  #: UTC time, ISO 8601.
    action: str  #: ``start``, ``ready``, ``remove``, ``not-ready``, ``pause``.
    container: str
    image: str
    replicas_by_image: dict[str, int]  #: Containers of the group, ready or not.
    serving: int  #: Replicas in the gateway's routes.


@dataclass
class Record:
    """What a rollout did: written as JSON by :meth:`write`."""

    style: str
    project: str
    group: str
    from_image: str
    to_image: str
    replicas: int
    max_surge: int
    max_unavailable: int
    started_at: str
    outcome: str = "running"  #: ``complete``, ``paused`` or ``rolled_back``.
    duration_s: float = 0.0
    min_serving: int = 0  #: Fewest replicas in the gateway's routes at any moment.
    steps: list[Step] = field(default_factory=list)

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        return path


def release_tag(version: str) -> str:
    """``localhost/archsim-app:<version>``."""
    return f"{topologies.APP_IMAGE.rsplit(':', 1)[0]}:{version}"


def build_release(engine: Engine, version: str, *, fails_readiness: bool = False, log: Callable[[str], None] = print) -> str:
    """Build ``localhost/archsim-app:<version>``: the app image plus a layer naming the version
    (and, with ``fails_readiness``, a release whose ``/health`` never answers 200). Returns the tag."""
    from .images import loadtests_dir

    if not version or not all(c.isalnum() or c in "._-" for c in version) or version == "latest":
        raise ArchsimError(f"release version: letters, digits, '.', '_' and '-' only, not 'latest'; got {version!r}")
    tag = release_tag(version)
    folder = loadtests_dir()
    build_args = {"APP_IMAGE": topologies.APP_IMAGE, "VERSION": version, "FAIL_READINESS": "1" if fails_readiness else ""}
    argv = engine.build_argv(tag=tag, containerfile=str(folder / RELEASE_CONTAINERFILE), context=str(folder),
                             build_args=build_args)
    # no cache: Podman 4.3 reuses an ENV layer built with other ARG values (a "bad" release came out as "v2")
    engine.call("build", "--no-cache", *argv[2:], timeout_s=300)
    log(f"built {tag}{' (fails readiness)' if fails_readiness else ''}")
    return tag


def state_path(project: str, style: str) -> Path:
    root = Path(os.environ.get(STATE_ENV) or Path.home() / ".local" / "state" / "archsim")
    return root / f"{project}-{style}.json"


def read_state(project: str, style: str) -> dict:
    path = state_path(project, style)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _write_state(project: str, style: str, state: dict) -> None:
    path = state_path(project, style)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


class _Deployment:
    """The running group and its gateway, as the engine reports them, and the changes made to them."""

    def __init__(self, engine: Engine, style: str, project: str, log: Callable[[str], None]):
        if style not in ROLLED_GROUPS:
            raise ArchsimError(f"rollout: style {style!r} has no rollable group; use one of {', '.join(ROLLED_GROUPS)}")
        self.engine, self.style, self.project, self.log = engine, style, project, log
        self.group = ROLLED_GROUPS[style]
        self.prefix = f"{project}-{style}"
        self.gateway = f"{self.prefix}-gateway"
        spec = topologies.build(style, 2, topologies.Secrets("-", "-"), project)
        self.spec = next(c for c in spec.containers if c.group == self.group)
        self.network = spec.network
        self.replicas = self._discover()
        if not self.replicas:
            raise EnvironmentProblem(f"no {self.group} replicas in project {project} ({style}): run 'archsim deploy up {style} --replicas 3 --project {project}' first")
        if not self._inspect([self.gateway], check=False):
            raise EnvironmentProblem(
                f"project {project} ({style}) has no gateway: a single replica is its own entry point and cannot be "
                f"replaced without downtime; deploy it with --replicas 2 or more")
        self.serving = [r.name for r in self.replicas]
        template = self._inspect([self.replicas[0].name])[0]
        image_env = {line.split("=", 1)[0] for line in self._image_env(self.replicas[0].image)}
        self.env = dict(line.split("=", 1) for line in template["Config"].get("Env") or [])
        self.env = {k: v for k, v in self.env.items() if k.startswith("ARCHSIM_") and k not in image_env}
        gateway_env = dict(line.split("=", 1) for line in self._inspect([self.gateway])[0]["Config"].get("Env") or [])
        self.routes = [prefix for prefix, _ in _parse(gateway_env.get("ARCHSIM_UPSTREAMS", ""))]
        self.started = time.monotonic()

    def _inspect(self, names: list[str], check: bool = True) -> list[dict]:
        done = self.engine.call("inspect", "--type", "container", *names, check=check)
        return json.loads(done.stdout or "[]") if done.returncode == 0 else []

    def _image_env(self, image: str) -> list[str]:
        found = json.loads(self.engine.call("image", "inspect", image).stdout or "[]")
        return (found[0].get("Config") or {}).get("Env") or [] if found else []

    def _discover(self) -> list[Replica]:
        ids = self.engine.lines("ps", "--all", "--quiet", "--filter", f"label={projects.label(self.project)}",
                                "--filter", f"label={projects.ROLE_KEY}={self.spec.role}")
        found = []
        for item in self._inspect(ids) if ids else []:
            name = item["Name"].lstrip("/")
            labels = item["Config"].get("Labels") or {}
            image = labels.get(VERSION_KEY) or item.get("ImageName") or item["Config"].get("Image", "")
            found.append(Replica(name, image, int(name.rsplit("-", 1)[1])))
        return sorted(found, key=lambda r: r.index)

    def url(self, name: str) -> str:
        return f"http://{name}:{self.spec.port}"

    def route_to(self, names: list[str]) -> None:
        """Make the gateway send requests to exactly ``names`` (write its routes file, send SIGHUP)."""
        spec = ";".join(f"{prefix}={','.join(self.url(n) for n in names)}" for prefix in self.routes)
        self.engine.call("exec", self.gateway, "python3", "-c", _WRITE, UPSTREAMS_FILE, spec)
        self.engine.call("kill", "--signal", "HUP", self.gateway)
        self.serving = list(names)

    def start(self, image: str) -> Replica:
        index = max((r.index for r in self.replicas), default=0) + 1
        name = f"{self.prefix}-{self.group}-{index}"
        labels = {projects.PROJECT_KEY: self.project, projects.STYLE_KEY: self.style,
                  projects.ROLE_KEY: self.spec.role, VERSION_KEY: image}
        argv = self.engine.run_argv(name=name, image=image, labels=labels, network=self.network, aliases=[self.group],
                                    env=self.env, memory_mb=self.spec.memory_mb, cpus=self.spec.cpus,
                                    tmpfs_mb=self.spec.tmpfs_mb, publish=None, command=self.spec.command)
        self.engine.call(*argv[1:])
        replica = Replica(name, image, index)
        self.replicas.append(replica)
        return replica

    def ready(self, replica: Replica) -> bool:
        probe = self.engine.call("exec", replica.name, "python3", "-c", _PROBE % self.spec.port, check=False, timeout_s=30)
        return probe.returncode == 0

    def stopped(self, replica: Replica) -> bool:
        found = self._inspect([replica.name], check=False)
        return not found or found[0].get("State", {}).get("Status") not in ("running", "created", "configured")

    def remove(self, replica: Replica, drain_s: float) -> None:
        if replica.name in self.serving:
            self.route_to([n for n in self.serving if n != replica.name])
            time.sleep(drain_s)  # requests in flight finish on it; no new ones arrive
        self.engine.call(*self.engine.remove_argv([replica.name])[1:], timeout_s=60)
        self.replicas.remove(replica)


def rollout(engine: Engine, style: str, to_image: str, *, project: str | None = None, max_surge: int = 1,
            max_unavailable: int = 0, pause_after: int | None = None, progress_deadline_s: float = 60.0,
            drain_s: float = 2.0, log: Callable[[str], None] = print) -> Record:
    """Replace the group's replicas with ``to_image`` step by step; see the module docstring."""
    name = projects.current(project)
    if max_surge < 0 or max_unavailable < 0 or max_surge + max_unavailable == 0:
        raise ArchsimError(f"--max-surge {max_surge} and --max-unavailable {max_unavailable}: both at least 0 and not both 0")
    if pause_after is not None and pause_after < 1:
        raise ArchsimError(f"--pause-after: at least 1 replica, got {pause_after}")
    if not json.loads(engine.call("image", "inspect", to_image, check=False).stdout or "[]"):
        raise ArchsimError(f"--to {to_image}: no such image; build one with 'archsim deploy release VERSION'")
    deployment = _Deployment(engine, style, name, log)
    replicas = len(deployment.replicas)
    old_images = Counter(r.image for r in deployment.replicas if r.image != to_image)
    state = read_state(name, style)
    resumed = state.get("status") == "paused" and state.get("image") == to_image
    from_image = state["previous"] if resumed else (old_images.most_common(1)[0][0] if old_images else to_image)
    record = Record(style, name, deployment.group, from_image, to_image, replicas, max_surge, max_unavailable,
                    _now(), min_serving=replicas)
    log(f"rollout {style} ({name}): {replicas} {deployment.group} replicas {from_image} -> {to_image}, "
        f"max surge {max_surge}, max unavailable {max_unavailable}")
    deployment.route_to([r.name for r in deployment.replicas])
    outcome = _roll(deployment, record, to_image, replicas, max_surge, max_unavailable, pause_after,
                    progress_deadline_s, drain_s)
    if outcome == "failed":
        if any(r.image == to_image for r in deployment.replicas):
            log(f"rolling back to {from_image}")
            _roll(deployment, record, from_image, replicas, max_surge, max_unavailable, None, progress_deadline_s, drain_s)
        outcome = "rolled_back"
    record.outcome = outcome
    record.duration_s = round(time.monotonic() - deployment.started, 3)
    if outcome != "rolled_back" and from_image != to_image:  # a rollout to the image already running changes nothing
        _write_state(name, style, {"image": to_image, "previous": from_image, "status": outcome, "group": deployment.group})
    log(f"rollout {outcome} in {record.duration_s:.1f} s; fewest replicas serving: {record.min_serving}")
    return record


def replicas(engine: Engine, style: str, project: str | None = None) -> list[Replica]:
    """The replicas of ``style``'s rolled group in ``project``, with the image each runs."""
    return _Deployment(engine, style, projects.current(project), print).replicas


def rollback(engine: Engine, style: str, *, project: str | None = None, **options) -> Record:
    """Roll the group back to the image it ran before the last rollout (from the project's state file)."""
    name = projects.current(project)
    state = read_state(name, style)
    if not state.get("previous"):
        raise ArchsimError(f"rollback: no rollout of {style} recorded for project {name} (looked in {state_path(name, style)})")
    record = rollout(engine, style, state["previous"], project=name, **options)
    return record


def _roll(deployment: _Deployment, record: Record, image: str, replicas: int, max_surge: int, max_unavailable: int,
          pause_after: int | None, deadline_s: float, drain_s: float) -> str:
    """Run the RollingUpdate loop towards ``image``; return ``complete``, ``paused`` or ``failed``."""
    replaced = 0
    while True:
        old = [r for r in deployment.replicas if r.image != image]
        new = [r for r in deployment.replicas if r.image == image]
        removable = min(len(old), len(deployment.serving) - (replicas - max_unavailable))
        for replica in old[:max(removable, 0)]:
            deployment.remove(replica, drain_s)
            _step(deployment, record, "remove", replica)
        old = old[max(removable, 0):]
        if not old and len(new) >= replicas:
            return "complete"
        if pause_after is not None and replaced >= pause_after:
            _step(deployment, record, "pause", Replica("-", image, 0))
            return "paused"
        startable = min(replicas - len(new), replicas + max_surge - len(old) - len(new))
        started = [deployment.start(image) for _ in range(max(startable, 0))]
        for replica in started:
            _step(deployment, record, "start", replica)
        if not started and removable <= 0:
            raise EnvironmentProblem(f"rollout cannot progress: {len(old)} old, {len(new)} new, {len(deployment.serving)} serving")
        waiting = list(started)
        until = time.monotonic() + deadline_s
        while waiting:
            for replica in list(waiting):
                if deployment.ready(replica):
                    waiting.remove(replica)
                    deployment.route_to([*deployment.serving, replica.name])
                    _step(deployment, record, "ready", replica)
                    replaced += 1
                elif deployment.stopped(replica) or time.monotonic() > until:
                    for unready in waiting:
                        deployment.remove(unready, 0.0)
                        _step(deployment, record, "not-ready", unready)
                    return "failed"
            if waiting:
                time.sleep(0.5)


def _step(deployment: _Deployment, record: Record, action: str, replica: Replica) -> None:
    t_s = round(time.monotonic() - deployment.started, 3)
    counts = dict(sorted(Counter(r.image for r in deployment.replicas).items()))
    step = Step(t_s, _now(), action, replica.name, replica.image, counts, len(deployment.serving))
    record.steps.append(step)
    record.min_serving = min(record.min_serving, step.serving)
    by_image = ", ".join(f"{image.rsplit(':', 1)[-1]}: {n}" for image, n in counts.items())
    deployment.log(f"{step.at} +{t_s:7.2f}s {action:9} {replica.name} ({replica.image.rsplit(':', 1)[-1]})  "
                   f"| {by_image} | serving {step.serving}")


def _parse(spec: str) -> list[tuple[str, list[str]]]:
    routes = []
    for entry in filter(None, spec.split(";")):
        prefix, _, urls = entry.partition("=")
        routes.append((prefix.strip(), [u for u in urls.split(",") if u]))
    return routes


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


BROWSE_HTTP = "classes.browse.http={path: '/catalog/{n}', params: {n: {uniform_int: [1, 20]}}}"
"""The request a rolling-update load test sends: scenarios/rolling-update.yaml's ``browse`` class as a catalog read."""


def under_load(engine: Engine, style: str, to_image: str, scenario: Path, *, project: str | None = None,
               rate_per_s: float | None = None, duration_s: float = 90.0, warmup_s: float = 10.0,
               out: Path | None = None, pause_after: int | None = None, **options) -> tuple[Record, Path]:
    """Load the deployment with ``scenario`` (``archsim loadtest``) and roll out once the warm-up is over.

    The load test runs in this thread (Locust needs the main thread's signals), the rollout in a
    second one. The measured run directory gets ``rollout.json`` (the steps) and, in its variant's
    ``extras.rollout``, the figures the simulation reports: ``duration_s``, ``errors``
    (failed requests during the rollout's span), ``min_ready`` and ``rolled_back``.
    """
    import threading

    from simulator.engine.experiment import estimate
    from simulator.loadtest import run_load_test

    from .lifecycle import running

    name = projects.current(project)
    entry = next((r.url for r in running(engine, name) if r.url and r.style == style), "")
    if not entry:
        raise EnvironmentProblem(f"no {style} entry point in project {name}: run 'archsim deploy up {style} --replicas 3 --project {name}'")
    outcome: dict[str, object] = {}

    def roll() -> None:
        time.sleep(warmup_s)
        try:
            outcome["record"] = rollout(engine, style, to_image, project=name, pause_after=pause_after, **options)
        except BaseException as error:  # reported by the caller, after the load test
            outcome["error"] = error

    thread = threading.Thread(target=roll, name="rollout", daemon=True)
    measured = run_load_test(scenario, entry, variant="measured-rollout", rate_per_s=rate_per_s, duration_s=duration_s,
                             warmup_s=warmup_s, sets=[BROWSE_HTTP], out=out, allow_late=True,
                             on_start=lambda line: thread.start())
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    if "record" not in outcome:
        raise EnvironmentProblem("the load test ended before the rollout started")
    record: Record = outcome["record"]  # type: ignore[assignment]
    record.write(measured.run_dir / "rollout.json")
    summary_path = measured.run_dir / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    block = summary["variants"][measured.variant]
    figures = {  # the keys of the simulation's extras.rollout
        "duration_s": record.duration_s,
        "completed": 0 if record.outcome == "paused" else 1,  # ended, as in the simulation (a rollback ends it too)
        "rolled_back": 1 if record.outcome == "rolled_back" else 0,
        "errors": _errors_during(measured.run_dir / "timeseries.csv", warmup_s, warmup_s + record.duration_s),
        "min_ready": record.min_serving,
        "replicas": record.replicas,
        "capacity_dip": record.replicas - record.min_serving,
    }
    block.setdefault("extras", {})["rollout"] = {key: estimate([float(value)]) for key, value in figures.items()}
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return record, measured.run_dir


def _errors_during(timeseries: Path, start_s: float, end_s: float) -> float:
    """Failed requests in [start_s, end_s] of the load test, from its ``timeseries.csv``, counted as
    the simulation counts them (each interval's error rate times its overlap with the span). The
    rollout starts ``warmup_s`` after the load test announced it runs, so the span is placed to
    within the announcement's delay (well under one metrics interval)."""
    import csv

    errors, previous = 0.0, 0.0
    with timeseries.open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            t = float(row["time_s"])
            overlap = min(t, end_s) - max(previous, start_s)
            if overlap > 0:
                errors += float(row["errors_per_s"] or 0.0) * overlap
            previous = t
    return round(errors, 3)
