"""One way to write figures for people: durations, rates, shares, money and their 95% intervals.

The CLI table, ``archsim compare``, the HTML and Markdown reports and the charts all write numbers
through this module, so a p95 reads ``7.26 ms ± 0.23`` everywhere, never ``7.26ms ±233us`` in one
place and ``0.00726`` in another. The rules:

- three significant digits (never fewer decimals than zero: ``2,844/s``);
- a duration takes the unit that puts it between 1 and 1000 (µs, ms, s), then min and h;
- the interval is written in the mean's unit and to the mean's decimal places, after ``±``; an
  interval that rounds to zero there is left out (every replication agreed: the figure is exact);
- a missing figure is ``–``.

A leaf module: it imports nothing from the package.
"""

from __future__ import annotations

import math

SIGNIFICANT = 3  #: Significant digits of every figure.
MISSING = "–"  #: A figure the run does not have.

#: (upper bound in seconds, seconds per unit, unit), in order: the first bound above |x| wins.
DURATION_UNITS = ((1e-3, 1e-6, "µs"), (1.0, 1e-3, "ms"), (120.0, 1.0, "s"), (7200.0, 60.0, "min"), (math.inf, 3600.0, "h"))


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def decimals_for(value: float, significant: int = SIGNIFICANT) -> int:
    """Decimal places that show ``value`` with ``significant`` significant digits (never negative)."""
    if value == 0 or not math.isfinite(value):
        return significant - 1
    rounded = float(f"{abs(value):.{significant}g}")  # 0.9996 rounds to 1.00: two places, not three
    return max(0, significant - 1 - math.floor(math.log10(rounded)))


def with_ci(mean: float, ci95: float | None, decimals: int, unit: str = "", prefix: str = "") -> str:
    """``prefix mean unit ± ci`` with both at ``decimals`` places; no ``±`` when the CI rounds to zero.

    A zero-width interval (every replication agrees, or floating-point noise such as 1.4e-15) is
    shown as the exact figure, never as ``± 0`` or ``± 1.4e-15``.
    """
    text = f"{prefix}{mean:,.{decimals}f}{unit}"
    if ci95 is None or not math.isfinite(ci95) or round(abs(ci95), decimals) == 0:
        return text
    return f"{text} ± {abs(ci95):,.{decimals}f}"


def duration_unit(seconds: float) -> tuple[float, str]:
    """(seconds per unit, unit) that writes ``seconds`` as 1-999: (1e-3, "ms") for 0.0726."""
    size = abs(seconds)
    for bound, per_unit, unit in DURATION_UNITS:
        if size < bound * (1 - 5e-4):  # 0.9996 s is "1.00 s", not "1,000 ms"
            return per_unit, unit
    return DURATION_UNITS[-1][1:]


def duration(seconds: float | None, ci95: float | None = None) -> str:
    """``7.26 ms ± 0.23``, ``1.10 s ± 0.67``, ``850 µs``, ``2.50 min``; ``0 s`` for zero."""
    if _missing(seconds):
        return MISSING
    if seconds == 0 and not ci95:
        return "0 s"
    per_unit, unit = duration_unit(seconds if seconds else (ci95 or 0.0))
    mean = seconds / per_unit
    return with_ci(mean, ci95 / per_unit if ci95 is not None else None, decimals_for(mean), f" {unit}")


def rate(per_s: float | None, ci95: float | None = None) -> str:
    """``298/s ± 4``, ``2,844/s``, ``12.3/s``."""
    if _missing(per_s):
        return MISSING
    if per_s == 0 and not ci95:
        return "0/s"
    return with_ci(per_s, ci95, decimals_for(per_s), "/s")


def percent(fraction: float | None, ci95: float | None = None) -> str:
    """A share as ``7.10% ± 0.05``, ``50.2%``, ``99.95%`` (two decimals near 100%), ``0%``."""
    if _missing(fraction):
        return MISSING
    value = fraction * 100
    if value == 0 and not ci95:
        return "0%"
    places = 2 if abs(value) >= 99 else min(2, decimals_for(value))
    if round(value, places) == 100 and not ci95:
        return "100%"
    return with_ci(value, ci95 * 100 if ci95 is not None else None, places, "%")


def money(usd: float | None, ci95: float | None = None) -> str:
    """``$0.33 ± 0.01``, ``$1,234.50``; three significant digits below ten cents (``$0.00421``)."""
    if _missing(usd):
        return MISSING
    places = 2 if abs(usd) >= 0.1 or usd == 0 else decimals_for(usd)
    return with_ci(usd, ci95, places, prefix="$")


def number(value: float | None, ci95: float | None = None) -> str:
    """A plain figure: an exact whole number as is (``7``), anything else to three significant digits."""
    if _missing(value):
        return MISSING
    if float(value).is_integer() and not ci95:
        return f"{int(value):,}"
    return with_ci(value, ci95, decimals_for(value))


def relative(change: float | None) -> str:
    """A relative change as ``+12.3%`` / ``−4.56%`` (a true minus sign), ``±0%`` for none."""
    if _missing(change):
        return MISSING
    value = change * 100
    if value == 0:
        return "±0%"
    text = f"{abs(value):,.{min(2, decimals_for(value))}f}%"
    return ("+" if value > 0 else "−") + text


def unit_of(name: str) -> str:
    """The unit a field's name declares: ``latency_p95_s`` -> ``s``, ``throughput_per_s`` -> ``/s``,
    ``error_rate`` / ``*_fraction`` -> ``%``, ``*_usd`` -> ``usd``, anything else plain."""
    leaf = name.rsplit(".", 1)[-1]
    if leaf.endswith("_per_s"):
        return "/s"
    if leaf.endswith("_s"):
        return "s"
    if leaf.endswith("_usd"):
        return "usd"
    if leaf in ("error_rate", "availability", "utilisation") or leaf.endswith(("_fraction", "_ratio")):
        return "%"
    return ""


#: Measure unit -> formatter (``s``, ``/s``, ``%``, ``usd`` or a plain number).
BY_UNIT = {"s": duration, "/s": rate, "%": percent, "usd": money, "": number}


def figure(mean: float | None, ci95: float | None = None, unit: str = "") -> str:
    """``mean ± ci95`` in ``unit`` (one of :data:`BY_UNIT`)."""
    return BY_UNIT.get(unit, number)(mean, ci95)
