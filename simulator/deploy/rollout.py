"""Rolling updates on the real containers, like a Kubernetes Deployment's RollingUpdate strategy.

Every replicated group of a style is rolled, one group after another, each like one Deployment
(the groups are in :data:`ROLLED_GROUPS`): the monolith; the microkernel core; the event-driven
API and workers; the space-based processing units and data pump; the service-based domain
services; each microservice. :func:`rollout` replaces a group's replicas one step at a time:

1. remove old replicas while the serving count stays at least ``replicas - max_unavailable``
   (each first leaves the gateway's routes, then drains for ``drain_s``, then stops);
2. start new ones while the group's total stays at most ``replicas + max_surge``;
3. wait until each new one's ``/health`` answers 200 (probed inside its own container, so no
   container address is ever dialled from the host; a worker, which takes no HTTP traffic, is
   ready by the same probe of its broker and database), then add it to the gateway's routes (the
   gateway reloads them on SIGHUP, see ``archsim_services.gateway``).

**Callers.** The order placement calls other services by replica name, fixed in its environment
when it starts (``ARCHSIM_<CAPABILITY>_URL``, :data:`CALLERS`), and a service cannot learn new
names without a restart. So a called replica that some running caller still names is *retired*
instead of stopped: it leaves the gateway's routes but keeps answering the callers' calls. The
callers are rolled after the groups they call; a new caller is started with the names of the
replicas its callees have now, and a caller whose environment names a retired replica counts as
old even on the new image. A retired replica stops as soon as no running caller names it.

A new replica that is not ready within ``progress_deadline_s`` (or stops) ends the rollout: the
unready replicas are removed and every group is rolled back to the old image (retired old
replicas are put back into the routes rather than started again), as
``rollback_on.progress_deadline`` does in scenarios/rolling-update.yaml.

**Pause** (:mod:`.rollout_state`): ``pause_after`` stops after that many replicas were replaced;
:func:`pause` (``archsim deploy pause``, from another terminal) stops a running rollout at its next
step boundary, with every replica it started ready and routed. :func:`resume` continues either,
and so does running the same rollout again; :func:`rollback` also starts from a paused rollout.
Each step is logged with its time and recorded (:class:`Record`, written as JSON).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from simulator.errors import ArchsimError, EnvironmentProblem

from . import project as projects
from . import rollout_state
from . import topology as topologies
from .engine import Engine

ROLLED_GROUPS: dict[str, tuple[str, ...]] = {
    "monolith": ("monolith",),
    "microkernel": ("core",),
    "event-driven": ("api", "worker"),
    "space-based": ("unit", "pump"),
    "service-based": tuple(topologies.DOMAINS),
    "microservices": topologies.CAPABILITIES,
}
"""The replicated groups of each style, in the order a rollout replaces them (callers last)."""
CALLERS: dict[str, tuple[str, ...]] = {"microservices": ("orders",), "service-based": ("ordering",)}
"""Groups whose services call other replicas by the names in their environment: the order
placement (``archsim_services.microservices`` and ``.service_based``; the storefront's environment
names the ordering replicas too, but it never calls them)."""
STATE_ENV = rollout_state.STATE_ENV  #: Folder of the state files (see :mod:`.rollout_state`).
VERSION_KEY = "archsim.version"  #: Label of a replica started by a rollout: the image it runs.
RELEASE_CONTAINERFILE = "images/release/Containerfile"  #: Relative to loadtests/.
UPSTREAMS_FILE = "/tmp/archsim-upstreams"  #: Where the gateway reads its routes on SIGHUP.
_WRITE = "import sys; open(sys.argv[1], 'w').write(sys.argv[2])"
_PROBE = ("import sys, urllib.request\n"
          "try:\n    sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%d/health', timeout=2).status == 200 else 1)\n"
          "except Exception:\n    sys.exit(1)\n")


@dataclass(frozen=True)
class Replica:
    name: str
    group: str
    image: str
    index: int  #: The number after the group in its name (0 for a singleton such as the pump); new replicas get the next free one.


@dataclass
class Step:
    """One change to the deployment, and its group's replicas right after it."""

    t_s: float  #: Seconds since the rollout started.
    at: str  #: UTC time, ISO 8601.
    action: str  #: ``start``, ``revive`` (a retired replica back in service), ``ready``, ``remove``, ``retire``, ``not-ready``, ``pause``.
    group: str
    container: str
    image: str
    replicas_by_image: dict[str, int]  #: Containers of the group, ready or not, retired or not.
    serving: int  #: Ready replicas of the group, not retired (for a routed group: those in the gateway's routes).


