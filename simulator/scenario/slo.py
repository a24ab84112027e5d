"""Service-level objectives as thresholds, in the manner of k6: ``p95<200ms``, ``errors<1%``.

A threshold is ``[CLASS.]METRIC OP VALUE``:

- ``METRIC``: a latency (``p50``, ``p90``, ``p95``, ``p99``, ``p99.9``, ``mean``, ``max``; VALUE a
  duration such as ``200ms``), ``errors`` (the error rate; VALUE ``1%`` or ``0.01``) or
  ``throughput`` (successful requests per second; VALUE ``100/s``);
- ``OP``: ``<``, ``<=``, ``>`` or ``>=``;
- ``CLASS.``: judge one request class (``browse.p95<100ms``) instead of all requests together.

A scenario's ``slo:`` is a list of such strings, or a mapping: ``{p95: 250ms, error_rate: 0.01}``
(bare values are upper bounds, ``<=``, except ``throughput``, a lower bound ``>=``) or
``{p95: "<200ms"}`` (explicit operators). ``archsim loadtest --threshold`` adds more. The simulator
measures its time-to-recovery against the same objective: :attr:`Slo.p95_s` and
:attr:`Slo.error_rate` (1% when the SLO names no error bound).
"""

from __future__ import annotations

import math
import operator
import re
from typing import Any, Callable

from pydantic import Field, model_validator

from ..strict import Strict
from ..units import parse_duration, parse_rate

LATENCY_KEYS = {"p50": "latency_p50_s", "p90": "latency_p90_s", "p95": "latency_p95_s", "p99": "latency_p99_s",
                "p99.9": "latency_p999_s", "p999": "latency_p999_s", "mean": "latency_mean_s", "max": "latency_max_s"}
OTHER_KEYS = {"errors": "error_rate", "error_rate": "error_rate", "throughput": "throughput_per_s"}
OPERATORS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
DEFAULT_RECOVERY_ERROR_RATE = 0.01  #: Error bound of the recovery measure when the SLO names none.

_PATTERN = re.compile(r"^\s*(?:(?P<cls>[A-Za-z0-9_.-]+?)\.)?(?P<metric>p99\.9|p\d+|mean|max|errors|error_rate|throughput)\s*(?P<op><=|>=|<|>)\s*(?P<value>\S.*?)\s*$")
EXPECTED = "a threshold such as 'p95<200ms', 'errors<1%', 'throughput>100/s' or 'browse.p99<=1s'"


class Threshold(Strict):
    """One pass/fail rule on a measured (or simulated) figure."""

    text: str = Field(description="as written, e.g. p95<200ms")
    metric: str = Field(description="p95, errors, throughput, ...")
    request_class: str | None = Field(default=None, description="one class, or None for all requests")
    op: str
    bound: float = Field(description="in seconds, as a fraction, or per second")

    @classmethod
    def parse(cls, text: str) -> "Threshold":
        if not isinstance(text, str):
            raise ValueError(f"expected {EXPECTED}, got {text!r}")
        match = _PATTERN.match(text)
        if not match:
            raise ValueError(f"expected {EXPECTED}, got {text[:80]!r}")
        metric = match["metric"]
        if metric not in LATENCY_KEYS and metric not in OTHER_KEYS:
            raise ValueError(f"unknown percentile {metric!r} in {text!r}: use p50, p90, p95, p99 or p99.9")
        return cls(text=text.strip(), metric=metric, request_class=match["cls"], op=match["op"],
                   bound=_bound(metric, match["value"], text))

    @property
    def summary_key(self) -> str:
        return LATENCY_KEYS.get(self.metric) or OTHER_KEYS[self.metric]

    def value_in(self, variant: dict[str, Any]) -> float | None:
        """The figure this threshold judges, from a ``summary.json`` variant block."""
        block = variant.get("overall", {}) if self.request_class is None else variant.get("classes", {}).get(self.request_class)
        if not isinstance(block, dict):
            return None
        item = block.get(self.summary_key)
        value = item.get("mean") if isinstance(item, dict) else item
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)

    def judge(self, variant: dict[str, Any]) -> dict[str, Any]:
        """``{threshold, value, passed}``; a figure that was not measured fails (no requests
        succeeded has no p95, and that is not a pass)."""
        value = self.value_in(variant)
        passed = value is not None and OPERATORS[self.op](value, self.bound)
        return {"threshold": self.text, "metric": self.metric, "class": self.request_class, "op": self.op,
                "bound": self.bound, "value": value, "passed": passed}


