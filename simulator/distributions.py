"""Probability distributions for service times, think times, latencies and start-up phases.

Each distribution is a small validated pydantic model with its analytic ``mean`` and ``variance``
(so the analytic module and the tests can compare against theory) and a ``sampler(rng)`` that
returns a zero-argument callable producing the next draw. Samplers draw in NumPy batches and hand
out one Python float at a time: one vectorised call per few thousand draws instead of one NumPy
call per draw, which is where SimPy models usually lose time.

Scenario files may write a distribution as a mapping (``{type: exponential, mean: 10ms}``) or as
a short form: ``exp(10ms)``, ``const(5ms)`` (or a bare duration ``5ms``), ``lognormal(10ms, cv=1.5)``,
``gamma(10ms, cv=0.5)``, ``erlang(10ms, k=3)``, ``uniform(5ms, 15ms)``, ``empirical(1ms, 2ms, 9ms)``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from .strict import STRICT_CONFIG, Strict
from .suggest import quoted
from .units import parse_duration

#: How many draws a sampler takes from NumPy at a time.
BATCH = 4096

Sampler = Callable[[], float]


def batched(draw: Callable[[int], np.ndarray]) -> Sampler:
    """Turn ``draw(n) -> array`` into a fast zero-argument sampler (the one batched-draw helper:
    every sequential stream of the engine, distributions and platforms goes through it)."""

    def stream() -> Iterator[float]:
        while True:
            yield from draw(BATCH).tolist()

    return stream().__next__


def uniforms(rng: np.random.Generator) -> Sampler:
    """Uniform(0, 1) draws from ``rng``, batched."""
    return batched(rng.random)


def _seconds(value: object) -> float:
    return parse_duration(value)


Seconds = Annotated[float, BeforeValidator(_seconds), Field(json_schema_extra={"examples": ["10ms", "2s"]})]

MAX_CV = 100.0  #: Largest coefficient of variation accepted (beyond it a lognormal or gamma degenerates).
MIN_GAMMA_CV = 1e-3  #: Smallest gamma CV (shape 10^6); for no variation use ``const(...)``.
MAX_EMPIRICAL_VALUES = 100_000  #: Most measured values an ``empirical`` distribution holds.


class _Distribution(Strict):
    """Every parameter finite (the strict base) and in its domain (each field's bounds)."""

    model_config = ConfigDict(**{**STRICT_CONFIG, "frozen": True})

    @property
    def mean(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def variance(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def cv(self) -> float:
        """Coefficient of variation, sqrt(variance) / mean."""
        return math.sqrt(self.variance) / self.mean if self.mean > 0 else 0.0

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover - overridden
        """``n`` draws, written as ``scale * standard variate`` (NumPy's location-scale forms), so
        a distribution of the same family and shape but another scale turns the same random
        numbers into proportional values: common random numbers survive :meth:`scaled`."""
        raise NotImplementedError

    def sampler(self, rng: np.random.Generator) -> Sampler:
        """A zero-argument sampler drawing from ``rng`` in batches."""
        return batched(lambda n: self.draw(rng, n))

    def scaled(self, factor: float) -> "Distribution":
        """The same shape with every value multiplied by ``factor`` (used by calibration and styles)."""
        raise NotImplementedError


class Exponential(_Distribution):
    """Memoryless: the service time of M/M/c queues. ``mean`` = 1/rate."""

    type: Literal["exponential"] = "exponential"
    mean_s: Seconds = Field(alias="mean", gt=0)

    @property
    def mean(self) -> float:
        return self.mean_s

    @property
    def variance(self) -> float:
        return self.mean_s * self.mean_s  # a product overflows to inf; ** would raise

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.mean_s * rng.standard_exponential(n)

    def scaled(self, factor: float) -> "Exponential":
        return Exponential(mean=self.mean_s * factor)


class Deterministic(_Distribution):
    """A constant: M/D/1 service, fixed network latency, fixed boot time."""

    type: Literal["deterministic"] = "deterministic"
    value_s: Seconds = Field(alias="value", ge=0)

    @property
    def mean(self) -> float:
        return self.value_s

    @property
    def variance(self) -> float:
        return 0.0

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value_s)

    def sampler(self, rng: np.random.Generator) -> Sampler:
        value = self.value_s
        return lambda: value

    def scaled(self, factor: float) -> "Deterministic":
        return Deterministic(value=self.value_s * factor)


class LogNormal(_Distribution):
    """Right-skewed service times (typical of real request latencies), given by mean and CV."""

    type: Literal["lognormal"] = "lognormal"
    mean_s: Seconds = Field(alias="mean", gt=0)
    cv_: float = Field(alias="cv", gt=0, le=MAX_CV, description="coefficient of variation, stddev/mean")

    @property
    def mean(self) -> float:
        return self.mean_s

    @property
    def variance(self) -> float:
        sd = self.cv_ * self.mean_s
        return sd * sd

    def _params(self) -> tuple[float, float]:
        sigma2 = math.log(1 + self.cv_**2)
        return math.log(self.mean_s) - sigma2 / 2, math.sqrt(sigma2)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        mu, sigma = self._params()
        return np.exp(mu + sigma * rng.standard_normal(n))

    def scaled(self, factor: float) -> "LogNormal":
        return LogNormal(mean=self.mean_s * factor, cv=self.cv_)


class Gamma(_Distribution):
    """Gamma by mean and CV; CV < 1 is smoother than exponential, CV > 1 burstier."""

    type: Literal["gamma"] = "gamma"
    mean_s: Seconds = Field(alias="mean", gt=0)
    cv_: float = Field(alias="cv", ge=MIN_GAMMA_CV, le=MAX_CV)

    @property
    def mean(self) -> float:
        return self.mean_s

    @property
    def variance(self) -> float:
        sd = self.cv_ * self.mean_s
        return sd * sd

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        shape = 1 / self.cv_**2
        return (self.mean_s / shape) * rng.standard_gamma(shape, n)

    def scaled(self, factor: float) -> "Gamma":
        return Gamma(mean=self.mean_s * factor, cv=self.cv_)


class Erlang(_Distribution):
    """Sum of ``k`` exponential phases with total mean ``mean``: CV = 1/sqrt(k)."""

    type: Literal["erlang"] = "erlang"
    mean_s: Seconds = Field(alias="mean", gt=0)
    k: int = Field(ge=1, le=1_000_000)

    @property
    def mean(self) -> float:
        return self.mean_s

    @property
    def variance(self) -> float:
        return self.mean_s * self.mean_s / self.k

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return (self.mean_s / self.k) * rng.standard_gamma(self.k, n)

    def scaled(self, factor: float) -> "Erlang":
        return Erlang(mean=self.mean_s * factor, k=self.k)


class Uniform(_Distribution):
    """Uniform between ``low`` and ``high``."""

    type: Literal["uniform"] = "uniform"
    low_s: Seconds = Field(alias="low", ge=0)
    high_s: Seconds = Field(alias="high", ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> "Uniform":
        if self.high_s < self.low_s:
            raise ValueError("high must be >= low")
        return self

    @property
    def mean(self) -> float:
        return (self.low_s + self.high_s) / 2

    @property
    def variance(self) -> float:
        width = self.high_s - self.low_s
        return width * width / 12

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.low_s + (self.high_s - self.low_s) * rng.random(n)

    def scaled(self, factor: float) -> "Uniform":
        return Uniform(low=self.low_s * factor, high=self.high_s * factor)


class Empirical(_Distribution):
    """Resamples measured values with equal probability (e.g. service times from a load test)."""

    type: Literal["empirical"] = "empirical"
    values_s: list[Annotated[float, BeforeValidator(_seconds), Field(ge=0)]] = Field(
        alias="values", min_length=1, max_length=MAX_EMPIRICAL_VALUES
    )

    @property
    def mean(self) -> float:
        return float(np.mean(self.values_s))

    @property
    def variance(self) -> float:
        return float(np.var(self.values_s))

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        values = np.asarray(self.values_s, dtype=float)
        return values[(rng.random(n) * len(values)).astype(np.intp).clip(0, len(values) - 1)]

    def scaled(self, factor: float) -> "Empirical":
        return Empirical(values=[v * factor for v in self.values_s])


_SHORT = re.compile(r"^\s*([a-z_]+)\s*\((.*)\)\s*$")
_ALIASES = {
    "exp": "exponential",
    "exponential": "exponential",
    "const": "deterministic",
    "constant": "deterministic",
    "det": "deterministic",
    "deterministic": "deterministic",
    "lognormal": "lognormal",
    "gamma": "gamma",
    "erlang": "erlang",
    "uniform": "uniform",
    "empirical": "empirical",
}
_POSITIONAL = {
    "exponential": ["mean"],
    "deterministic": ["value"],
    "lognormal": ["mean", "cv"],
    "gamma": ["mean", "cv"],
    "erlang": ["mean", "k"],
    "uniform": ["low", "high"],
}


def _parse_short(value: object) -> object:
    """Expand ``'exp(10ms)'``-style strings and bare durations into mappings."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"type": "deterministic", "value": value}
    if not isinstance(value, str):
        return value
    match = _SHORT.match(value)
    if not match and "(" in value and ")" not in value:
        raise ValueError(
            f"{quoted(value, 80)} looks like a distribution cut at a comma: inside a YAML {{...}} mapping, quote it, e.g. \"gamma(8ms, cv=0.5)\""
        )
    if not match:
        parse_duration(value)  # raises a clear error if it is not a duration either
        return {"type": "deterministic", "value": value}
    name, args = match.group(1), [a.strip() for a in match.group(2).split(",") if a.strip()]
    if name not in _ALIASES:
        raise ValueError(f"unknown distribution {quoted(name, 60)}: use one of {', '.join(sorted(set(_ALIASES.values())))}")
    kind = _ALIASES[name]
    if kind == "empirical":
        return {"type": kind, "values": args}
    out: dict[str, object] = {"type": kind}
    positional = _POSITIONAL[kind]
    for i, arg in enumerate(args):
        if "=" in arg:
            key, val = (s.strip() for s in arg.split("=", 1))
        elif i < len(positional):
            key, val = positional[i], arg
        else:
            raise ValueError(f"too many arguments in {quoted(value, 80)}: {name}() takes {', '.join(positional)}")
        if key in out:
            raise ValueError(f"argument {quoted(key, 40)} given twice in {quoted(value, 80)}")
        out[key] = val
    return out


def _discriminate(value: object) -> str | None:
    if isinstance(value, dict):
        kind = value.get("type")
        return _ALIASES.get(kind, kind) if isinstance(kind, str) else None
    return getattr(value, "type", None)


def _normalise_type(value: object) -> object:
    value = _parse_short(value)
    if isinstance(value, dict) and isinstance(value.get("type"), str) and value["type"] in _ALIASES:
        value = {**value, "type": _ALIASES[value["type"]]}
    return value


Distribution = Annotated[
    Union[
        Annotated[Exponential, Tag("exponential")],
        Annotated[Deterministic, Tag("deterministic")],
        Annotated[LogNormal, Tag("lognormal")],
        Annotated[Gamma, Tag("gamma")],
        Annotated[Erlang, Tag("erlang")],
        Annotated[Uniform, Tag("uniform")],
        Annotated[Empirical, Tag("empirical")],
    ],
    Discriminator(
        _discriminate,
        custom_error_type="distribution",
        custom_error_message=(
            "expected a distribution: a short form like exp(10ms), const(5ms), lognormal(10ms, cv=1.5), "
            "gamma(10ms, cv=0.5), erlang(10ms, k=3), uniform(5ms, 15ms), empirical(1ms, 2ms), "
            "or a mapping with `type:` one of exponential, deterministic, lognormal, gamma, erlang, uniform, empirical"
        ),
    ),
    BeforeValidator(_normalise_type),
]
"""A distribution field in a scenario: a mapping with ``type`` or a short form like ``exp(10ms)``."""

ZERO = Deterministic(value=0.0)  #: A distribution that is always 0 (no latency).
