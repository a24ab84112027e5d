"""Property-based fuzzing of the scenario loader and the run: hostile files never crash, hang or lie.

Hypothesis mutates the shipped scenarios the way a hostile user would: wrong types, units and
numbers (NaN, ±inf, huge, tiny, negative), broken structure, dangling references, YAML aliases and
tags, deep ``--set`` paths, files referenced from the scenario. Two properties:

1. **Loading.** Every example either validates or raises the user-facing error
   (:class:`~simulator.errors.ArchsimError`, one line, at most a few hundred characters), using at
   most 2 s of CPU time.
2. **Running.** Every example that validates is either refused by the run budget or finishes a
   shortened run (one replication, at most 20 simulated seconds, the first variant) with
   ``status: ok`` and finite figures.

Each example runs in a forked child process with a wall-clock guard and a memory cap, so a hang or
a memory bomb fails the example instead of hanging CI, and the parent sees exactly what happened.

Profiles (``HYPOTHESIS_PROFILE``): ``ci`` (default: 600 loads and 300 runs, about 30 s) and
``long`` (5,000 loads and 2,500 runs, about 6 minutes, for local runs: ``HYPOTHESIS_PROFILE=long python3 -m pytest
tests/test_fuzz_scenarios.py``). ``python3 tests/test_fuzz_scenarios.py N`` tallies the verdicts of
N examples of each property without stopping at the first failure (how the failure classes of the
unfixed code were counted).
"""

from __future__ import annotations

import copy
import math
import multiprocessing
import os
import re
import resource
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Imported here, before any child is forked, so each example starts from loaded modules.
import simulator.runner  # noqa: F401
import simulator.scenario  # noqa: F401
from simulator.errors import ArchsimError
from simulator.runner import run_scenario
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SHIPPED = {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in SCENARIOS}

LOAD_CPU_S = 2.0  #: Property 1: CPU seconds a load may take.
LOAD_WALL_S = 10.0  #: Wall-clock guard for a load (the machine is shared; CPU time is the measure).
RUN_WALL_S = 30.0  #: Wall-clock guard for a shortened run.
SHORT_DURATION_S = 20.0  #: Simulated length of a shortened run.
SHORT_BUDGET_SCALE = 1e-3  #: A shortened run gets this share of the run budget (about a second).
MEMORY_CAP_BYTES = 3 * 1024**3  #: Address-space cap of each child: a memory bomb fails fast.
MESSAGE_CHARS = 1000  #: An error line longer than this is not "one clear line".

