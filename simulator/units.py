"""Quantities with units, written the way people write them: ``250ms``, ``1.5m``, ``512MB``, ``100/s``.

Scenario files carry units in strings so that a reader never has to guess whether ``10`` means
seconds or milliseconds. Everything is converted once, at load time, to one internal unit per
dimension: seconds, megabytes (10^6 bytes), and events per second. Plain numbers are accepted and
read in those internal units.
"""

from __future__ import annotations

import re

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


def _split(text: str) -> tuple[float, str]:
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"cannot read {text!r} as a number with a unit")
    return float(match.group(1)), match.group(2)


def parse_duration(value: object) -> float:
    """Seconds from ``'250ms'``, ``'2s'``, ``'1.5m'``, ``'1h'`` or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '250ms' or '2s'")
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        raise ValueError("expected a duration like '250ms' or '2s'")
    number, unit = _split(value)
    if unit == "":
        return number
    if unit not in DURATION_UNITS:
        raise ValueError(f"unknown duration unit {unit!r} in {value!r}: use one of ns, us, ms, s, m, h")
    return number * DURATION_UNITS[unit]


def parse_size_mb(value: object) -> float:
    """Megabytes from ``'512MB'``, ``'1.5GB'``, ``'200MiB'`` or a plain number of megabytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size like '512MB' or '2GB'")
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        raise ValueError("expected a size like '512MB' or '2GB'")
    number, unit = _split(value)
    if unit == "":
        return number
    if unit not in SIZE_UNITS:
        raise ValueError(f"unknown size unit {unit!r} in {value!r}: use one of B, KB, MB, GB, MiB, GiB")
    return number * SIZE_UNITS[unit]


def parse_rate(value: object) -> float:
    """Events per second from ``'100/s'``, ``'6000/min'``, ``'2/ms'`` or a plain number per second."""
    if isinstance(value, bool):
        raise ValueError("expected a rate like '100/s'")
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        raise ValueError("expected a rate like '100/s'")
    number, unit = _split(value)
    if unit == "":
        return number
    if not unit.startswith("/") or unit[1:] not in RATE_UNITS:
        raise ValueError(f"unknown rate unit {unit!r} in {value!r}: use /s, /min, /h or /ms")
    return number * RATE_UNITS[unit[1:]]


def parse_bandwidth_mb_s(value: object) -> float:
    """Megabytes per second from ``'100MB/s'``, ``'1Gbit/s'`` or a plain number of MB/s."""
    if isinstance(value, bool):
        raise ValueError("expected a bandwidth like '100MB/s'")
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        raise ValueError("expected a bandwidth like '100MB/s'")
    match = re.match(rf"^\s*({_NUMBER})\s*([A-Za-z]+/s|[A-Za-z]+ps)\s*$", value)
    if not match or match.group(2) not in BANDWIDTH_UNITS:
        raise ValueError(f"cannot read {value!r} as a bandwidth: use e.g. '100MB/s' or '1Gbit/s'")
    return float(match.group(1)) * BANDWIDTH_UNITS[match.group(2)]


def format_duration(seconds: float) -> str:
    """A short human form of a duration: ``0.0123 -> '12.3ms'``."""
    if seconds != seconds:  # NaN
        return "-"
    a = abs(seconds)
    if a == 0:
        return "0s"
    if a < 1e-3:
        return f"{seconds * 1e6:.3g}us"
    if a < 1:
        return f"{seconds * 1e3:.3g}ms"
    if a < 120:
        return f"{seconds:.3g}s"
    if a < 7200:
        return f"{seconds / 60:.3g}m"
    return f"{seconds / 3600:.3g}h"
