"""Exact MVA agrees with hand results, asymptotic bounds and product-form stationary distributions."""

import itertools
import math

import numpy as np
import pytest

from simulator.analysis import DelayStation, QueueingStation, mva

WEB = QueueingStation("web", service_demand_s=0.05)
DB = QueueingStation("db", service_demand_s=0.08)
DISK = QueueingStation("disk", service_demand_s=0.03)


def test_one_customer_never_queues_so_r_is_the_sum_of_demands():
    solution = mva([WEB, DB, DISK], population=1, think_time_s=1.0)
    assert solution.response_time_s[0] == pytest.approx(0.05 + 0.08 + 0.03)
    assert solution.throughput_per_s[0] == pytest.approx(1 / (0.16 + 1.0))
    assert solution.cycle_time_s[0] == pytest.approx(1.16)


def test_two_customers_on_one_queue_by_hand():
    # n=1: R = D, X = 1/(D+Z), Q = D/(D+Z). n=2: R = D (1 + Q(1)), X = 2/(R+Z).
    d, z = 1.0, 1.0
    solution = mva([QueueingStation("cpu", d)], population=2, think_time_s=z)
    assert solution.response_time_s[1] == pytest.approx(1.5)
    assert solution.throughput_per_s[1] == pytest.approx(2 / 2.5)
    assert solution.queue_lengths[1, 0] == pytest.approx(0.8 * 1.5)


def test_throughput_respects_asymptotic_bounds_and_saturates_at_the_bottleneck():
    z, demands = 2.0, [0.05, 0.08, 0.03]
    solution = mva([WEB, DB, DISK], population=400, think_time_s=z)
    n = solution.populations
    bound = np.minimum(n / (sum(demands) + z), 1 / max(demands))
    assert (solution.throughput_per_s <= bound * (1 + 1e-12)).all()
    assert np.all(np.diff(solution.throughput_per_s) >= -1e-12)  # nondecreasing in N
    assert solution.throughput_per_s[-1] == pytest.approx(1 / 0.08, rel=1e-9)
    assert solution.at(400).utilisations["db"] == pytest.approx(1.0, rel=1e-9)
    # far past saturation R(N) approaches N Dmax - Z
    assert solution.response_time_s[-1] == pytest.approx(400 * 0.08 - z, rel=1e-6)


def test_littles_law_holds_for_the_whole_network():
    solution = mva([WEB, DB, DISK, DelayStation("lan", 0.01)], population=30, think_time_s=0.5)
    in_stations = solution.queue_lengths.sum(axis=1)
    thinking = solution.throughput_per_s * 0.5
    assert in_stations + thinking == pytest.approx(solution.populations)


def test_delay_stations_add_to_response_time_but_think_time_does_not():
    lan = DelayStation("lan", service_demand_s=0.2)
    point = mva([WEB, lan], population=3, think_time_s=1.0).at(3)
    assert point.residence_times_s["lan"] == pytest.approx(0.2)
    assert point.response_time_s == pytest.approx(point.residence_times_s["web"] + 0.2)
    assert point.cycle_time_s == pytest.approx(point.response_time_s + 1.0)
    assert math.isnan(point.utilisations["lan"])


def repairman_stationary(machines, repairers, think_s, repair_s):
    """M/M/c//N birth-death chain: n broken, failures at (N - n)/Z, repairs at min(n, c)/S."""
    log_weights = [0.0]  # in logs: the weights overflow a float for hundreds of machines
    for n in range(1, machines + 1):
        failure = (machines - n + 1) / think_s
        repair = min(n, repairers) / repair_s
        log_weights.append(log_weights[-1] + math.log(failure / repair))
    top = max(log_weights)
    weights = [math.exp(w - top) for w in log_weights]
    return [w / sum(weights) for w in weights]