settings.register_profile(
    "ci", max_examples=600, deadline=None, database=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# --- hostile values ------------------------------------------------------------------------------

HOSTILE_NUMBERS = [
    math.nan, math.inf, -math.inf, 0, -1, 1e300, -1e300, 1e-300, 2**63, 10**30, 1.5, True, None,
]
HOSTILE_STRINGS = [
    ".nan", "nan", "inf", "-inf", "nan/s", "inf/s", "1e400/s", "0/s", "1e12/s", "-5/s", "1e-300/s",
    "nanms", "infs", "1e400ms", "1e300s", "-5ms", "0s", "1ns", "100us", "1e9h", "5 parsecs", "10",
    "exp(1e400ms)", "exp(mean=10ms, mean=3s)", "exp(10ms, mean=3s)", "lognormal(1e300s, cv=1e300)",
    "lognormal(10ms, cv=inf)", "lognormal(10ms, cv=nan)", "gamma(10ms, cv=1e-300)", "gamma(10ms, cv=0)",
    "erlang(10ms, k=0)", "erlang(10ms, k=1e9)", "erlang(10ms, k=2.5)", "empirical(-1ms, 2ms)",
    "empirical(nanms)", "empirical()", "uniform(5ms, 1ms)", "uniform(0s, infs)", "exp(10)", "exp()",
    "exp(10ms", "const(-1ms)", "const(1e300s)", "exp(0s)", "weird(1ms)", "exp(10ms, 1ms, 2ms)",
    "a\nb", "x" * 2000, "", " ", "service_time", "µs", "50%", "1e3%", "!!", "0", "-0",
]
HOSTILE_STRUCTURES: list[Any] = [[], {}, [1, 2], {"a": 1}, [[[[]]]], {"type": "exponential"}, {"type": None}]

KEY_WORDS = [
    "service_time", "calls", "rate", "mean", "cores", "instances", "queue", "profile", "mix",
    "type", "operations", "spikes", "variants", "set", "platform", "cv", "a\nb", "k" * 5000, "",
    "ratee", "servise_time", "  ", "0",
]

PROFILE_PATHS = ["/dev/zero", "/dev/null", "/", "/etc/passwd", "missing.json", "/proc/self/status"]


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every path into a document (mappings by key, lists by index), the root included."""
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, path + (i,))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _set(doc: Any, path: tuple, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


_NUMBER_IN_TEXT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

#: Mutations, weighted: most keep the file valid but extreme (scaled numbers), so the run
#: property sees many valid examples; the rest break types, structure and references.
OPERATIONS = ["scale"] * 4 + ["value"] * 3 + ["delete", "add_key", "rename", "reference", "repeat", "profile", "nest"]
#: For the run property: mutations that mostly keep the file valid, so most examples do run.
RUN_OPERATIONS = ["scale"] * 6 + ["repeat", "repeat", "reference", "value"]


def _scaled(value: Any, factor: float) -> Any:
    """``value`` with its first number multiplied by ``factor`` (``'exp(10ms)'`` -> ``'exp(1e+10ms)'``)."""
    if isinstance(value, (int, float)):
        return value * factor
    match = _NUMBER_IN_TEXT.search(value)
    if not match:
        return value
    return f"{value[: match.start()]}{float(match.group()) * factor:g}{value[match.end() :]}"


hostile_value = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    st.sampled_from(HOSTILE_STRINGS),
    st.sampled_from(HOSTILE_STRUCTURES),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.text(max_size=20),
)


@st.composite
def mutated_document(draw: st.DrawFn, operations: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    """A shipped scenario with one to three mutations (as plain data)."""
    name = draw(st.sampled_from(sorted(SHIPPED)))
    doc = copy.deepcopy(SHIPPED[name])
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 2, 3]))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(operations or OPERATIONS))
        target = _get(doc, path)
        if op == "value" and path:
            _set(doc, path, copy.deepcopy(draw(hostile_value)))  # a copy: later mutations must not change the pool
        elif op == "delete" and path:
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
        elif op == "add_key" and isinstance(target, dict):
            target[draw(st.sampled_from(KEY_WORDS))] = copy.deepcopy(draw(hostile_value))
        elif op == "rename" and path and isinstance(path[-1], str):
            parent = _get(doc, path[:-1])
            parent[draw(st.sampled_from(KEY_WORDS))] = parent.pop(path[-1])
        elif op == "scale" and path and isinstance(target, (str, int, float)) and not isinstance(target, bool):
            factor = draw(st.sampled_from([0.0, 1e-9, 1e-3, 1e3, 1e9, 1e300, -1.0]))
            _set(doc, path, _scaled(target, factor))
        elif op == "reference" and path and isinstance(target, str):
            services = list(doc.get("services", {}) or {}) if isinstance(doc.get("services"), dict) else []
            choice = draw(st.sampled_from(services + ["nowhere", "nowhere.op", target + "x", target.upper(), "a.b.c", "."]))
            _set(doc, path, choice)
        elif op == "repeat" and isinstance(target, list) and target:
            times = draw(st.sampled_from([2, 50, 1000]))
            item = target[draw(st.integers(0, len(target) - 1))]
            if isinstance(item, dict) and "call" in item:
                item = {**item, "mode": "async"}
            target.extend(copy.deepcopy(item) for _ in range(times))
        elif op == "profile" and isinstance(doc.get("services"), dict) and doc["services"]:
            service = draw(st.sampled_from(sorted(doc["services"], key=str)))
            if isinstance(doc["services"][service], dict):
                doc["services"][service]["platform"] = {"kind": "container", "profile": draw(st.sampled_from(PROFILE_PATHS))}
        elif op == "nest" and path:
            value: Any = _get(doc, path)
            for _ in range(draw(st.sampled_from([1, 10, 200]))):
                value = [value]
            _set(doc, path, value)
    return name, doc


def _dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10**9)


TEXT_ATTACKS = [
    "meta: &a [*a]\n",  # a recursive alias
    "meta: {x: !!int abc}\n",  # a non-standard tag that cannot be read
    "meta: {x: !!python/object:os.system ls}\n",
    "meta: {x: !custom 3}\n",
    "meta: {x: " + "9" * 4301 + "}\n",  # more digits than Python converts
    "meta: {x: " + "[" * 500 + "]" * 500 + "}\n",  # deep nesting
    "meta: {x: " + "{a: " * 300 + "1" + "}" * 300 + "}\n",
    # nested aliases: 10^8 nodes from a few hundred bytes
    "meta:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9)),
    "meta: {x: 1, x: 2}\n",  # a duplicate key
    "\t- not yaml\n",
    "- just\n- a list\n",
    "name: &n mm1\nnames: *n\n",
    "meta: {a: &b {c: 1}, d: *b}\n",
    "\x00\x01\x02",
]


@st.composite
def scenario_text(draw: st.DrawFn, operations: list[str] | None = None) -> tuple[str, str, list[str]]:
    """``(shipped name, YAML text, --set overrides)`` of a mutated scenario."""
    name, doc = draw(mutated_document(operations))
    text = _dump(doc)
    if draw(st.integers(0, 3)) == 0:
        attack = draw(st.sampled_from(TEXT_ATTACKS))
        if attack.startswith("meta") and isinstance(doc, dict):
            text = _dump({k: v for k, v in doc.items() if k != "meta"}) + attack
        else:
            text = attack
    overrides: list[str] = []
    if draw(st.integers(0, 4)) == 0:
        kind = draw(st.sampled_from(["deep", "value", "collection", "bad"]))
        if kind == "deep":
            overrides.append(".".join(["a"] * draw(st.sampled_from([5, 500, 5000]))) + "=1")
        elif kind == "value":
            key = draw(st.sampled_from(["duration", "warmup", "metrics_interval", "workload.rate", "replications", "seed"]))
            overrides.append(f"{key}={draw(st.sampled_from([str(v) for v in HOSTILE_NUMBERS] + HOSTILE_STRINGS[:30]))}")
        elif kind == "collection":
            overrides.append("services." + draw(st.sampled_from(["nosuch", "a\nb", "x" * 300])) + ".cores=2")
        else:
            overrides.append(draw(st.sampled_from(["noequals", "=1", "a..b=1", "variants.0.set=1", "classes=[]"])))
    return name, text, overrides


# --- running one example in a guarded child -----------------------------------------------------


def _child(conn: Any, work: Any, args: tuple) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP_BYTES, MEMORY_CAP_BYTES))
    sys.setrecursionlimit(3000)
    try:
        conn.send(work(*args))
    except BaseException as exc:  # noqa: BLE001 - classified by the parent
        frames = traceback.extract_tb(exc.__traceback__)
        where = next((f"{Path(f.filename).name}:{f.name}" for f in reversed(frames) if "simulator" in f.filename), "?")
        try:
            conn.send(("crash", f"{exc.__class__.__name__} in {where}", str(exc)[:300]))
        except BaseException:  # noqa: BLE001
            conn.send(("crash", exc.__class__.__name__, ""))
    finally:
        conn.close()


def guarded(work: Any, args: tuple, wall_s: float) -> tuple:
    """Run ``work(*args)`` in a forked child; ``('hang', ...)`` if it outlives ``wall_s``."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(child, work, args))
    process.start()
    child.close()
    started = time.monotonic()
    if parent.poll(wall_s):
        try:
            verdict = parent.recv()
        except EOFError:
            verdict = ("crash", f"child died (exit {process.exitcode})", "")
    else:
        verdict = ("hang", f"no answer after {time.monotonic() - started:.0f} s", "")
    process.kill()
    process.join()
    parent.close()
    return verdict


def _write(folder: str, text: str) -> Path:
    path = Path(folder) / "fuzzed.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


def _one_line(message: str) -> str | None:
    if "\n" in message or "\r" in message:
        return "message on several lines"
    if len(message) > MESSAGE_CHARS:
        return f"message of {len(message)} characters"
    if "Traceback" in message:
        return "traceback in the message"
    return None


def load_verdict(text: str, overrides: list[str]) -> tuple:
    """Property 1 for one example: ``('ok'|'refused'|<failure class>, detail, message)``."""
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, text)
        cpu = time.process_time()
        try:
            load_scenario(path, overrides)
            verdict: tuple = ("ok", "", "")
        except ArchsimError as exc:
            problem = _one_line(exc.message)
            verdict = (f"bad message: {problem}", "", exc.message[:300]) if problem else ("refused", "", exc.message)
        used = time.process_time() - cpu
        if used > LOAD_CPU_S:
            return ("slow load", f"{used:.1f} s CPU", verdict[2][:300])
        return verdict


