"""A fitted number: its value, its standard error, and where it came from."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Fitted:
    """One fitted parameter (seconds, or a dimensionless ratio such as a CV)."""

    value: float
    std_error: float | None  #: None when the data cannot say (e.g. a parameter the design does not identify).
    source: str  #: Estimator and evidence, e.g. ``response-time estimator over 6 runs``.
    unit: str = "s"

    @property
    def relative_error(self) -> float | None:
        """Standard error relative to the value (None when unknown or the value is zero)."""
        if self.std_error is None or not self.value:
            return None
        return self.std_error / abs(self.value)

    @property
    def identified(self) -> bool:
        """Whether the data pin the value down: a finite standard error under the value itself."""
        return self.std_error is not None and math.isfinite(self.std_error) and self.std_error < max(abs(self.value), 1e-12)

    def describe(self) -> str:
        """``1.02 ms ± 0.03 ms (3%)``-style text for comments and reports."""
        shown = _quantity(self.value, self.unit)
        if self.std_error is None or not math.isfinite(self.std_error):
            return f"{shown}, standard error unknown"
        relative = self.relative_error
        share = f" ({relative:.0%})" if relative is not None and relative < 10 else ""
        return f"{shown} ± {_quantity(self.std_error, self.unit)}{share}"

    def to_json(self) -> dict[str, object]:
        return {"value": self.value, "std_error": self.std_error, "source": self.source, "unit": self.unit}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> "Fitted":
        error = data.get("std_error")
        return cls(float(data["value"]), None if error is None else float(error), str(data["source"]), str(data.get("unit", "s")))


def _quantity(value: float, unit: str) -> str:
    if unit != "s":
        return f"{value:.3g}"
    magnitude = abs(value)
    if magnitude >= 1:
        return f"{value:.3g} s"
    if magnitude >= 1e-3 or magnitude == 0:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} µs"
