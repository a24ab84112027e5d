"""Quantities with units, written the way people write them: ``250ms``, ``1.5m``, ``512MB``, ``100/s``.

Scenario files carry units in strings so that a reader never has to guess whether ``10`` means
seconds or milliseconds. Everything is converted once, at load time, to one internal unit per
dimension: seconds, megabytes (10^6 bytes), and events per second. Plain YAML numbers are accepted
and read in those internal units (``duration: 600`` is 600 s); a *string* without a unit, as in
``exp(10)``, is an error, because it is usually a forgotten ``ms``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from .suggest import quoted

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-zµ/]*)\s*$")

#: Seconds per duration unit.
DURATION_UNITS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}

#: Megabytes per size unit (decimal and binary prefixes).
SIZE_UNITS: dict[str, float] = {
    "B": 1e-6,
    "KB": 1e-3,
    "kB": 1e-3,
    "MB": 1.0,
    "GB": 1e3,
    "TB": 1e6,
    "KiB": 1024 / 1e6,
    "MiB": 1024**2 / 1e6,
    "GiB": 1024**3 / 1e6,
    "TiB": 1024**4 / 1e6,
}

#: Events per second for each rate denominator.
RATE_UNITS: dict[str, float] = {"ms": 1e3, "s": 1.0, "sec": 1.0, "m": 1 / 60, "min": 1 / 60, "h": 1 / 3600}

#: Megabytes per second for each bandwidth unit.
BANDWIDTH_UNITS: dict[str, float] = {
    "MB/s": 1.0,
    "GB/s": 1e3,
    "KB/s": 1e-3,
    "MiB/s": 1024**2 / 1e6,
    "GiB/s": 1024**3 / 1e6,
    "Mbit/s": 0.125,
    "Gbit/s": 125.0,
    "Mbps": 0.125,
    "Gbps": 125.0,
}


def _read(value: object, example: str, unit_to_factor: Callable[[str, str], float], pattern: re.Pattern[str] = _QUANTITY) -> float:
    """A plain number (already in the internal unit) or ``<number><unit>`` converted by ``unit_to_factor``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected {example}")
    if not isinstance(value, str):
        number = _finite(value, value, example)
        return number
    match = pattern.match(value)
    if not match:
        raise ValueError(f"cannot read {quoted(value, 60)} as a number with a unit: expected {example}")
    number, unit = _finite(match.group(1), value, example), match.group(2)
    if unit == "":
        # A bare YAML number is read in the internal unit, but a string without a unit is almost
        # always a slip (``exp(10)`` meant 10 ms?): ask for the unit.
        raise ValueError(f"{quoted(value, 60)} has no unit: expected {example}")
    return _finite(number * unit_to_factor(unit, value), value, example)


def _finite(number: object, text: object, example: str) -> float:
    """``number`` as a finite float; NaN, ±infinity and overflowing values are refused."""
    try:
        result = float(number)  # type: ignore[arg-type]
    except OverflowError:
        result = math.inf
    if not math.isfinite(result):
        raise ValueError(f"{quoted(text, 60)} is not a finite number: expected {example}")
    return result


def _lookup(table: dict[str, float], kind: str, choices: str) -> Callable[[str, str], float]:
    def factor(unit: str, text: str) -> float:
        if unit not in table:
            raise ValueError(f"unknown {kind} unit {quoted(unit, 40)} in {quoted(text, 60)}: use one of {choices}")
        return table[unit]

    return factor


_duration_factor = _lookup(DURATION_UNITS, "duration", "ns, us, ms, s, m, h")
_size_factor = _lookup(SIZE_UNITS, "size", "B, KB, MB, GB, MiB, GiB")


def _rate_factor(unit: str, text: str) -> float:
    if not unit.startswith("/") or unit[1:] not in RATE_UNITS:
        raise ValueError(f"unknown rate unit {quoted(unit, 40)} in {quoted(text, 60)}: use /s, /min, /h or /ms")
    return RATE_UNITS[unit[1:]]


_BANDWIDTH = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z]+/s|[A-Za-z]+ps)?\s*$")
_bandwidth_factor = _lookup(BANDWIDTH_UNITS, "bandwidth", "MB/s, GB/s, MiB/s, Mbit/s, Gbit/s")


def parse_duration(value: object) -> float:
    """Seconds from ``'250ms'``, ``'2s'``, ``'1.5m'``, ``'1h'`` or a plain number of seconds."""
    return _read(value, "a duration like '250ms' or '2s'", _duration_factor)


def parse_size_mb(value: object) -> float:
    """Megabytes from ``'512MB'``, ``'1.5GB'``, ``'200MiB'`` or a plain number of megabytes."""
    return _read(value, "a size like '512MB' or '2GB'", _size_factor)


def parse_rate(value: object) -> float:
    """Events per second from ``'100/s'``, ``'6000/min'``, ``'2/ms'`` or a plain number per second."""
    return _read(value, "a rate like '100/s'", _rate_factor)


def parse_bandwidth_mb_s(value: object) -> float:
    """Megabytes per second from ``'100MB/s'``, ``'1Gbit/s'`` or a plain number of MB/s."""
    return _read(value, "a bandwidth like '100MB/s' or '1Gbit/s'", _bandwidth_factor, _BANDWIDTH)


def duration_option_s(option: str, text: str | None) -> float | None:
    """A command-line duration (``--duration 30s``) in seconds, positive; ``None`` stays ``None``.

    Bad input is one line naming the option (exit code 2), as for every user error."""
    from .errors import ArchsimError

    if text is None:
        return None
    try:
        value = parse_duration(text)
    except (ValueError, TypeError) as exc:
        raise ArchsimError(f"{option}: expected a duration such as 15s or 2m, got {text!r} ({exc})") from None
    if value <= 0:
        raise ArchsimError(f"{option}: must be positive, got {text!r}")
    return value