def _finite_problem(node: Any, path: str = "") -> str | None:
    if isinstance(node, float) and not math.isfinite(node):
        return f"{path} = {node}"
    if isinstance(node, dict):
        for key, value in node.items():
            found = _finite_problem(value, f"{path}.{key}")
            if found:
                return found
    if isinstance(node, list):
        for i, value in enumerate(node):
            found = _finite_problem(value, f"{path}[{i}]")
            if found:
                return found
    return None


def _budget_refusal(loaded: Any, **limits: Any) -> str | None:
    """The run budget's refusal of ``loaded``, or ``None`` (no budget module: nothing is refused)."""
    try:
        from simulator import budget
    except ImportError:
        return None
    try:
        budget.check(loaded, **limits)
    except ArchsimError as exc:
        return exc.message
    return None


def run_verdict(text: str, overrides: list[str]) -> tuple:
    """Property 2 for one example that loads: refused by the budget, or a shortened run that is ok."""
    import json

    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, text)
        try:
            loaded = load_scenario(path, overrides)
        except ArchsimError:
            return ("not loaded", "", "")
        refusal = _budget_refusal(loaded)
        if refusal:
            problem = _one_line(refusal)
            return (f"bad message: {problem}", "", refusal[:300]) if problem else ("refused", "", refusal)
        base = loaded.base
        short = ["replications=1"]
        if base.duration_s > SHORT_DURATION_S:
            short += [f"duration={SHORT_DURATION_S}s", f"warmup={min(base.warmup_s, 2.0)}s"]
            if base.metrics_interval_s > SHORT_DURATION_S:
                short.append(f"metrics_interval={SHORT_DURATION_S}s")
        try:
            shortened = load_scenario(path, overrides + short)
        except ArchsimError as exc:
            return ("shortening refused", "", exc.message)
        # The shortened run is held to a small budget (a second of work), so the property stays fast.
        refusal = _budget_refusal(shortened, only=[shortened.variants[0].name], scale=SHORT_BUDGET_SCALE)
        if refusal:
            return ("refused", "", refusal)
        run_dir = Path(folder) / "run"
        try:
            summary = run_scenario(shortened, run_dir, only=[shortened.variants[0].name])
        except ArchsimError as exc:
            problem = _one_line(exc.message)
            return (f"bad message: {problem}", "", exc.message[:300]) if problem else ("run refused", "", exc.message)
        # What a user reads: the written file (JSON has no NaN; "no data" is written as null).
        written = json.loads((run_dir / "summary.json").read_text(), parse_constant=lambda token: {"NaN": math.nan}.get(token, math.inf))
        if written.get("status") != "ok":
            return ("status not ok", str(written.get("status")), str(written.get("error"))[:300])
        problem = _finite_problem(written.get("variants"))
        if problem:
            return ("non-finite figure", problem, "")
        for name, block in written["variants"].items():
            overall = block.get("overall", {})
            done = (overall.get("throughput_per_s") or {}).get("mean") or 0
            if done > 0 and (overall.get("latency_mean_s") or {}).get("mean") is None:
                return ("null latency with completions", name, "")
        return ("ok", "", "")


