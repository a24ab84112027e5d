"""From a measurement folder to a calibrated scenario and its validation report, without containers.

The one path every calibration takes, whether its folder was just measured or stored long ago:
read the folder, fit (``fit.py``), write the calibrated scenario (``writer.py``), simulate it at
every measured level (``validation.py``), and write the report with its charts (``report.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from ..errors import ArchsimError
from ..results.rundir import write_json
from . import charts, folder as folders, user
from .fit import Calibration, calibrate
from .report import build_sections, write_report
from .structure import shared_host
from .validation import Validation, validate
from .writer import ScenarioSettings, render, write

REPORT_DIR = "report"  #: Sub-folder of the measurement folder with the report, charts and the simulated runs.


@dataclass
class Outcome:
    calibration: Calibration
    validation: Validation
    scenario_file: Path
    report_md: Path
    report_html: Path


def rebuild(folder: Path, scenario_file: Path, report_dir: Path | None = None) -> Outcome:
    """Fit, write ``scenario_file``, validate and report (into ``folder/report`` unless told otherwise)."""
    measured = folders.read(folder)
    manifest = measured.manifest
    used = [o for o in measured.observations if not o.hold_out]
    if len(used) < 2:
        raise ArchsimError(f"{folder}: need at least 2 completed runs outside the hold-out to fit, found {len(used)}"
                           + (f" (skipped: {'; '.join(measured.skipped)})" if measured.skipped else ""))
    # measured in containers: everything ran on one machine, whose cores the model then shares
    if manifest.source == "containers" or user.shares_host(manifest):
        manifest.structure = replace(manifest.structure, host=shared_host(manifest.deployment, used))
    try:
        calibration = calibrate(manifest.structure, measured.observations, measured.cpu_samples,
                                demands_from_reports=user.demands_from_reports(manifest),
                                # measured in containers: the reference services are asyncio, and their
                                # reports miss the framework's CPU, which the cgroup counters hold
                                interleaved=manifest.source == "containers", scale_reports=manifest.source == "containers")
    except ValueError as exc:
        raise ArchsimError(f"{folder}: cannot fit: {exc}") from None
    out = report_dir or folder / REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rates = sorted({o.target_rate_per_s for o in used})
    host = manifest.structure.host
    saturation_predicted = calibration.saturation_per_s()
    if host is not None:
        saturation_predicted = min(saturation_predicted, host.bound_per_s(sum(calibration.per_request_demand(t) for t in manifest.structure.tiers)))
    settings = ScenarioSettings(
        name=f"calibrated-{manifest.style}", rate_per_s=rates[len(rates) // 2], mix=calibration.mix,
        description=f"{manifest.style} as calibrated from {folder} ({manifest.source})",
        header=(f"Calibrated model of the {manifest.style} deployment, written by `archsim calibrate` at {stamp}.",
                f"Measurements: {folder} ({manifest.source}, {len(used)} runs fitted, {len(measured.observations) - len(used)} held out).",
                "Every fitted number carries a comment with its source and standard error.",
                f"Simulate: archsim run {scenario_file} --set workload.rate=R/s",
                f"Measure:  archsim loadtest {scenario_file} --host URL --variant {manifest.style} --set workload.rate=R/s", ""),
    )
    if manifest.source == user.SOURCE:
        header = user.user_header(folder, manifest, scenario_file, len(used), len(measured.observations) - len(used), stamp)
        write(scenario_file, user.render_user_scenario(folder / manifest.extras["user_scenario"], manifest.structure, calibration.parameters,
                                                       header, settings.rate_per_s))
    else:
        write(scenario_file, render(manifest.structure, calibration.parameters, settings))
    saturation = manifest.saturation.get("measured_per_s")
    validation = validate(scenario_file, measured.observations, out / "simulated", saturation_measured_per_s=saturation,
                          saturation_predicted_per_s=saturation_predicted)
    caption = f"{manifest.style} · {manifest.source} measurements in {folder.name} · calibrated model simulated at each level"
    drawn = charts.predicted_vs_measured(validation, out / "charts", caption) + charts.relative_errors(validation, out / "charts", caption)
    facts = [f"Source: {manifest.source}; {len(measured.observations)} runs read from {folder}" + (f"; skipped: {'; '.join(measured.skipped)}" if measured.skipped else ""),
             "Levels: " + ", ".join(f"{label} = {rate:.1f}/s" for label, rate in manifest.levels.items()),
             f"Measured saturation: {saturation:.1f}/s ({manifest.saturation.get('method', 'ramp')})" if saturation else "Measured saturation: none"]
    deployment = [f"target {manifest.deployment.get('host')}, CPU source {manifest.deployment.get('cpu_source')} "
                  f"(attributed to {manifest.deployment.get('cpu_attributed_to')})"] if manifest.source == user.SOURCE else []
    deployment += [f"{name}: {t.instances} instance(s) × {t.cores} core(s), concurrency {t.concurrency}, CPU limit {t.cpu_limit}"
                  for name, t in manifest.structure.tiers.items()]
    sections = build_sections(calibration, validation, title_facts=facts, deployment=deployment,
                              warnings=[*manifest.warnings, *calibration.warnings], charts=drawn, scenario_file=scenario_file)
    md, page = write_report(out, f"Calibration of {manifest.style}: predicted vs measured", sections)
    write_json(out / "calibration.json", {
        "parameters": calibration.parameters.to_json(), "mix": calibration.mix,
        "saturation_predicted_per_s": saturation_predicted, "saturation_measured_per_s": saturation,
        "verdicts": [v.__dict__ for v in validation.verdicts],
        "levels": [{"level": lv.level, "hold_out": lv.hold_out, "rate_per_s": lv.rate_per_s, "measured": lv.measured,
                    "predicted": lv.predicted} for lv in validation.levels],
        "cross_checks": [{"quantity": c.quantity, "model": c.primary.to_json(), "other": c.other.to_json(), "agrees": c.agrees}
                         for c in calibration.cross_checks],
    })
    return Outcome(calibration, validation, scenario_file, md, page)
