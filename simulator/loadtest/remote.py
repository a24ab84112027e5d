"""Workers on other machines: ``archsim loadtest --expect-workers N`` and ``archsim loadtest-worker``.

The master (``archsim loadtest SCENARIO --host URL --expect-workers N``) runs Locust's own master
(``--master --expect-workers N``), bound to loopback unless ``--master-bind HOST`` opts in, and
prints the command each worker machine runs: ``archsim loadtest-worker --master HOST:PORT``. That
command runs ``locust --worker -f -``: Locust itself downloads the locustfiles from the master,
and while they are imported the worker asks the master for its plan with a custom message
(:data:`PLAN_REQUEST`, answered with :data:`PLAN_REPLY`, both through Locust's RPC, on the one
port the master listens on). The master hands each worker the same plan (``workers`` = N, so each
draws ``rate / N`` of the arrivals) with its own ``worker_index`` (its arrival stream), in the order
the workers asked; a worker beyond N is refused. At the end each worker sends its record (counts
and HDR histograms, exactly what a local ``--workers`` process writes) with :data:`RECORD_MESSAGE`;
the master writes it as ``records/record-w<index>.json``, so the run merges the records as the
local ``--workers`` path does. The master also writes ``records/workers.json``: the plans it gave
out, the records it received (``complete``: the worker ran the whole test) and the workers Locust
marked ``missing`` (no heartbeat); :func:`worker_report` turns it into ``checks.workers`` and the
problems that make the run ``status: error`` (a worker that disconnected is never merged as if
it had run the whole test).

Safety on the worker too: the worker loads the ``--host`` the master names, and refuses a host that
is not loopback (as seen from the worker's machine) unless it was started with ``--allow-remote``.

This module imports Locust only inside the functions that run in a Locust process.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
import time
import uuid
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from ..errors import ArchsimError
from .plan import PLAN_ENV, LoadPlan

MASTER_ENV = "ARCHSIM_MASTER"  #: ``HOST:PORT`` of the master, in a remote worker's Locust process.
ALLOW_REMOTE_ENV = "ARCHSIM_ALLOW_REMOTE"  #: ``1``: the remote worker may load a host that is not loopback.
PLAN_WAIT_ENV = "ARCHSIM_PLAN_WAIT_S"  #: Seconds a remote worker waits for the master's plan.
PLAN_REQUEST = "archsim_plan_request"  #: Worker -> master: "my plan, please" ({host, pid}).
PLAN_REPLY = "archsim_plan"  #: Master -> worker: {plan, host} or {error}.
RECORD_MESSAGE = "archsim_record"  #: Worker -> master: {index, complete, record, host, pid}.
WORKERS_FILE = "workers.json"  #: In the record folder: what the master knows of its workers.
DEFAULT_PLAN_WAIT_S = 300.0
COMPLETE_SLACK_S = 0.5  #: A record covers the whole test when its elapsed time reaches the duration less this.

_cached: dict[str, LoadPlan | None] = {}


def parse_master(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as (host, port)."""
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ArchsimError(f"--master: expected HOST:PORT as printed by `archsim loadtest --expect-workers`, got {text!r}")
    return host, int(port)