@dataclass
class Record:
    """What a rollout did: written as JSON by :meth:`write`."""

    style: str
    project: str
    groups: list[str]
    routed: list[str]  #: The groups the gateway sends requests to.
    from_image: str
    to_image: str
    replicas: dict[str, int]  #: Desired replicas per group.
    max_surge: int
    max_unavailable: int
    started_at: str
    outcome: str = "running"  #: ``complete``, ``paused`` or ``rolled_back``.
    duration_s: float = 0.0
    min_serving: dict[str, int] = field(default_factory=dict)  #: Fewest replicas serving per group at any moment.
    replaced: int = 0  #: New replicas that passed readiness.
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


def read_state(project: str, style: str) -> dict:
    """The project's rollout state (:mod:`.rollout_state`), ``{}`` if none."""
    return rollout_state.read(project, style)


def state_path(project: str, style: str) -> Path:
    return rollout_state.path(project, style)


class _Deployment:
    """The style's replicated groups and its gateway, as the engine reports them, and the changes made to them."""

    def __init__(self, engine: Engine, style: str, project: str, log: Callable[[str], None], retired: set[str]):
        if style not in ROLLED_GROUPS:
            raise ArchsimError(f"rollout: unknown style {style!r}; use one of {', '.join(ROLLED_GROUPS)}")
        self.engine, self.style, self.project, self.log = engine, style, project, log
        self.prefix = f"{project}-{style}"
        self.gateway = f"{self.prefix}-gateway"
        plan = topologies.build(style, 2, topologies.Secrets("-", "-"), project)
        self.specs = {g: next(c for c in plan.containers if c.group == g) for g in ROLLED_GROUPS[style]}
        self.network = plan.network
        self.callers = CALLERS.get(style, ())
        self.replicas: list[Replica] = []
        self.env_of: dict[str, dict[str, str]] = {}  #: ARCHSIM_* settings each replica was started with (not the image's).
        gateway_env, entry = self._discover()
        if not self.replicas:
            raise EnvironmentProblem(f"no replicas of {style} in project {project}: run 'archsim deploy up {style} --replicas 3 --project {project}' first")
        self.groups = [g for g in ROLLED_GROUPS[style] if any(r.group == g for r in self.replicas)]
        if entry in {r.name for r in self.replicas}:
            raise EnvironmentProblem(
                f"project {project} ({style}) has no gateway: its single replica {entry} is the entry point and cannot be "
                f"replaced without downtime; deploy it with --replicas 2 or more")
        self.table = [(prefix, self.group_of(urls[0].split("//", 1)[-1].rsplit(":", 1)[0]))
                      for prefix, urls in _parse(gateway_env)]  #: The gateway's routes: path prefix -> group.
        self.routed = sorted({group for _, group in self.table if group in self.specs})
        self.retired = {name for name in retired if any(r.name == name for r in self.replicas)}
        self.serving = {g: [r.name for r in self.current(g)] for g in self.groups}
        self.started = time.monotonic()

    def _inspect(self, names: list[str], check: bool = True) -> list[dict]:
        done = self.engine.call("inspect", "--type", "container", *names, check=check)
        return json.loads(done.stdout or "[]") if done.returncode == 0 else []

    def _discover(self) -> tuple[str, str]:
        """Fill ``replicas`` and ``env_of``; return the gateway's ``ARCHSIM_UPSTREAMS`` and the entry point's name."""
        ids = self.engine.lines("ps", "--all", "--quiet", "--filter", f"label={projects.label(self.project)}")
        image_env: dict[str, set[str]] = {}
        gateway_env, entry = "", ""
        for item in self._inspect(ids) if ids else []:
            name = item["Name"].lstrip("/")
            labels = item["Config"].get("Labels") or {}
            env = dict(line.split("=", 1) for line in item["Config"].get("Env") or [])
            if labels.get(projects.URL_KEY):
                entry = name
            if name == self.gateway:
                gateway_env = env.get("ARCHSIM_UPSTREAMS", "")
            group = self.group_of(name)
            if group not in self.specs or item.get("State", {}).get("Status") not in ("running", "created", "configured"):
                continue
            image = labels.get(VERSION_KEY) or item.get("ImageName") or item["Config"].get("Image", "")
            if image not in image_env:
                image_env[image] = {line.split("=", 1)[0] for line in self._image_env(image)}
            self.env_of[name] = {k: v for k, v in env.items() if k.startswith("ARCHSIM_") and k not in image_env[image]}
            tail = name.rsplit("-", 1)[1]
            self.replicas.append(Replica(name, group, image, int(tail) if tail.isdigit() else 0))
        self.replicas.sort(key=lambda r: (r.group, r.index))
        return gateway_env, entry

    def _image_env(self, image: str) -> list[str]:
        found = json.loads(self.engine.call("image", "inspect", image, check=False).stdout or "[]")
        return (found[0].get("Config") or {}).get("Env") or [] if found else []

    def group_of(self, name: str) -> str:
        """``<project>-<style>-catalog-2`` -> ``catalog``; ``<project>-<style>-pump`` -> ``pump``."""
        if not name.startswith(self.prefix + "-"):
            return ""
        rest = name[len(self.prefix) + 1:]
        head, _, tail = rest.rpartition("-")
        return head if tail.isdigit() and head else rest

    def url(self, name: str) -> str:
        return f"http://{name}:{self.specs[self.group_of(name)].port}"

    def current(self, group: str) -> list[Replica]:
        """The group's replicas that are not retired."""
        return [r for r in self.replicas if r.group == group and r.name not in self.retired]

    def stale(self, replica: Replica, image: str) -> bool:
        """Old: another image, or (a caller) started with the name of a retired replica."""
        return replica.image != image or any(self.url(name) in self._named(replica.name) for name in self.retired)

    def _named(self, name: str) -> str:
        return " ".join(self.env_of.get(name, {}).values())

    def route(self, group: str, names: list[str]) -> None:
        """Make ``names`` the group's serving replicas; for a routed group, the gateway's upstreams
        (write its routes file, send SIGHUP)."""
        self.serving[group] = list(names)
        if group in self.routed:
            self.write_routes()

    def write_routes(self) -> None:
        spec = ";".join(f"{prefix}={','.join(self.url(n) for n in self.serving[group])}" for prefix, group in self.table)
        self.engine.call("exec", self.gateway, "python3", "-c", _WRITE, UPSTREAMS_FILE, spec)
        self.engine.call("kill", "--signal", "HUP", self.gateway)

    def start(self, group: str, image: str) -> Replica:
        index = max((r.index for r in self.replicas if r.group == group), default=0) + 1
        name = f"{self.prefix}-{group}-{index}"
        spec = self.specs[group]
        template = next(r for r in self.replicas if r.group == group)
        env = self._repointed(self.env_of[template.name])
        labels = {projects.PROJECT_KEY: self.project, projects.STYLE_KEY: self.style,
                  projects.ROLE_KEY: spec.role, VERSION_KEY: image}
        argv = self.engine.run_argv(name=name, image=image, labels=labels, network=self.network, aliases=[group],
                                    env=env, memory_mb=spec.memory_mb, cpus=spec.cpus,
                                    tmpfs_mb=spec.tmpfs_mb, publish=None, command=spec.command)
        self.engine.call(*argv[1:])
        replica = Replica(name, group, image, index)
        self.replicas.append(replica)
        self.env_of[name] = env
        return replica

    def _repointed(self, env: dict[str, str]) -> dict[str, str]:
        """``env`` with every list of replica URLs (``ARCHSIM_CATALOG_URL``) naming the replicas its group has now."""
        out = {}
        for key, value in env.items():
            names = [url.split("//", 1)[-1].rsplit(":", 1)[0] for url in value.split(",")]
            groups = {self.group_of(n) for n in names}
            group = groups.pop() if len(groups) == 1 and value.startswith("http://") else ""
            out[key] = ",".join(self.url(r.name) for r in self.current(group)) if group in self.specs else value
        return out

    def ready(self, replica: Replica) -> bool:
        port = self.specs[replica.group].port
        probe = self.engine.call("exec", replica.name, "python3", "-c", _PROBE % port, check=False, timeout_s=30)
        return probe.returncode == 0

    def stopped(self, replica: Replica) -> bool:
        found = self._inspect([replica.name], check=False)
        return not found or found[0].get("State", {}).get("Status") not in ("running", "created", "configured")

    def referenced(self, name: str) -> bool:
        """Some running caller replica was started with ``name``'s URL."""
        return any(self.url(name) in self._named(r.name) for r in self.replicas
                   if r.group in self.callers and r.name != name and r.name not in self.retired)

    def remove(self, replica: Replica, drain_s: float) -> str:
        """Take ``replica`` out of service: out of the routes, drained, then stopped, or retired
        while a caller still names it. Returns ``remove`` or ``retire``."""
        if replica.name in self.serving[replica.group]:
            self.route(replica.group, [n for n in self.serving[replica.group] if n != replica.name])
            if replica.group in self.routed:
                time.sleep(drain_s)  # requests in flight finish on it; no new ones arrive
        if self.referenced(replica.name):
            self.retired.add(replica.name)
            return "retire"
        self.stop([replica])
        return "remove"

    def stop(self, replicas: list[Replica]) -> None:
        """Remove ``replicas`` (SIGTERM, then a kill after 3 s) in one engine call."""
        if not replicas:
            return
        self.engine.call(*self.engine.remove_argv([r.name for r in replicas])[1:], timeout_s=60)
        for replica in replicas:
            self.retired.discard(replica.name)
            self.replicas.remove(replica)
            self.env_of.pop(replica.name, None)

    def revive(self, group: str, image: str) -> Replica | None:
        """A retired replica of ``group`` on ``image``, back in service (a rollback reuses it rather than start one)."""
        replica = next((r for r in self.replicas if r.group == group and r.image == image and r.name in self.retired), None)
        if replica is not None:
            self.retired.discard(replica.name)
        return replica

    def retired_unreferenced(self) -> list[Replica]:
        found = [r for r in self.replicas if r.name in self.retired and not self.referenced(r.name)]
        return sorted(found, key=lambda r: (self.groups.index(r.group), r.index))


