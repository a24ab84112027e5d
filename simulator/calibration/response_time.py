"""The response-time based estimator: demands and per-hop latency that make the queueing model's
mean response times and utilisations match the measured ones.

In the spirit of Menascé (2008, "Computing missing service demand parameters for performance
models", one of LibReDE's estimators): the model's equations are written for every run and solved
for the unknowns by least squares. For request class ``c`` in a run with measured per-class
throughputs ``X``::

    R_c = 2 g · client_c + 2 h · (trips_c - client_c) + Σ_(tier,op) visits_c(op) · (D_op + W_tier)
    U_tier = idle_tier + Σ_op X_op · D_op                   (busy cores)

``W_tier`` is the mean wait for a core at the tier: Pollaczek-Khinchine for one core (exact for
Poisson arrivals and FCFS, which is what the engine runs), Allen-Cunneen's M/G/c approximation for
more, with each instance taking an equal share of the load. It needs the second moment of the
service time, hence the coefficients of variation (from per-request CPU reports, see
``shape.py``). ``h`` is the one-way cost of a hop between tiers, network plus serialisation;
``g`` is the one-way cost of a round trip between the client and the tier it calls (``client_c``
of them per request): the load generator's own per-request cost and the entry point's HTTP
handling outside the request's code fall there. Whatever latency the demands and the queueing
leave unexplained is split between the two by the classes' different numbers of internal round
trips (the monolith's: 1, 4, 28 and 1 database round trips). Without internal round trips, when
every class has the same share of them, or when every demand is free (each class's own demand
would absorb ``g``), one cost is fitted for every hop (``g = h``).

With ``interleaved`` (the reference services: asyncio, which gives up the core at every await),
an operation that makes ``k`` downstream calls takes its core ``k + 1`` times, once to start and
once to resume after each answer, and waits for it each time: its demand is ``k + 1`` equal
segments (each with CV ``cv·sqrt(k + 1)``, so that their sum keeps the fitted CV) and its wait is
``(k + 1) W_tier``. Placing an order in the monolith resumes 28 times: at 80% of saturation it
measured 108 ms while the one-wait model gave 36 ms. The calibrated scenario writes the same
segments (``work`` steps between the calls, ``writer.py``), so the fit and the simulation agree.

When the structure has a shared host (measured in containers on one machine), every demand is
first stretched by the contention of the others on the host, ``D · (1 + C(c, a) / (c (1 - rho)))``
with ``a`` the other tiers' and the load generator's busy cores (:meth:`~.structure.SharedHost.stretch`).

Why response times: latency differs by class even at one load mix, and its growth with load
depends on the demands' size and spread, so per-class demands are identified where utilisation
regression sees only their total (Kraft et al. 2009 found response-time estimators 2-5x more
accurate). Residuals are relative, latency ones weighted by the square root of the requests
behind each mean (a mean of few requests is noisier); standard errors come from the Jacobian at the solution
(``s² (JᵀJ)⁻¹`` with ``s²`` the residual variance); a parameter the data cannot separate from
another gets a standard error at least as large as itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from ..analysis.single_station import erlang_c
from .estimate import Fitted
from .observations import Observation
from .structure import GENERATOR_TIER, Structure

MAX_UTILISATION = 0.995  #: The model's utilisation is capped here while solving; beyond it a penalty grows.


@dataclass(frozen=True)
class ResponseTimeFit:
    demands: dict[tuple[str, str], Fitted]  #: (tier, operation) -> CPU seconds per visit.
    hop_s: Fitted  #: One-way network and serialisation cost per hop between tiers.
    client_hop_s: Fitted | None  #: One-way cost per client round trip, when told apart from ``hop_s`` (else None: the same).
    idle_cores: dict[str, Fitted]
    runs: int
    rms_relative_residual: float  #: Root-mean-square of the relative residuals at the solution.


def waiting_time_s(arrival_rate_per_s: float, mean_s: float, second_moment_s2: float, cores: int) -> float:
    """Mean wait for one of ``cores`` FCFS servers (P-K for one core, Allen-Cunneen for more)."""
    if arrival_rate_per_s <= 0 or mean_s <= 0:
        return 0.0
    offered = arrival_rate_per_s * mean_s
    rho = min(offered / cores, MAX_UTILISATION)
    if cores == 1:
        return arrival_rate_per_s * second_moment_s2 / (2.0 * (1.0 - rho))
    wait_probability = erlang_c(rho * cores, cores)
    shape = second_moment_s2 / (2.0 * mean_s**2)  # (1 + cv²) / 2
    return wait_probability * mean_s / (cores * (1.0 - rho)) * shape


def cpu_entries(structure: Structure, op: tuple[str, str]) -> int:
    """How often ``op`` takes a core when its service gives the core up during each downstream call: once, plus once per answer."""
    return 1 + sum(1 for d in structure.downstream.get(op, ()) if d not in structure.asynchronous)  # fire-and-forget: no answer awaited


class _Model:
    """The equations above for one structure and set of runs, as a residual vector of θ."""

    def __init__(self, structure: Structure, observations: list[Observation], cv: dict[tuple[str, str], float],
                 fixed: dict[tuple[str, str], float] | None = None, interleaved: bool = False):
        self.structure = structure
        self.entries = {op: cpu_entries(structure, op) if interleaved else 1 for op in structure.operations()}
        self.observations = observations
        self.operations = structure.operations()
        self.fixed = dict(fixed or {})  #: Demands held at known values (per-request CPU reports), not fitted.
        self.free = [op for op in self.operations if op not in self.fixed]
        self.cpu_tiers = [t for t in structure.tiers if any(t in o.tier_cpu_cores for o in observations)]
        self.cv = {op: cv.get(op, 1.0) for op in self.operations}
        self.n_demands = len(self.free)
        self.client_trips = {c: len(structure.calls.get(c, ())) or 1 for c in structure.classes}
        internal_shares = {(structure.round_trips[c] - self.client_trips[c]) / self.client_trips[c] for c in structure.classes}
        # g and h are told apart only when the classes differ in their share of internal round trips
        # and some demands are pinned (by CPU reports): with every per-class demand free, g trades
        # off against each class's own demand at one load mix.
        self.separate_client = len(internal_shares) > 1 and bool(self.fixed)
        self.n_costs = 2 if self.separate_client else 1
        counts = [f.requests for o in observations for f in o.classes.values() if f.requests]
        self.mean_requests = float(np.mean(counts)) if counts else 1.0  #: Latency residuals weigh sqrt(requests / this).

    @property
    def size(self) -> int:
        return self.n_demands + self.n_costs + len(self.cpu_tiers)

    def unpack(self, theta: np.ndarray) -> tuple[dict[tuple[str, str], float], float, float, dict[str, float]]:
        """Demands, the one-way hop cost between tiers, the one-way client cost, idle cores per tier."""
        free = dict(zip(self.free, theta[: self.n_demands]))
        demands = {op: self.fixed[op] if op in self.fixed else free[op] for op in self.operations}
        idle = dict(zip(self.cpu_tiers, theta[self.n_demands + self.n_costs:]))
        hop_s = float(theta[self.n_demands])
        client_s = float(theta[self.n_demands + 1]) if self.separate_client else hop_s
        return demands, hop_s, client_s, idle

    def predict(self, theta: np.ndarray, obs: Observation) -> tuple[dict[str, float], dict[str, float], float]:
        """Per-class mean response time, per-tier busy cores, and the worst overshoot of MAX_UTILISATION."""
        demands, hop_s, client_s, idle = self.unpack(theta)
        s = self.structure
        waits: dict[str, float] = {}
        busy: dict[str, float] = {}
        overshoot = 0.0
        all_rates = {}
        for name in s.tiers:
            all_rates[name] = {op: sum(obs.classes[c].throughput_per_s * s.visits[c].get(op, 0) for c in obs.classes if c in s.visits)
                               for op in self.operations if op[0] == name}
            busy[name] = sum(all_rates[name][op] * demands[op] for op in all_rates[name]) + idle.get(name, 0.0)
        stretched = dict(demands)
        if s.host is not None:  # CPU work is slowed by everything else on the machine's cores
            generator = obs.tier_cpu_cores.get(GENERATOR_TIER, obs.throughput_per_s * (s.host.generator_cpu_per_request_s or 0.0))
            total = sum(busy.values()) + generator
            stretch = {name: s.host.stretch(total - busy[name]) for name in s.tiers}
            stretched = {op: demands[op] * stretch[op[0]] for op in self.operations}
        for name, tier in s.tiers.items():
            rates = all_rates[name]
            rate = sum(rates.values())
            work = sum(rates[op] * stretched[op] for op in rates)
            if rate <= 0 or work <= 0:
                waits[name] = 0.0
                continue
            entries = {op: self.entries[op] for op in rates}
            rate = sum(rates[op] * entries[op] for op in rates)  # the core is taken once per segment
            per_instance = rate / tier.instances
            mean = work / rate
            second = sum(rates[op] * entries[op] * (stretched[op] / entries[op]) ** 2 * (1 + self.cv[op] ** 2 * entries[op]) for op in rates) / rate
            overshoot = max(overshoot, per_instance * mean / tier.cores - MAX_UTILISATION)
            waits[name] = waiting_time_s(per_instance, mean, second, tier.cores)
        response = {}
        for c in obs.classes:
            if c not in s.visits:
                continue
            # asynchronous work (structure.py) is in ``busy`` and the waits above, not in the response: response_visits
            client = self.client_trips[c]
            response[c] = 2 * client_s * client + 2 * hop_s * (s.round_trips[c] - client) + sum(
                n * (stretched[op] + self.entries[op] * waits[op[0]]) for op, n in s.response_visits(c).items())
        return response, busy, overshoot

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        """Relative residuals of every run's latencies and CPU, then one stability penalty per run (last)."""
        out, penalties = [], []
        for obs in self.observations:
            response, busy, overshoot = self.predict(theta, obs)
            for c, figures in obs.classes.items():
                if c in response and figures.latency_mean_s:
                    weight = np.sqrt(figures.requests / self.mean_requests) if figures.requests else 1.0
                    out.append(weight * (response[c] - figures.latency_mean_s) / figures.latency_mean_s)
            for tier in self.cpu_tiers:
                measured = obs.tier_cpu_cores.get(tier)
                if measured:
                    out.append((busy[tier] - measured) / measured)
            penalties.append(100.0 * max(overshoot, 0.0))
        return np.asarray(out + penalties)


