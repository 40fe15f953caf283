"""Moves between lines: hazards with censoring, destinations, price pools."""

from __future__ import annotations

import numpy as np
import pytest
from builders import book

from forecastlib.demand import MoveModel


def _record():
    return book(
        # A: residential 100 days, then a move to IFA (still open)
        {"client_id": "A", "start_date": "2016-04-01", "end_date": "2016-07-09",
         "unit_cost": 3000},
        {"client_id": "A", "start_date": "2016-07-10", "unit_cost": 900, "category": "IFA"},
        # B: residential, ended (no move), 50 days
        {"client_id": "B", "start_date": "2016-05-01", "end_date": "2016-06-19",
         "unit_cost": 3200},
        # C: residential, a price uplift (not a move), open
        {"client_id": "C", "start_date": "2016-04-01", "end_date": "2017-03-31",
         "unit_cost": 3000},
        {"client_id": "C", "start_date": "2017-04-01", "unit_cost": 3100},
    )


def test_move_rate_is_moves_over_days_at_risk_by_hand():
    moves = MoveModel(history_start="2016-04-01").fit(_record(), "2017-03-31")
    residential = ("LAC Placements", "Residential homes")
    # days in residential: A 100 (1 Apr - 9 Jul), B 50, C 365 (to as_at); one move
    assert moves.rates_.loc[residential, "exposure_days"] == 100 + 50 + 365
    assert moves.rates_.loc[residential, "moves"] == 1
    assert moves.rate(residential) == pytest.approx(1 / 515)
    targets, shares = moves.destinations(residential)
    assert targets == [("LAC Placements", "IFA")] and shares.tolist() == [1.0]
    # IFA never moved on: no hazard, no destinations; a line never seen: 0
    assert moves.rate(("LAC Placements", "IFA")) == 0.0
    assert moves.destinations(("LAC Placements", "IFA"))[0] == []
    assert moves.rate(("Other", "line")) == 0.0
    # the receiving line's prices: its placements open at as_at
    assert moves.pools_[("LAC Placements", "IFA")]["unit_cost"].tolist() == [900.0]
    assert "moves=1" in repr(moves)


def test_a_move_after_as_at_is_not_counted_and_a_record_without_moves_has_none():
    moves = MoveModel(history_start="2016-04-01").fit(_record(), "2016-07-01")
    assert moves.rates_["moves"].sum() == 0
    assert moves.destinations_.empty
    with pytest.raises(RuntimeError, match="not fitted"):
        MoveModel().rate(("a", "b"))


def test_moves_before_the_history_start_are_not_counted():
    moves = MoveModel(history_start="2016-08-01").fit(_record(), "2017-03-31")
    residential = ("LAC Placements", "Residential homes")
    assert moves.rates_.loc[residential, "moves"] == 0
    assert moves.rates_.loc[residential, "exposure_days"] == np.float64(243)  # C only


def test_rate_and_destination_draws_are_the_gamma_and_dirichlet_posteriors():
    moves = MoveModel(history_start="2016-04-01", draws=4000).fit(_record(), "2017-03-31")
    residential = ("LAC Placements", "Residential homes")
    draws = moves.rate_draws(residential, seed=3)
    # Gamma(1, 515): mean 1 / 515, standard deviation 1 / 515 (one move)
    assert draws.shape == (4000,) and (draws > 0).all()
    assert draws.mean() == pytest.approx(1 / 515, rel=0.06)
    assert draws.std() == pytest.approx(1 / 515, rel=0.08)
    assert moves.rates_.loc[residential, "rate_sd_per_year"] == pytest.approx(365.25 / 515)
    np.testing.assert_array_equal(draws, moves.rate_draws(residential, seed=3))
    assert not np.array_equal(draws, moves.rate_draws(residential, seed=4))
    # a line never seen moving keeps zero; one target gets every share
    assert (moves.rate_draws(("LAC Placements", "IFA"), seed=3) == 0).all()
    assert (moves.rate_draws(("Other", "line"), seed=3) == 0).all()
    targets, shares = moves.destination_draws(residential, seed=3)
    assert targets == [("LAC Placements", "IFA")] and np.allclose(shares, 1.0)
    assert moves.destination_draws(("LAC Placements", "IFA"), seed=3)[1].shape == (4000, 0)


def test_destination_draws_spread_with_few_moves_and_centre_on_the_shares():
    rows = []
    for client in range(30):  # 20 residential -> IFA, 10 residential -> kinship
        target = "IFA" if client < 20 else "Kinship"
        rows += [{"client_id": f"c{client}", "start_date": "2016-04-01",
                  "end_date": "2016-06-30", "unit_cost": 3000},
                 {"client_id": f"c{client}", "start_date": "2016-07-01", "unit_cost": 900,
                  "category": target}]
    moves = MoveModel(history_start="2016-04-01", draws=3000).fit(book(*rows), "2017-03-31")
    targets, shares = moves.destination_draws(("LAC Placements", "Residential homes"), 0)
    assert targets == [("LAC Placements", "IFA"), ("LAC Placements", "Kinship")]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    # Dirichlet(20, 10): mean 2/3, variance (2/3)(1/3)/31
    assert shares[:, 0].mean() == pytest.approx(2 / 3, abs=0.01)
    assert shares[:, 0].var() == pytest.approx(2 / 9 / 31, rel=0.1)