def pause(project: str | None, style: str) -> dict:
    """Ask the running rollout of ``style`` to stop at its next step (``kubectl rollout pause``);
    a rollout started while paused stops before its first step. Returns the state."""
    name = projects.current(project)
    if style not in ROLLED_GROUPS:
        raise ArchsimError(f"pause: unknown style {style!r}; use one of {', '.join(ROLLED_GROUPS)}")
    return rollout_state.update(name, style, paused=True)


def resume(engine: Engine, style: str, *, project: str | None = None, log: Callable[[str], None] = print, **options) -> Record | None:
    """Clear the pause and continue a paused rollout towards its image with its options
    (``kubectl rollout resume``); None when no rollout was paused (then only the pause is cleared)."""
    name = projects.current(project)
    state = rollout_state.update(name, style, paused=None)
    if state.get("status") != "paused":
        log(f"resume: no paused rollout of {style} in project {name}; pause cleared")
        return None
    return rollout(engine, style, state["image"], project=name, log=log, **{**state.get("options", {}), **options})


def rollout(engine: Engine, style: str, to_image: str, *, project: str | None = None, max_surge: int = 1,
            max_unavailable: int = 0, pause_after: int | None = None, progress_deadline_s: float = 60.0,
            drain_s: float = 2.0, log: Callable[[str], None] = print) -> Record:
    """Replace every group's replicas with ``to_image`` step by step; see the module docstring."""
    name = projects.current(project)
    if max_surge < 0 or max_unavailable < 0 or max_surge + max_unavailable == 0:
        raise ArchsimError(f"--max-surge {max_surge} and --max-unavailable {max_unavailable}: both at least 0 and not both 0")
    if pause_after is not None and pause_after < 1:
        raise ArchsimError(f"--pause-after: at least 1 replica, got {pause_after}")
    if not json.loads(engine.call("image", "inspect", to_image, check=False).stdout or "[]"):
        raise ArchsimError(f"--to {to_image}: no such image; build one with 'archsim deploy release VERSION'")
    before = read_state(name, style)
    deployment = _Deployment(engine, style, name, log, set(before.get("retired", [])))
    resumed = before.get("status") in ("paused", "running") and before.get("image") == to_image
    old_images = Counter(r.image for r in deployment.replicas if r.image != to_image)
    from_image = before["previous"] if resumed else (old_images.most_common(1)[0][0] if old_images else to_image)
    replicas = {g: len(deployment.current(g)) for g in deployment.groups}
    if resumed and before.get("replicas"):
        replicas = {g: int(before["replicas"].get(g, n)) for g, n in replicas.items()}
    record = Record(style, name, deployment.groups, deployment.routed, from_image, to_image, replicas, max_surge,
                    max_unavailable, _now(), min_serving={g: len(deployment.serving[g]) for g in deployment.groups})
    options = {"max_surge": max_surge, "max_unavailable": max_unavailable, "progress_deadline_s": progress_deadline_s,
               "drain_s": drain_s}
    log(f"rollout {style} ({name}): {', '.join(f'{n} {g}' for g, n in replicas.items())}; {from_image} -> {to_image}, "
        f"max surge {max_surge}, max unavailable {max_unavailable}")
    changed = from_image != to_image  # a rollout to the image already running changes nothing
    if changed:
        rollout_state.update(name, style, image=to_image, previous=from_image, status="running", options=options,
                             replicas=replicas)
    for group in deployment.routed:
        deployment.serving[group] = [r.name for r in deployment.current(group)]
    if deployment.routed:
        deployment.write_routes()
    roll = _Roll(deployment, record, max_surge, max_unavailable, progress_deadline_s, drain_s)
    outcome = roll.all_groups(to_image, pause_after)
    if outcome == "failed":
        log(f"rolling back to {from_image}")
        roll.all_groups(from_image, None, pausable=False)
        outcome = "rolled_back"
    record.outcome = outcome
    record.duration_s = round(time.monotonic() - deployment.started, 3)
    if outcome == "rolled_back":  # a rolled-back rollout records nothing
        rollout_state.clear(name, style)
        if before:
            rollout_state.update(name, style, **{**before, "retired": sorted(deployment.retired) or None})
    elif changed or deployment.retired or before:
        rollout_state.update(name, style, status=outcome, retired=sorted(deployment.retired) or None)
    log(f"rollout {outcome} in {record.duration_s:.1f} s; fewest replicas serving: "
        f"{', '.join(f'{g} {n}' for g, n in record.min_serving.items())}")
    return record


