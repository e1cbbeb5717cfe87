"""The regulator's expected time to power: the part of a delivery date that permits and the grid decide."""

import pytest

from sim.permitting import MAX_QUOTE_MONTHS, expected_months_to_power


def test_own_path_binds_when_the_grid_queue_is_short():
    # review 6 + 3 GW ahead / 1.5 GW a month = 2 + litigation 0.2 x (1 - 0.25) x 12 = 1.8 + 4 to connect
    m = expected_months_to_power(6.0, 3.0, 1.5, 0.2, 0.25, 12.0, 4.0, grid_queue_gw=1.0, grid_credit_gw=0.5,
                                 grid_gw_per_month=1.0)
    assert m == pytest.approx(13.8)   # the grid: (1 + 3 - 0.5) / 1 = 3.5 months, not binding


def test_grid_binds_when_gigawatts_ahead_exceed_its_connection_rate():
    # 20 GW awaiting connection + 4 GW in review - 2 GW banked, at 0.5 GW a month: 44 months
    m = expected_months_to_power(6.0, 4.0, 2.0, 0.0, 0.0, 0.0, 4.0, grid_queue_gw=20.0, grid_credit_gw=2.0,
                                 grid_gw_per_month=0.5)
    assert m == pytest.approx(44.0)   # the own path would be 6 + 2 + 0 + 4 = 12


def test_no_grid_capacity_quotes_the_longest_date():
    assert expected_months_to_power(6.0, 0.0, 1.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0) == MAX_QUOTE_MONTHS
    assert expected_months_to_power(6.0, 0.0, 1.0, 0.0, 0.0, 0.0, 4.0, 1e6, 0.0, 1.0) == MAX_QUOTE_MONTHS
