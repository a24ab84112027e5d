"""Open Jackson networks reduce to the single-station results they are built from."""

import pytest

from simulator.analysis import jackson_network, mm1, mmc, solve_traffic_equations


def test_tandem_of_mm1_stations_is_the_sum_of_its_stations():
    lam = 0.5
    net = jackson_network(
        external_arrival_rates=[lam, 0, 0],
        routing=[[0, 1, 0], [0, 0, 1], [0, 0, 0]],
        service_rates=[1.0, 2.0, 0.8],
        names=["web", "app", "db"],
    )
    alone = [mm1(lam, mu) for mu in (1.0, 2.0, 0.8)]
    assert net.arrival_rates_per_s == pytest.approx((lam, lam, lam))
    assert net.visit_ratios == pytest.approx((1.0, 1.0, 1.0))
    assert net.mean_sojourn_s == pytest.approx(sum(s.mean_response_time_s for s in alone))
    assert net.mean_sojourn_s == pytest.approx(1 / 0.5 + 1 / 1.5 + 1 / 0.3)
    assert net.mean_in_system == pytest.approx(sum(s.mean_in_system for s in alone))
    assert net.station("db") == alone[2]
    assert net.throughput_per_s == lam


def test_feedback_with_probability_p_multiplies_arrivals_by_one_over_one_minus_p():
    lam, p, mu = 1.0, 0.25, 2.0
    net = jackson_network([lam], [[p]], [mu])
    assert net.arrival_rates_per_s[0] == pytest.approx(lam / (1 - p))
    assert net.visit_ratios[0] == pytest.approx(1 / (1 - p))
    # each customer visits 1/(1-p) times, each visit an M/M/1 sojourn at rate lambda/(1-p)
    per_visit = 1 / (mu - lam / (1 - p))
    assert net.mean_sojourn_s == pytest.approx(per_visit / (1 - p))


def test_multi_server_stations_use_erlang_c():
    net = jackson_network([3.0, 1.0], [[0, 0.5], [0, 0]], [1.0, 1.0], servers=[4, 3])
    assert net.arrival_rates_per_s == pytest.approx((3.0, 2.5))
    assert net.stations[0] == mmc(3.0, 1.0, 4)
    assert net.stations[1] == mmc(2.5, 1.0, 3)
    assert net.throughput_per_s == 4.0
    assert net.mean_sojourn_s == pytest.approx(
        (mmc(3.0, 1.0, 4).mean_in_system + mmc(2.5, 1.0, 3).mean_in_system) / 4.0
    )


def test_traffic_equations_for_a_fork_and_join():
    # 0 splits 30/70 to 1 and 2, both go to 3, which exits
    rates = solve_traffic_equations([10, 0, 0, 0], [[0, 0.3, 0.7, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0] * 4])
    assert rates == pytest.approx([10, 3, 7, 10])


def test_a_station_nobody_reaches_is_idle():
    net = jackson_network([1.0, 0.0], [[0, 0], [0, 0]], [2.0, 4.0])
    idle = net.stations[1]
    assert idle.utilisation == 0.0 and idle.mean_in_system == 0.0
    assert idle.mean_response_time_s == 0.25


def test_an_unstable_station_is_named_in_the_error():
    with pytest.raises(ValueError) as error:
        jackson_network([1.0, 0], [[0, 0.9], [0, 0]], [2.0, 0.5], names=["api", "db"])
    assert str(error.value) == "unstable: station 1 (db) utilisation 1.800 >= 1"


def test_routing_that_never_lets_customers_leave_is_singular():
    with pytest.raises(ValueError) as error:
        jackson_network([1.0, 0], [[0, 1], [1, 0]], [5.0, 5.0])
    assert str(error.value) == "singular routing: some customers can never leave the network"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(routing=[[0.6, 0.6], [0, 0]]), "routing row 0 sums to 1.2 > 1"),
        (dict(routing=[[0, 1]]), "routing must be a 2x2 matrix, got shape (1, 2)"),
        (dict(service_rates=[1.0]), "service_rates has 1 entries, expected 2"),
        (dict(service_rates=[1.0, 0.0]), "service_rates[1] must be positive and finite, got 0.0"),
        (dict(names=["a", "a"]), "station names must be unique"),
    ],
)
def test_malformed_networks_are_rejected(kwargs, message):
    args = dict(external_arrival_rates=[0.1, 0.1], routing=[[0, 0.5], [0, 0]], service_rates=[1.0, 1.0])
    with pytest.raises(ValueError) as error:
        jackson_network(**{**args, **kwargs})
    assert str(error.value) == message