ACCEPTED_LOAD = {"ok", "refused"}
ACCEPTED_RUN = {"ok", "refused", "not loaded", "shortening refused", "run refused"}


@given(scenario_text())
def test_every_mutated_scenario_validates_or_gives_one_line(example: tuple[str, str, list[str]]) -> None:
    """Property 1: a valid scenario, or one ArchsimError line, within 2 s of CPU."""
    name, text, overrides = example
    verdict = guarded(load_verdict, (text, overrides), LOAD_WALL_S)
    assert verdict[0] in ACCEPTED_LOAD, f"{name} (--set {overrides}): {verdict}"


@pytest.mark.slow
@given(scenario_text(RUN_OPERATIONS))
@settings(max_examples=max(20, settings().max_examples // 2))
def test_every_valid_mutated_scenario_is_refused_or_runs_finite(example: tuple[str, str, list[str]]) -> None:
    """Property 2: a valid example is refused by the run budget, or a shortened run is ok and finite."""
    name, text, overrides = example
    verdict = guarded(run_verdict, (text, overrides), RUN_WALL_S)
    assert verdict[0] in ACCEPTED_RUN, f"{name} (--set {overrides}): {verdict}"


def _tally(count: int, which: str = "load,run") -> None:
    """Print the verdicts of ``count`` examples of each property, grouped into classes."""
    from hypothesis import Phase

    dump = os.environ.get("FUZZ_DUMP")  # a folder: write each failing example there
    for label, work, wall, accepted, operations in (
        ("load", load_verdict, LOAD_WALL_S, ACCEPTED_LOAD, None),
        ("run", run_verdict, RUN_WALL_S, ACCEPTED_RUN, RUN_OPERATIONS),
    ):
        if label not in which.split(","):
            continue
        verdicts: Counter[str] = Counter()
        samples: dict[str, str] = {}

        @settings(max_examples=count, phases=[Phase.generate], database=None, derandomize=False)
        @given(scenario_text(operations))
        def collect(example: tuple[str, str, list[str]]) -> None:
            name, text, overrides = example
            verdict = guarded(work, (text, overrides), wall)
            key = verdict[0] if verdict[0] in accepted else f"{verdict[0]}: {verdict[1]}"
            if dump and verdict[0] not in accepted:
                Path(dump).mkdir(parents=True, exist_ok=True)
                (Path(dump) / f"{label}-{sum(verdicts.values())}.yaml").write_text(f"# {key}\n# --set {overrides}\n{text}")
            verdicts[key] += 1
            samples.setdefault(key, f"{name} --set {str(overrides)[:80]}: {verdict[2][:160]!r}")

        collect()
        print(f"== {label}: {sum(verdicts.values())} examples")
        for key, n in verdicts.most_common():
            print(f"{n:6d}  {key}\n        e.g. {samples[key]}")


if __name__ == "__main__":
    _tally(int(sys.argv[1]) if len(sys.argv) > 1 else 500, sys.argv[2] if len(sys.argv) > 2 else "load,run")