@pytest.mark.parametrize("machines, repairers", [(1, 3), (5, 2), (20, 4), (60, 8)])
def test_multi_server_station_matches_the_machine_repairman_model(machines, repairers):
    think_s, repair_s = 10.0, 1.5
    pi = repairman_stationary(machines, repairers, think_s, repair_s)
    throughput = sum(min(n, repairers) / repair_s * p for n, p in enumerate(pi))
    broken = sum(n * p for n, p in enumerate(pi))

    station = QueueingStation("repair", service_demand_s=repair_s, servers=repairers)
    point = mva([station], population=machines, think_time_s=think_s).at(machines)
    assert point.throughput_per_s == pytest.approx(throughput, rel=1e-10)
    assert point.queue_lengths["repair"] == pytest.approx(broken, rel=1e-10)
    assert point.response_time_s == pytest.approx(broken / throughput, rel=1e-10)
    assert point.utilisations["repair"] == pytest.approx(throughput * repair_s / repairers)


def test_multi_server_station_stays_exact_deep_in_saturation():
    think_s, repair_s, machines, repairers = 1.0, 1.0, 500, 16
    pi = repairman_stationary(machines, repairers, think_s, repair_s)
    broken = sum(n * p for n, p in enumerate(pi))
    station = QueueingStation("repair", repair_s, servers=repairers)
    point = mva([station], machines, think_s).at(machines)
    assert point.queue_lengths["repair"] == pytest.approx(broken, rel=1e-9)
    assert point.throughput_per_s == pytest.approx(repairers / repair_s, rel=1e-9)


def test_mixed_network_matches_the_product_form_normalising_constant():
    # pi(n_1..n_K) proportional to prod_k f_k(n_k), f_k(j) = D_k^j / prod_{i<=j} min(i, c_k), delay: D^j / j!
    stations = [
        QueueingStation("cpu", 0.4, servers=3),
        QueueingStation("db", 0.3),
        DelayStation("think", 2.0),
    ]
    def f(station, j):
        c = getattr(station, "servers", j or 1)  # delay: min(i, j) = i, so divide by j!
        return station.service_demand_s**j / math.prod(min(i, c) for i in range(1, j + 1))
    def normaliser(n):
        return sum(
            math.prod(f(s, j) for s, j in zip(stations, counts))
            for counts in itertools.product(range(n + 1), repeat=len(stations))
            if sum(counts) == n
        )
    population = 7
    point = mva(stations, population).at(population)
    assert point.throughput_per_s == pytest.approx(normaliser(population - 1) / normaliser(population), rel=1e-12)


def test_many_servers_and_few_customers_means_nobody_waits():
    solution = mva([QueueingStation("pool", 0.5, servers=64)], population=10, think_time_s=1.0)
    assert solution.response_time_s == pytest.approx(np.full(10, 0.5))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mva([], 3), "a closed network needs at least one station"),
        (lambda: mva([WEB], 0), "population must be a positive integer, got 0"),
        (lambda: mva([WEB], 2, think_time_s=-1.0), "think_time_s must be >= 0 and finite, got -1.0"),
        (lambda: mva([QueueingStation("x", 0.0)], 2), "service_demand_s of x must be positive and finite, got 0.0"),
        (lambda: mva([QueueingStation("x", 1.0, servers=0)], 2), "servers of x must be a positive integer, got 0"),
        (lambda: mva([WEB, WEB], 2), "station names must be unique"),
        (lambda: mva([WEB], 2).at(3), "population must be in 1..2, got 3"),
    ],
)
def test_invalid_networks_raise_value_error_with_exact_message(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value) == message


def test_convolution_and_mean_value_recursion_agree_on_single_server_networks():
    from simulator.analysis.convolution import solve_by_convolution

    solution = mva([WEB, DB, DISK, DelayStation("lan", 0.01)], population=200, think_time_s=1.5)
    throughput, queue_lengths = solve_by_convolution([0.05, 0.08, 0.03, 0.01], [1, 1, 1, None], 200, 1.5)
    assert throughput == pytest.approx(solution.throughput_per_s, rel=1e-10)
    assert queue_lengths == pytest.approx(solution.queue_lengths, rel=1e-9, abs=1e-12)


def test_multi_server_network_saturates_at_servers_over_demand():
    cpu = QueueingStation("cpu", service_demand_s=0.4, servers=8)  # capacity 20/s
    solution = mva([cpu, DB], population=300, think_time_s=1.0)  # db: 12.5/s, the bottleneck
    assert solution.throughput_per_s[-1] == pytest.approx(12.5, rel=1e-9)
    assert solution.at(300).utilisations["cpu"] == pytest.approx(12.5 * 0.4 / 8, rel=1e-9)