def replicas(engine: Engine, style: str, project: str | None = None) -> list[Replica]:
    """The replicas of ``style``'s rolled groups in ``project``, with the image each runs (retired ones too)."""
    name = projects.current(project)
    return _Deployment(engine, style, name, print, set(read_state(name, style).get("retired", []))).replicas


def rollback(engine: Engine, style: str, *, project: str | None = None, **options) -> Record:
    """Roll every group back to the image it ran before the last rollout (from the project's state
    file), also from a paused rollout (the pause is cleared: a rollback is never paused)."""
    name = projects.current(project)
    state = read_state(name, style)
    if not state.get("previous"):
        raise ArchsimError(f"rollback: no rollout of {style} recorded for project {name} (looked in {state_path(name, style)})")
    rollout_state.update(name, style, paused=None, status="complete")
    return rollout(engine, style, state["previous"], project=name, **options)


class _Roll:
    """The RollingUpdate loop, group by group; each step is logged and recorded."""

    def __init__(self, deployment: _Deployment, record: Record, max_surge: int, max_unavailable: int,
                 deadline_s: float, drain_s: float):
        self.d, self.record = deployment, record
        self.max_surge, self.max_unavailable, self.deadline_s, self.drain_s = max_surge, max_unavailable, deadline_s, drain_s

    def all_groups(self, image: str, pause_after: int | None, pausable: bool = True) -> str:
        """Roll each group to ``image`` in order, then stop the retired replicas no caller names;
        ``complete``, ``paused`` or ``failed``."""
        for group in self.d.groups:
            outcome = self.group(group, image, pause_after, pausable)
            self.release_retired()
            if outcome != "complete":
                return outcome
        return "complete"

    def release_retired(self) -> None:
        """Stop the retired replicas no caller names, in one engine call (out of every route already)."""
        replicas = self.d.retired_unreferenced()
        self.d.stop(replicas)
        for replica in replicas:
            self.step("remove", replica)

    def paused(self, pause_after: int | None, pausable: bool) -> bool:
        if not pausable:
            return False
        return (pause_after is not None and self.record.replaced >= pause_after) or \
            rollout_state.pause_requested(self.d.project, self.d.style)

    def group(self, group: str, image: str, pause_after: int | None, pausable: bool) -> str:
        d, desired = self.d, self.record.replicas[group]
        while True:
            old = [r for r in d.current(group) if d.stale(r, image)]
            new = [r for r in d.current(group) if not d.stale(r, image)]
            if old and self.paused(pause_after, pausable):  # only the replicas above the desired count leave
                for replica in old[:max(min(len(old), len(d.serving[group]) - desired), 0)]:
                    self.step(d.remove(replica, self.drain_s), replica)
                self.step("pause", Replica("-", group, image, 0))
                return "paused"
            removable = max(min(len(old), len(d.serving[group]) - (desired - self.max_unavailable)), 0)
            for replica in old[:removable]:
                self.step(d.remove(replica, self.drain_s), replica)
            old = old[removable:]
            if not old and len(new) >= desired:
                return "complete"
            startable = max(min(desired - len(new), desired + self.max_surge - len(old) - len(new)), 0)
            started = []
            for _ in range(startable):
                revived = d.revive(group, image)
                started.append(revived or d.start(group, image))
                self.step("revive" if revived else "start", started[-1])
            if not started and removable == 0:
                raise EnvironmentProblem(f"rollout of {group} cannot progress: {len(old)} old, {len(new)} new, "
                                         f"{len(d.serving[group])} serving")
            if not self.await_ready(group, started):
                return "failed"

    def await_ready(self, group: str, started: list[Replica]) -> bool:
        """Route each of ``started`` once it is ready; False (the unready ones removed) past the deadline."""
        waiting = list(started)
        until = time.monotonic() + self.deadline_s
        while waiting:
            for replica in list(waiting):
                if self.d.ready(replica):
                    waiting.remove(replica)
                    self.d.route(group, [*self.d.serving[group], replica.name])
                    self.record.replaced += 1
                    self.step("ready", replica)
                elif self.d.stopped(replica) or time.monotonic() > until:
                    for unready in waiting:
                        self.d.remove(unready, 0.0)
                        self.step("not-ready", unready)
                    return False
            if waiting:
                time.sleep(0.5)
        return True

    def step(self, action: str, replica: Replica) -> None:
        d, record = self.d, self.record
        t_s = round(time.monotonic() - d.started, 3)
        counts = dict(sorted(Counter(r.image for r in d.replicas if r.group == replica.group).items()))
        serving = len(d.serving[replica.group])
        step = Step(t_s, _now(), action, replica.group, replica.name, replica.image, counts, serving)
        record.steps.append(step)
        record.min_serving[replica.group] = min(record.min_serving.get(replica.group, serving), serving)
        by_image = ", ".join(f"{image.rsplit(':', 1)[-1]}: {n}" for image, n in counts.items())
        d.log(f"{step.at} +{t_s:7.2f}s {action:9} {replica.name} ({replica.image.rsplit(':', 1)[-1]})  "
              f"| {by_image} | serving {serving}")


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
    routed = record.routed or record.groups  # the capacity the load test sees
    figures = {  # the keys of the simulation's extras.rollout
        "duration_s": record.duration_s,
        "completed": 0 if record.outcome == "paused" else 1,  # ended, as in the simulation (a rollback ends it too)
        "rolled_back": 1 if record.outcome == "rolled_back" else 0,
        "errors": _errors_during(measured.run_dir / "timeseries.csv", warmup_s, warmup_s + record.duration_s),
        "min_ready": min(record.min_serving[g] for g in routed),
        "replicas": min(record.replicas[g] for g in routed),
        "capacity_dip": max(record.replicas[g] - record.min_serving[g] for g in routed),
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
