"""The validation report: what was measured, what was fitted, and how well the model predicts.

One list of sections (headings, paragraphs, tables, charts) rendered twice: ``report.md`` and a
self-contained ``report.html`` (charts embedded). Verdicts are shown for every target, met or
missed, and the model's known gaps are listed, never hidden.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

from ..results.rundir import atomic_write
from .estimate import Fitted
from .fit import Calibration
from .validation import FIGURES, Validation

#: What the model does not represent, stated in every report.
MODEL_GAPS = [
    "Host CPU: measured in containers, every tier and the load generator share one host of the machine's cores in the model "
    "(weighted processor sharing under the containers' quotas); the kernel scheduler's time slices and cache or memory "
    "interference are not modelled, and a load generator whose CPU was not measured is left out.",
    "One demand per database round trip: reads, writes, BEGIN and COMMIT cost the same in the model.",
    "The database demand's shape is assumed exponential (no per-query CPU reports).",
    "First-come first-served cores at every tier, taken again after each awaited call (asyncio's resumptions); "
    "the event loop's own ordering of ready callbacks is not modelled.",
    "The load generator's own latency is one constant cost per client round trip (network.client_latency), not a distribution.",
]

NAMES = {"throughput_per_s": "throughput/s", "latency_mean_s": "mean", "latency_p50_s": "p50",
         "latency_p95_s": "p95", "latency_p99_s": "p99"}


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    images: list[Path] = field(default_factory=list)


def _value(figure: str, value: float | None) -> str:
    if value is None:
        return "-"
    if figure == "throughput_per_s":
        return f"{value:.1f}"
    return f"{value * 1e3:.2f} ms"


def validation_rows(validation: Validation) -> tuple[list[str], list[list[str]]]:
    """The accuracy table: one row per level, measured -> predicted (error) per figure."""
    header = ["level", "rate/s", *[NAMES[f] for f in FIGURES]]
    rows = []
    for lv in sorted(validation.levels, key=lambda lv: lv.rate_per_s):
        cells = [f"{lv.level}{' (hold-out)' if lv.hold_out else ''}", f"{lv.rate_per_s:.1f}"]
        for f in FIGURES:
            error = lv.error(f)
            cells.append(f"{_value(f, lv.measured.get(f))} → {_value(f, lv.predicted.get(f))}" + (f" ({error:+.1%})" if error is not None else ""))
        rows.append(cells)
    return header, rows


def saturation_row(validation: Validation) -> tuple[list[str], list[list[str]]]:
    m = validation.saturation_measured_per_s
    error = validation.saturation_error
    return (["", "measured", "predicted", "error"],
            [["saturation throughput/s", f"{m:.1f}" if m else "-", f"{validation.saturation_predicted_per_s:.1f}", f"{error:+.1%}" if error is not None else "-"]])


def _fitted_row(name: str, fitted: Fitted) -> list[str]:
    return [name, fitted.describe(), fitted.source]


def build_sections(calibration: Calibration, validation: Validation, *, title_facts: list[str], deployment: list[str],
                   warnings: list[str], charts: list[Path], scenario_file: Path) -> list[Section]:
    verdicts = Section("Verdict", [("✅ " if v.met else "❌ " if v.met is False else "— ") + v.text() for v in validation.verdicts])
    accuracy = Section("Predicted vs measured", ["Measured → predicted (relative error) at each level; the hold-out level was not used for fitting."],
                       [validation_rows(validation), saturation_row(validation)], [c for c in charts if c.suffix == ".png"])
    params = [_fitted_row(f"{t}.{o} demand", f) for (t, o), f in calibration.parameters.demands.items()]
    params += [_fitted_row(f"{t}.{o} CV", f) for (t, o), f in calibration.parameters.cv.items()]
    if calibration.parameters.client_hop_s is None:
        params.append(_fitted_row("one-way cost per hop", calibration.parameters.hop_s))
    else:
        params.append(_fitted_row("one-way cost per hop between tiers", calibration.parameters.hop_s))
        params.append(_fitted_row("one-way cost per client round trip", calibration.parameters.client_hop_s))
    fitted = Section("Fitted parameters", [f"Written to `{scenario_file}`, each with this comment."], [(["parameter", "value ± standard error", "source"], params)])
    checks = [[c.quantity, c.primary.describe(), f"{c.other.describe()} ({c.other.source})", f"{c.relative_difference:+.1%}",
               {True: "agree", False: "DISAGREE", None: "error unknown"}[c.agrees]] for c in calibration.cross_checks]
    cross = Section("Cross-checks between estimators", ["Disagree means an effect, not noise: the two differ by more than twice their combined standard error "
                     "sqrt(se_a² + se_b²) and by more than 10% of the model's value."],
                    [(["quantity", "model (response-time estimator)", "other estimate", "difference", ""], checks)])
    setup = Section("Measurements", [*title_facts, *deployment])
    notes = Section("Warnings", warnings or ["none"])
    gaps = Section("What the model lacks", [*MODEL_GAPS, *calibration.structure.notes])
    return [verdicts, accuracy, fitted, cross, setup, notes, gaps]


def markdown(title: str, sections: list[Section], base: Path) -> str:
    lines = [f"# {title}", ""]
    for s in sections:
        lines += [f"## {s.title}", ""]
        lines += [f"- {p}" if len(s.paragraphs) > 1 else p for p in s.paragraphs]
        lines.append("")
        for header, rows in s.tables:
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
            lines.append("")
        lines += [f"![{image.stem}]({image.relative_to(base)})" for image in s.images]
        if s.images:
            lines.append("")
    return "\n".join(lines)


def render_html(title: str, sections: list[Section]) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:14px}"
             "th{background:#f3f3f3}img{max-width:100%}</style></head><body>", f"<h1>{html.escape(title)}</h1>"]
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        if len(s.paragraphs) > 1:
            parts.append("<ul>" + "".join(f"<li>{html.escape(p)}</li>" for p in s.paragraphs) + "</ul>")
        else:
            parts += [f"<p>{html.escape(p)}</p>" for p in s.paragraphs]
        for header, rows in s.tables:
            parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows]
            parts.append("</table>")
        for image in s.images:
            data = base64.b64encode(image.read_bytes()).decode("ascii")
            parts.append(f"<img alt='{html.escape(image.stem)}' src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(out_dir: Path, title: str, sections: list[Section]) -> tuple[Path, Path]:
    md, page = out_dir / "report.md", out_dir / "report.html"
    atomic_write(md, markdown(title, sections, out_dir))
    atomic_write(page, render_html(title, sections))
    return md, page