def _bound(metric: str, value: str, text: str) -> float:
    try:
        if metric in LATENCY_KEYS:
            bound = parse_duration(value)
        elif metric in ("errors", "error_rate"):
            bound = float(value[:-1]) / 100 if value.endswith("%") else float(value)
            if not 0 <= bound <= 1:
                raise ValueError("an error rate is between 0% and 100%")
        else:
            bound = parse_rate(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"bad value {value!r} in threshold {text!r}: {exc}") from None
    if not math.isfinite(bound) or bound < 0:
        raise ValueError(f"bad value {value!r} in threshold {text!r}: must be finite and >= 0")
    return bound


def _from_mapping(data: dict[str, Any]) -> list[str]:
    texts = []
    for key, value in data.items():
        metric = str(key)
        if metric not in LATENCY_KEYS and metric not in OTHER_KEYS and "." not in metric:
            raise ValueError(f"unknown SLO metric {metric!r}: use p50, p90, p95, p99, p99.9, mean, max, errors or throughput")
        shown = str(value).strip()
        if shown[:1] in "<>":
            texts.append(f"{metric}{shown}")
        else:
            if metric in ("errors", "error_rate") and isinstance(value, (int, float)) and not isinstance(value, bool):
                shown = repr(float(value))
            texts.append(f"{metric}{'>=' if metric.endswith('throughput') else '<='}{shown}")
    return texts


def _slo_as_written(schema: dict[str, Any]) -> None:
    """The JSON Schema of ``slo:`` as a user writes it (a list of threshold strings, one string, or
    a mapping of metric to bound), not the parsed form the model holds."""
    threshold = {"type": "string", "pattern": re.sub(r"\(\?P<\w+>", "(", _PATTERN.pattern),  # ECMA-262: no named groups
                 "examples": ["p95<200ms", "errors<1%", "browse.p99<=1s"]}
    description = schema.get("description", "")
    schema.clear()
    schema.update({
        "description": description,
        "anyOf": [
            {"type": "array", "items": threshold, "minItems": 1},
            threshold,
            {"type": "object", "minProperties": 1,
             "additionalProperties": {"type": ["string", "number"]},
             "examples": [{"p95": "250ms", "error_rate": 0.01}, {"p95": "<200ms", "throughput": ">=100/s"}]},
        ],
    })


class Slo(Strict):
    """A scenario's ``slo:``: thresholds a run passes or fails."""

    model_config = {**Strict.model_config, "json_schema_extra": _slo_as_written}

    thresholds: list[Threshold] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _read(cls, value: Any) -> Any:
        if isinstance(value, dict) and "thresholds" in value and isinstance(value["thresholds"], list) \
                and all(isinstance(t, Threshold) for t in value["thresholds"]):
            return value
        if isinstance(value, str):
            value = [value]
        if isinstance(value, dict):
            value = _from_mapping(value)
        if not isinstance(value, list) or not value:
            raise ValueError("expected a list of thresholds such as ['p95<200ms', 'errors<1%'], or a mapping such as {p95: 200ms}")
        return {"thresholds": [t if isinstance(t, Threshold) else Threshold.parse(t) for t in value]}

    def _overall(self, *metrics: str) -> Threshold | None:
        return next((t for t in self.thresholds if t.request_class is None and t.metric in metrics and t.op in ("<", "<=")), None)

    @property
    def p95_s(self) -> float:
        """The overall p95 bound (infinite when the SLO has none): the simulator's recovery measure."""
        found = self._overall("p95")
        return found.bound if found else math.inf

    @property
    def error_rate(self) -> float:
        """The overall error-rate bound (1% when the SLO has none): the simulator's recovery measure."""
        found = self._overall("errors", "error_rate")
        return found.bound if found else DEFAULT_RECOVERY_ERROR_RATE


def parse_thresholds(texts: list[str], option: str = "--threshold") -> list[Threshold]:
    """CLI thresholds; a bad one raises ``ValueError`` naming it."""
    out = []
    for text in texts:
        try:
            out.append(Threshold.parse(text))
        except ValueError as exc:
            raise ValueError(f"{option} {text!r}: {exc}") from None
    return out