def is_loopback_bind(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def advertised_host(bind: str) -> str:
    """The address workers should dial for a master bound to ``bind``."""
    if bind not in ("0.0.0.0", "*", "", "::"):
        return bind
    try:  # the address of the route out (a UDP connect sends nothing)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
    except OSError:
        return socket.gethostname()


def worker_command(master: str, *, allow_remote: bool) -> str:
    return f"archsim loadtest-worker --master {master}" + (" --allow-remote" if allow_remote else "")


# --- in a Locust process --------------------------------------------------------------------------


def current_plan() -> LoadPlan | None:
    """The plan of this Locust process: the file named by ``ARCHSIM_PLAN`` (local runs), fetched
    from the master (remote workers, ``ARCHSIM_MASTER``), or ``None`` (not run by archsim).
    Fetched once per process (both archsim locustfiles ask)."""
    if "plan" not in _cached:
        if os.environ.get(PLAN_ENV):
            _cached["plan"] = LoadPlan.read(os.environ[PLAN_ENV])
        elif os.environ.get(MASTER_ENV):
            _cached["plan"] = fetch_plan(os.environ[MASTER_ENV], float(os.environ.get(PLAN_WAIT_ENV) or DEFAULT_PLAN_WAIT_S))
        else:
            _cached["plan"] = None
    return _cached["plan"]


def fetch_plan(master: str, wait_s: float) -> LoadPlan:
    """Ask the master for this worker's plan, through Locust's RPC (as Locust fetches a
    locustfile); exits the process with one line when there is none."""
    import gevent
    import gevent.event
    from locust.rpc import Message, zmqrpc

    from .target import check_target

    try:
        host, port = parse_master(master)
    except ArchsimError as exc:
        raise SystemExit(f"archsim worker: {exc.message}") from None
    identity = f"{socket.gethostname()}_archsim_plan_{uuid.uuid4().hex}"
    client = zmqrpc.Client(host, port, identity)
    request = {"host": socket.gethostname(), "pid": os.getpid()}
    answered = gevent.event.Event()

    def ask() -> None:
        while not answered.is_set():
            client.send(Message(PLAN_REQUEST, request, identity))
            gevent.sleep(1)

    asker = gevent.spawn(ask)
    try:
        reply = gevent.spawn(client.recv).get(timeout=wait_s)
    except gevent.Timeout:
        raise SystemExit(f"archsim worker: no plan from the master at {master} within {wait_s:.0f} s; "
                         f"is `archsim loadtest --expect-workers` running there, and is its port open to this machine?") from None
    finally:
        answered.set()
        asker.kill()
    client.close()
    data = reply.data or {}
    if reply.type != PLAN_REPLY or not isinstance(data, dict):
        raise SystemExit(f"archsim worker: unexpected answer {reply.type!r} from the master at {master}")
    if "error" in data:
        raise SystemExit(f"archsim worker: the master at {master} refused: {data['error']}")
    try:
        plan = LoadPlan(**data["plan"])
    except (TypeError, KeyError) as exc:
        raise SystemExit(f"archsim worker: the master's plan does not fit this archsim ({exc}); run the same version on both machines") from None
    try:
        check_target(data.get("host") or "", allow_remote=os.environ.get(ALLOW_REMOTE_ENV) == "1")
    except ArchsimError as exc:
        raise SystemExit(f"archsim worker: refusing the master's target: {exc.message} (on this worker: archsim loadtest-worker --allow-remote)") from None
    rate = f", {plan.target_rate_per_s / plan.workers:.4g}/s of {plan.target_rate_per_s:.4g}/s" if plan.target_rate_per_s else ""
    print(f"archsim worker: plan from {master}: worker {plan.worker_index + 1} of {plan.workers}{rate}, "
          f"{plan.duration_s:g}s, target {data.get('host')}", file=sys.stderr, flush=True)
    return plan


def serve_workers(environment, plan: LoadPlan, record_dir: Path) -> None:
    """On the master: hand out plans, collect records, watch for missing workers, and keep
    ``workers.json`` current."""
    import gevent

    from ..results.rundir import write_json

    runner = environment.runner
    state: dict[str, Any] = {"expected": plan.workers, "plans": {}, "records": {}, "missing": {}, "started_at": None}

    def save() -> None:
        write_json(record_dir / WORKERS_FILE, {
            "expected": state["expected"], "plans": list(state["plans"].values()),
            "records": {str(k): v for k, v in sorted(state["records"].items())},
            "missing": list(state["missing"].values()),
        })

    def on_plan_request(environment, msg, **_kwargs) -> None:
        node = msg.node_id
        given = state["plans"].get(node)
        if given is None:
            if len(state["plans"]) >= plan.workers:
                runner.send_message(PLAN_REPLY, {"error": f"this test expects {plan.workers} worker(s) and has given every plan out"}, client_id=node)
                return
            data = msg.data if isinstance(msg.data, dict) else {}
            given = state["plans"][node] = {"index": len(state["plans"]), "host": data.get("host"), "pid": data.get("pid"), "at": time.time()}
            save()
        runner.send_message(PLAN_REPLY, {"plan": asdict(replace(plan, worker_index=given["index"])), "host": environment.host}, client_id=node)

    def on_record(environment, msg, **_kwargs) -> None:
        data = msg.data
        index = int(data["index"])
        write_json(record_dir / f"record-w{index}.json", data["record"])
        state["records"][index] = {"index": index, "client_id": msg.node_id, "complete": bool(data["complete"]),
                                   "elapsed_s": data["record"].get("elapsed_s"), "host": data.get("host"), "pid": data.get("pid")}
        save()

    def watch() -> None:
        while True:
            gevent.sleep(1.0)
            ready = getattr(environment, "archsim_ready_mono", None)
            for client in list(runner.clients.all):
                if client.state == "missing" and client.id not in state["missing"]:
                    at = time.monotonic() - ready if ready is not None else None
                    state["missing"][client.id] = {"client_id": client.id, "at_s": at}
                    save()

    runner.register_message(PLAN_REQUEST, on_plan_request)
    runner.register_message(RECORD_MESSAGE, on_record)
    gevent.spawn(watch)
    save()


def send_record(environment, plan: LoadPlan, record: dict[str, Any]) -> None:
    """On a remote worker: the record to the master (on test stop, and again when quitting)."""
    complete = float(record.get("elapsed_s") or 0.0) >= plan.duration_s - COMPLETE_SLACK_S
    try:
        environment.runner.send_message(RECORD_MESSAGE, {"index": plan.worker_index, "complete": complete, "record": record,
                                                         "host": socket.gethostname(), "pid": os.getpid()})
    except Exception as exc:  # noqa: BLE001 - the master may be gone already; nothing else to do
        print(f"archsim worker: could not send the record to the master: {exc}", file=sys.stderr, flush=True)


# --- in the archsim process -----------------------------------------------------------------------


def record_complete(record: dict[str, Any], plan: LoadPlan) -> bool:
    return float(record.get("elapsed_s") or 0.0) >= plan.duration_s - COMPLETE_SLACK_S


def worker_report(record_dir: Path, plan: LoadPlan, records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``checks.workers`` of a run with several Locust workers (local ``--workers N`` or remote),
    with ``problems``: workers that left no record, stopped before the end, or went missing."""
    if plan.workers <= 1 and not plan.remote:
        return None
    problems: list[str] = []
    missing: list[dict[str, Any]] = []
    plans: list[dict[str, Any]] = []
    if plan.remote:
        try:
            known = json.loads((record_dir / WORKERS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {"plans": [], "records": {}, "missing": []}
        plans = known.get("plans", [])
        received = list(known.get("records", {}).values())
        missing = known.get("missing", [])
    else:
        received = [{"index": i, "client_id": None, "complete": record_complete(r, plan), "elapsed_s": r.get("elapsed_s"),
                     "host": None, "pid": r.get("pid")}
                    for i, r in enumerate(records)]
    complete = [r for r in received if r.get("complete")]
    for r in received:
        if not r.get("complete"):
            where = f" on {r['host']}" if r.get("host") else ""
            problems.append(f"worker {r['index'] + 1}{where} stopped after {float(r.get('elapsed_s') or 0):.1f} s of {plan.duration_s:g} s; "
                            f"its record is partial")
    for m in missing:
        if not any(r.get("client_id") == m["client_id"] and r.get("complete") for r in received):
            when = f" at {m['at_s']:.1f} s" if m.get("at_s") is not None else ""
            problems.append(f"worker {m['client_id']} disconnected{when} (no heartbeat: Locust marked it missing)")
    absent = plan.workers - len(received)
    if absent > 0:
        problems.append(f"{absent} of {plan.workers} worker(s) sent no record: their share ({absent}/{plan.workers} of the arrivals) "
                        f"was not measured")
    return {"expected": plan.workers, "remote": plan.remote, "records": len(received), "complete": len(complete),
            "plans_given": len(plans) if plan.remote else None, "workers": received, "missing": missing, "problems": problems}


def run_worker(master: str, *, allow_remote: bool = False, wait_s: float = DEFAULT_PLAN_WAIT_S) -> int:
    """``archsim loadtest-worker``: one Locust worker for the master at ``master`` (``HOST:PORT``).

    Locust downloads the locustfiles from the master (``-f -``); the plan comes from the master too
    (:func:`current_plan`). Runs in its own process group, stopped with the group on Ctrl-C; returns
    Locust's exit code (the master judges the requests: failed requests do not fail the worker)."""
    import subprocess
    import tempfile

    from .run import _stop, locust_argv

    host, port = parse_master(master)
    repo = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory(prefix="archsim-worker-") as scratch:  # Locust writes the downloaded files here
        env = {key: value for key, value in os.environ.items() if key not in (PLAN_ENV, "ARCHSIM_RECORD")}
        env.update({
            MASTER_ENV: f"{host}:{port}", PLAN_WAIT_ENV: str(wait_s), ALLOW_REMOTE_ENV: "1" if allow_remote else "0",
            "TMPDIR": scratch,
            "PYTHONPATH": os.pathsep.join([str(repo), str(repo / "loadtests" / "locustfiles"), *filter(None, [os.environ.get("PYTHONPATH")])]),
        })
        command = [*locust_argv(), "-f", "-", "--worker", "--master-host", host, "--master-port", str(port),
                   "--loglevel", "WARNING", "--exit-code-on-error", "0"]
        process = subprocess.Popen(command, env=env, cwd=scratch, start_new_session=True)
        try:
            return process.wait()
        finally:
            _stop(process)
