"""Whether a measured run measured what it was asked to, and whether it met its thresholds.

Three judgements, in this order:

1. **The target answered** (status ``error`` if not). A run of connection failures with no
   success between (an *outage*, :mod:`.recording`) means the target stopped answering: the run
   says when, whether it came back, and how many requests failed meanwhile. Nothing succeeding at
   all is an error too.
2. **The generator kept up** (status ``invalid`` if not, unless ``--allow-late``): an open-model
   run whose generator sent fewer than ``MIN_SENT_RATIO`` of the arrivals the schedule drew in the
   measurement window, or sent more than ``MAX_LATE_SHARE`` of them late, did not offer the load
   the scenario describes, so its figures are not figures of that load.
3. **Thresholds** (``slo:`` and ``--threshold``): each passes or fails.

Exit codes follow: 0 ok and every threshold passed; 1 a threshold failed, the run is invalid or
the target failed; 2 bad input; 130 Ctrl-C.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ArchsimError
from ..scenario.slo import Threshold
from .plan import LoadPlan

MIN_SENT_RATIO = 0.97  #: Open model: sent / scheduled arrivals below this means the generator fell behind.
MAX_LATE_SHARE = 0.05  #: Open model: more late arrivals than this means the generator fell behind.

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class RunFailed(ArchsimError):
    """The run could not measure the target (it refused or died, or Locust failed); what was
    measured is kept in ``run_dir``."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, run_dir: Path | None = None, summary: dict[str, Any] | None = None):
        super().__init__(message)
        self.run_dir = run_dir
        self.summary = summary


class TargetDown(RunFailed):
    """The target refused the first connection: nothing was sent."""


@dataclass
class Verdict:
    status: str  #: ``ok``, ``invalid`` or ``error``.
    problems: list[str] = field(default_factory=list)
    outages: list[dict[str, Any]] = field(default_factory=list)
    generator: dict[str, Any] = field(default_factory=dict)
    thresholds: list[dict[str, Any]] = field(default_factory=list)

    @property
    def thresholds_passed(self) -> bool:
        return all(t["passed"] for t in self.thresholds)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "problems": self.problems, "outages": self.outages,
                "generator": self.generator, "thresholds": self.thresholds, "thresholds_passed": self.thresholds_passed}


def describe_outage(outage: dict[str, Any]) -> str:
    when = f"{outage['from_s']:.1f} s"
    failed = f"{outage['failed_requests']:,} request(s) failed"
    if outage["to_s"] is None:
        return f"the target stopped answering at {when} and did not come back ({outage['error']}); {failed} after it"
    return f"the target did not answer from {when} to {outage['to_s']:.1f} s ({outage['error']}); {failed} meanwhile"


def _number(value: Any) -> float | None:
    if isinstance(value, dict):
        value = value.get("mean")
    return None if value is None else float(value)


def judge(variant: dict[str, Any], plan: LoadPlan, record: dict[str, Any], thresholds: list[Threshold],
          *, allow_late: bool = False) -> Verdict:
    """The verdict on one measured variant block (and the merged record it came from)."""
    verdict = Verdict(status="ok", outages=list(record.get("outages", [])))
    for outage in verdict.outages:
        verdict.problems.append(describe_outage(outage))
    overall = variant.get("overall", {})
    requests, successes = _number(overall.get("requests")) or 0, _number(overall.get("successes")) or 0
    if requests and not successes and not verdict.outages:
        first = next(iter(record.get("failures", {})), "failed")
        verdict.problems.append(f"no request succeeded ({first})")
    if verdict.problems:
        verdict.status = "error"
    extras = variant.get("extras", {})
    if plan.model == "open":
        sent_ratio = _number(extras.get("sent_ratio"))
        late_share = _number((extras.get("pacing") or {}).get("late_share")) or 0.0
        behind = []
        if sent_ratio is not None and sent_ratio < MIN_SENT_RATIO:
            behind.append(f"sent {sent_ratio:.1%} of the scheduled arrivals (at least {MIN_SENT_RATIO:.0%} needed)")
        if late_share > MAX_LATE_SHARE:
            behind.append(f"{late_share:.1%} of arrivals were sent late (at most {MAX_LATE_SHARE:.0%} allowed)")
        cpu = extras.get("generator") or {}
        busiest = _number(cpu.get("busiest_process_share"))
        verdict.generator = {"fell_behind": bool(behind), "allowed": allow_late, "reasons": behind,
                             "busiest_process_share": busiest}
        if behind and verdict.status == "ok":
            hint = " (a Locust process was at {:.0%} of a core: add --workers)".format(busiest) if busiest and busiest >= 0.9 else \
                " (raise --users or --latency-bound, lower the rate, or add --workers)"
            message = "the load generator fell behind: " + "; ".join(behind) + hint
            if allow_late:
                verdict.generator["warning"] = message
            else:
                verdict.status = "invalid"
                verdict.problems.append(message + "; --allow-late accepts the run anyway")
    verdict.thresholds = [t.judge(variant) for t in thresholds]
    return verdict


def exit_code(summary: dict[str, Any]) -> int:
    """The process exit code a finished run's summary calls for."""
    if summary.get("status") == "interrupted":
        return EXIT_INTERRUPTED
    return EXIT_OK if summary.get("passed") else EXIT_FAILED