def fit_response_time(structure: Structure, observations: list[Observation],
                      cv: dict[tuple[str, str], float] | None = None,
                      initial: dict[tuple[str, str], float] | None = None,
                      fixed: dict[tuple[str, str], Fitted] | None = None, interleaved: bool = False) -> ResponseTimeFit:
    """Solve for the demands, the per-hop cost and each tier's idle CPU (see the module docstring).

    ``fixed`` demands (measured per request, e.g. from CPU reports) are held at their values and
    returned as given; the per-hop cost and the other demands are fitted around them.
    """
    used = [o for o in observations if not o.hold_out]
    if len(used) < 2:
        raise ValueError(f"the response-time estimator needs at least 2 runs, got {len(used)}")
    model = _Model(structure, used, cv or {}, {op: f.value for op, f in (fixed or {}).items()}, interleaved)
    start = np.empty(model.size)
    lowest = min(used, key=lambda o: o.throughput_per_s)
    for i, op in enumerate(model.free):
        guess = (initial or {}).get(op)
        if guess is None:  # a share of the lightest run's latency of the first class using the operation
            c = next(c for c in structure.classes if op in structure.visits[c] and c in lowest.classes)
            latency = lowest.classes[c].latency_mean_s or 1e-3
            guess = 0.3 * latency / sum(structure.visits[c].values())
        start[i] = max(guess, 1e-7)
    start[model.n_demands: model.n_demands + model.n_costs] = 1e-5
    start[model.n_demands + model.n_costs:] = 0.0
    solution = least_squares(model.residuals, start, bounds=(0.0, np.inf), x_scale="jac", method="trf",
                             xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=2000 * model.size)
    residuals, jac = solution.fun[: -len(used)], solution.jac[: -len(used)]  # without the penalties
    m, p = len(residuals), model.size
    dof = max(m - p, 1)
    variance = float(np.sum(residuals**2)) / dof
    try:
        covariance = variance * np.linalg.pinv(jac.T @ jac)
        errors = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    except np.linalg.LinAlgError:
        errors = np.full(p, np.inf)
    source = f"response-time estimator over {len(used)} runs"
    demands, hop_s, client_s, idle = model.unpack(solution.x)
    position = {op: i for i, op in enumerate(model.free)}
    fitted = {op: (fixed or {})[op] if op in model.fixed else Fitted(value, float(errors[position[op]]), source)
              for op, value in demands.items()}
    if model.fixed:
        source += f", demands of {', '.join(f'{t}.{o}' for t, o in model.fixed)} held at their measured CPU (per-request reports, container counters)"
    if model.separate_client:
        hop = Fitted(hop_s, float(errors[model.n_demands]), source + " (latency the demands leave unexplained, per hop between tiers)")
        client = Fitted(client_s, float(errors[model.n_demands + 1]), source + " (latency the demands leave unexplained, per client round trip: "
                        "the load generator's own cost and the entry point's HTTP handling)")
    else:
        hop = Fitted(hop_s, float(errors[model.n_demands]), source + " (latency the demands leave unexplained, per hop)")
        client = None
    idle_fitted = {t: Fitted(v, float(errors[model.n_demands + model.n_costs + i]), source, unit="cores") for i, (t, v) in enumerate(idle.items())}
    rms = float(np.sqrt(np.mean(residuals**2))) if m else 0.0
    return ResponseTimeFit(fitted, hop, client, idle_fitted, len(used), rms)
