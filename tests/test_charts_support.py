"""Run directories shared by the chart, scorecard and report tests (no tests here).

``sweep_run`` is a real simulation of ``tests/fixtures/charts-sweep.yaml`` (a load sweep and an
instance sweep, with a spike). ``styles_run`` is that run relabelled as three architecture styles
with every planned ``extras`` key filled in (start-ups, cost, availability, recovery, rollout,
structure) and crash/rollout events, standing in for what the platform and style models will
write. ``measured_run`` is a copy marked ``source: measured``, as a Locust test writes it.
``main_job_run`` is the README's main job itself, ``scenarios/styles-baseline.yaml``, run once per
test session (two worker processes, about 10 s of CPU).
"""

from __future__ import annotations

import csv
import functools
import json
import shutil
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "charts-sweep.yaml"
MAIN_JOB = Path(__file__).parent.parent / "scenarios" / "styles-baseline.yaml"
STYLE_OF = {"load-50": "monolith", "api-x2": "microservices", "api-x4": "event-driven"}


@functools.cache
def sweep_run(root: Path) -> Path:
    from simulator.runner import run_scenario
    from simulator.scenario import load_scenario

    out = root / "sweep"
    run_scenario(load_scenario(FIXTURE), out)
    return out


@functools.cache
def main_job_run(root: Path) -> Path:
    """The six styles of ``scenarios/styles-baseline.yaml``, simulated as the README runs them."""
    from simulator.runner import run_scenario
    from simulator.scenario import load_scenario

    out = root / "main-job"
    run_scenario(load_scenario(MAIN_JOB), out, jobs=2)
    return out


def est(mean: float, ci: float | None = None, n: int = 2) -> dict:
    half = ci or 0.0
    return {"mean": mean, "ci95": ci, "low": mean - half, "high": mean + half, "n": n,
            "values": [mean - half / 2, mean + half / 2]}


@functools.cache
def styles_run(root: Path) -> Path:
    """Three variants named after styles, with synthetic extras for everything the engine cannot yet make."""
    source = sweep_run(root)
    out = root / "styles"
    shutil.copytree(source, out)
    summary = json.loads((out / "summary.json").read_text())
    variants = {}
    extras = {
        "monolith": dict(platform_kind="vm", boot=(40.0, 0.0, 5.0, 8.0, 2.0), cost=2.0, avail=0.95, rec=12.0, roll=(300.0, 40.0), deployables=1, hops=1.0),
        "microservices": dict(platform_kind="container", boot=(0.0, 6.0, 0.5, 3.0, 1.0), cost=6.0, avail=0.999, rec=2.0, roll=(60.0, 0.0), deployables=9, hops=4.2),
        "event-driven": dict(platform_kind="microvm", boot=(0.2, 2.0, 0.15, 3.0, 1.0), cost=4.0, avail=0.99, rec=4.0, roll=(90.0, 2.0), deployables=7, hops=3.1),
    }
    for name, style in STYLE_OF.items():
        block = summary["variants"][name]
        x = extras[style]
        prov, pull, runtime, init, ready = x["boot"]
        block["extras"] = {
            "style": style,
            "platform_kind": x["platform_kind"],
            "platform": {svc: {"startup_mean_s": est(sum(x["boot"]), 0.5), "startups": est(3.0),
                               "startup_breakdown_s": {"provisioning": est(prov, 0.1), "image_pull": est(pull, 0.1),
                                                       "runtime": est(runtime, 0.01), "app_init": est(init, 0.2),
                                                       "readiness": est(ready, 0.1)}} for svc in ("api", "db")},
            "cost": {"total_usd": est(x["cost"] / 100, 0.001), "per_million_requests_usd": est(x["cost"], 0.05), "idle_fraction": est(0.4, 0.02)},
            "availability": {"overall": est(x["avail"], 0.0005)},
            "recovery": {"time_to_slo_recovery_s": est(x["rec"], 0.3)},
            "rollout": {"duration_s": est(x["roll"][0], 1.0), "errors": est(x["roll"][1], 0.5), "min_ready": est(1.0)},
            "structure": {"deployables": x["deployables"], "network_hops_per_request": x["hops"]},
        }
        block["events"] = block["events"] + [{"time_s": 8.0, "kind": "crash", "service": "api"},
                                             {"time_s": 15.0, "kind": "rollout", "duration_s": 4.0}]
        variants[style] = block
    summary["variants"] = variants
    (out / "summary.json").write_text(json.dumps(summary))
    with (source / "timeseries.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["variant"] in STYLE_OF]
    for row in rows:
        row["variant"] = STYLE_OF[row["variant"]]
        row["starting.api"] = "1" if 8 <= float(row["time_s"]) <= 10 else "0"
    with (out / "timeseries.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    resolved = json.loads((out / "resolved.json").read_text())
    resolved["variants"] = {STYLE_OF[k]: v for k, v in resolved["variants"].items() if k in STYLE_OF}
    (out / "resolved.json").write_text(json.dumps(resolved))
    return out


@functools.cache
def measured_run(root: Path) -> Path:
    """The sweep run as if a Locust test had written it: ``source: measured``, no resolved scenario."""
    out = root / "measured"
    shutil.copytree(sweep_run(root), out)
    summary = json.loads((out / "summary.json").read_text())
    summary["source"] = "measured"
    (out / "summary.json").write_text(json.dumps(summary))
    (out / "resolved.json").unlink()
    return out


@functools.cache
def reported_run(root: Path) -> tuple[Path, tuple[Path, ...]]:
    """``styles_run`` after :func:`simulator.report.draw_all`: charts, report.html and report.md written."""
    from simulator.report import draw_all

    run_dir = styles_run(root)
    return run_dir, tuple(draw_all(run_dir))
