"""Open placements aged from their spell, moves simulated between lines, caps, and the
invariance of the forecast to how spells are cut into episodes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import book, budget_book, moving_record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from forecastlib.accrual import accrue
from forecastlib.outturn import forecast_outturn
from forecastlib.simulation import DemandModels, OpenBook
from forecastlib.simulation.engine import open_books, remaining_grid
from forecastlib.simulation.segments import simulate_segments
from forecastlib.streams import stream

MONTHS = np.array([30.0, 61, 92, 120, 151])


def test_open_book_with_moves_and_caps_matches_its_analytic_moments():
    rng = np.random.default_rng(0)
    count = 300
    book_ = OpenBook(daily=rng.uniform(50, 500, count), age=rng.integers(1, 900, count) * 1.0,
                     distribution=stats.weibull_min(0.8, scale=400), month_ends=MONTHS,
                     offsets=rng.integers(0, 20, count) * 1.0,
                     cap=np.where(rng.random(count) < 0.3, rng.integers(5, 200, count), np.inf),
                     move_rate=1 / 200)
    mean, variance = book_.expected_cost()
    sims = 20_000
    paths, running, movers = book_.simulate_moves(stream(1, ("S", "X"), "ends"), sims)
    totals = paths[:, -1]
    assert abs(totals.mean() - mean) < 4 * np.sqrt(variance / sims)
    assert totals.var() == pytest.approx(variance, rel=0.06)
    assert (np.diff(paths, axis=1) >= -1e-9).all()
    # in the line on 31 March: not ended, not capped, not moved
    expected_running = (book_.beyond_year * book_.stays_in_line).sum()
    assert running.mean() == pytest.approx(expected_running, rel=0.03)
    # moves happen inside the year, after the placement's first day, before any cap
    assert movers["sim"].size > 0
    assert (movers["day"] >= book_.start_offset[movers["placement"]] + 1).all()
    assert (movers["day"] <= MONTHS[-1]).all()
    assert (movers["day"] <= book_.last_day[movers["placement"]]).all()
    share = movers["sim"].size / (sims * count)
    assert share == pytest.approx((1 - book_.stays_in_line).mean() * 0.8, rel=0.5)


def test_without_moves_the_kernel_draws_exactly_as_before():
    rng = np.random.default_rng(3)
    daily, age = rng.uniform(50, 500, 50), rng.integers(-20, 900, 50) * 1.0
    plain = OpenBook(daily, age, stats.lognorm(0.9, scale=300), MONTHS)
    spelled = OpenBook(daily, age, stats.lognorm(0.9, scale=300), MONTHS,
                       offsets=np.maximum(-age, 0))
    first = plain.simulate(stream(4, ("S", "X"), "ends"), 500)
    second = spelled.simulate(stream(4, ("S", "X"), "ends"), 500)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_a_cap_ends_care_on_that_day_by_hand():
    # exponential with a huge mean: nobody ends; the cap (day 40) stops the cost
    book_ = OpenBook(np.array([10.0]), np.array([100.0]), stats.expon(scale=1e9), MONTHS,
                     cap=np.array([40.0]))
    paths, running = book_.simulate(stream(0, ("S", "X"), "ends"), 50)
    np.testing.assert_allclose(paths, np.tile([300.0, 400, 400, 400, 400], (50, 1)))
    assert (running == 0).all()
    assert book_.expected_cost()[0] == pytest.approx(400.0)


def test_moved_segments_pay_from_the_move_day_by_hand():
    # spells that never end, entering on day 31 (offset 30): 121 days to day 151
    paths, running, moved, _ = simulate_segments(
        stats.expon(scale=1e9), np.array([0, 1, 1]), np.array([10.0, 20.0, 5.0]),
        np.array([100.0, 100.0, 100.0]), np.array([30.0, 30.0, 150.0]),
        np.array([np.inf, 60.0, np.inf]), 0.0, MONTHS, np.random.default_rng(0), 2)
    np.testing.assert_allclose(paths[0], [0, 310, 620, 900, 1210])
    np.testing.assert_allclose(paths[1], [0, 600, 600, 600, 605])  # capped on day 60
    assert running.tolist() == [1, 1] and moved.size == 0
    empty = simulate_segments(stats.expon(scale=10), np.zeros(0, dtype=int), np.zeros(0),
                              np.zeros(0), np.zeros(0), np.zeros(0), 0.1, MONTHS,
                              np.random.default_rng(0), 3)
    assert empty[0].shape == (3, 5) and not empty[0].any()


def test_moves_are_simulated_and_the_receiving_line_pays():
    placements = moving_record()
    as_at = np.datetime64("2017-06-30")
    models = DemandModels.fit(placements, as_at)
    assert models.moves.rates_["moves"].sum() > 10
    budget = budget_book({"service": "LAC Placements", "category": "IFA",
                          "annual_budget": 1000})
    moving = forecast_outturn(placements, budget, as_at, simulations=400, seed=2,
                              models=models)
    assert any("move between lines" in note for note in moving.notes)
    still = forecast_outturn(placements, budget, as_at, simulations=400, seed=2,
                             models=DemandModels(models.stays, models.starts, models.prices))
    # with moves, residential spells can leave for cheaper fostering and vice versa:
    # the outturns differ, and the fostering line's year-end count gains movers
    assert not np.array_equal(moving.outturns, still.outturns)
    accrued = accrue(placements, as_at, year=2017)
    _, offsets = remaining_grid(as_at, 2017)
    books = open_books(placements, accrued, as_at, offsets, models.stays, models.moves)
    for line, open_book in books.items():
        assert open_book.move_rate == pytest.approx(models.moves.rate(line))
        assert (open_book.age >= 1).all()


def _split_at_april(placements: pd.DataFrame, as_at: pd.Timestamp) -> pd.DataFrame:
    """Every episode cut at each 1 April inside it (same price): uplift episodes."""
    pieces = []
    for row in placements.itertuples(index=False):
        start = row.start_date
        stop = row.end_date if pd.notna(row.end_date) else as_at
        cuts = [d for d in pd.date_range(start, stop, freq="YS-APR") if d > start]
        bounds = [start, *cuts]
        for number, first in enumerate(bounds):
            last = (bounds[number + 1] - pd.Timedelta(days=1) if number + 1 < len(bounds)
                    else row.end_date)
            piece = row._asdict()
            piece.update(placement_id=f"{row.placement_id}-{number}", start_date=first.date(),
                         end_date="" if pd.isna(last) else last.date(),
                         planned_end_date="")
            pieces.append(piece)
    frame = pd.DataFrame(pieces)
    return book(*[{k: v for k, v in p.items() if k != "placement_id"} for p in pieces]) \
        if len(frame) else placements


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), shuffle=st.booleans())
def test_cutting_spells_into_yearly_uplift_episodes_changes_nothing(seed, shuffle):
    placements = moving_record()
    as_at = pd.Timestamp("2017-06-30")
    split = _split_at_april(placements, as_at)
    assert len(split) > len(placements)
    if shuffle:
        split = split.sample(frac=1, random_state=seed).reset_index(drop=True)
    budget = budget_book({"service": "LAC Placements", "category": "IFA",
                          "annual_budget": 1000})
    whole = forecast_outturn(placements, budget, as_at, simulations=200, seed=seed)
    cut = forecast_outturn(split, budget, as_at, simulations=200, seed=seed)
    np.testing.assert_allclose(cut.outturns, whole.outturns, rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(cut.year_end_running, whole.year_end_running)


def test_open_placements_are_aged_from_the_spell_and_capped_unless_past_the_cap():
    placements = book(
        {"client_id": "A", "start_date": "2015-04-01", "end_date": "2017-03-31",
         "unit_cost": 700},
        {"client_id": "A", "start_date": "2017-04-01", "unit_cost": 721},  # uplift
        {"client_id": "B", "start_date": "2017-05-01", "unit_cost": 700},
        {"client_id": "C", "start_date": "2017-05-01", "unit_cost": 700},
    )
    placements["latest_end_date"] = pd.to_datetime([None, "2017-12-31", None, "2017-01-01"])
    as_at = np.datetime64("2017-10-31")
    models = DemandModels.fit(placements, as_at, new_starts=False)
    accrued = accrue(placements, as_at, year=2017)
    _, offsets = remaining_grid(as_at, 2017)
    (line, open_book), = open_books(placements, accrued, as_at, offsets, models.stays,
                                    models.moves).items()
    # ordered by client: A's age counts from 1 April 2015, not from the uplift
    assert open_book.age.tolist() == [945.0, 184.0, 184.0]
    assert open_book.last_day[0] == 61 and np.isinf(open_book.last_day[1:]).all()


def test_new_placements_move_too_and_stop_costing_the_day_before():
    from forecastlib.simulation.new_starts import NewStarts

    pool = pd.DataFrame({"unit_cost": [700.0], "unit": ["week"], "units_per_week": [1.0],
                         "weeks_per_year": [52.0], "income_per_week": [0.0]})
    starts = NewStarts(np.array([1.0]), np.array([1.0]), MONTHS, pool, 0.0, 0.0,
                       stats.expon(scale=1e9), move_rate=1 / 60)
    counts = np.full((2000, 1), 1)
    movers: list = []
    paths, running = starts.simulate(counts, 1, ("S", "X"), movers=movers)
    moved = movers[0]
    # one start on day 1 in each simulation; a move on day M leaves M - 1 days here
    share = moved["sim"].size / 2000
    assert share == pytest.approx(1 - np.exp(-151 / 60), abs=0.03)
    np.testing.assert_allclose(paths[moved["sim"], -1], 100.0 * (moved["day"] - 1))
    assert (moved["age"] == 0).all() and running.sum() == 2000 - moved["sim"].size
    still, _ = starts.simulate(counts, 1, ("S", "X"))  # no list: no moves
    assert (still[:, -1] == 100.0 * 151).all()


def test_moves_caps_and_parameter_draws_together_match_the_mixture_moments():
    # spells, caps and moves inside the per-draw kernel: simulate_all_moves runs the
    # draw loop block by block and must match the mixture's analytic moments
    from forecastlib.demand import StayDraws

    rng = np.random.default_rng(7)
    count = 300
    draws = StayDraws("weibull", rng.uniform(0.7, 1.0, 6), rng.uniform(250, 550, 6))
    book_ = OpenBook(daily=rng.uniform(50, 500, count), age=rng.integers(1, 900, count) * 1.0,
                     distribution=stats.weibull_min(0.8, scale=400), month_ends=MONTHS,
                     offsets=rng.integers(0, 20, count) * 1.0,
                     cap=np.where(rng.random(count) < 0.3, rng.integers(5, 200, count), np.inf),
                     move_rate=1 / 200, draws=draws)
    mean, variance = book_.expected_cost()
    sims = 16_000
    paths, running, movers = book_.simulate_all_moves(3, ("S", "X"), sims)
    totals = paths[:, -1]
    assert abs(totals.mean() - mean) < 4 * np.sqrt(variance / sims)
    assert totals.var() == pytest.approx(variance, rel=0.06)
    assert (np.diff(paths, axis=1) >= -1e-9).all()
    # movers carry global simulation numbers, in order, inside the year and before caps
    assert movers["sim"].size > 0 and (np.diff(movers["sim"]) >= 0).all()
    assert movers["sim"].min() >= 0 and movers["sim"].max() < sims
    assert (movers["day"] >= book_.start_offset[movers["placement"]] + 1).all()
    assert (movers["day"] <= book_.last_day[movers["placement"]]).all()


def test_a_block_with_draws_gives_each_simulation_its_own_draw_and_movers_their_sims():
    from forecastlib.demand import StayDraws

    # draw 0 ends at once, draw 1 never ends: only draw 1's simulations can move
    draws = StayDraws("exponential", np.ones(2), np.array([1e-6, 1e9]))
    book_ = OpenBook(np.full(40, 10.0), np.full(40, 5.0), stats.expon(scale=100), MONTHS,
                     move_rate=1 / 400, draws=draws)  # P(none left in a simulation) ~1e-20
    paths, running, movers = book_.simulate_moves(stream(2, ("S", "X"), "ends"), 9, first=3)
    # simulations 3..11: draws 1, 0, 1, 0, ... (draw 0's spells end on day 1, so only
    # a move on that very day comes first)
    late = movers["day"] > 1
    assert set(movers["sim"][late].tolist()) <= {0, 2, 4, 6, 8} and late.any()
    np.testing.assert_array_equal(running[1::2], 0)
    assert (paths[1::2, -1] <= 40 * 10.0).all() and (paths[1::2, -1] >= 30 * 10.0).all()
    assert running[0::2].sum() > 0  # ~2 a simulation still here: P(none in 5) ~ e^-10


def test_new_starts_draws_follow_the_global_simulation_whatever_the_blocks(monkeypatch):
    from forecastlib.demand import StayDraws
    from forecastlib.simulation import new_starts as module
    from forecastlib.simulation.new_starts import NewStarts

    pool = pd.DataFrame({"unit_cost": [700.0, 1400.0], "unit": "week", "units_per_week": 1.0,
                         "weeks_per_year": 52.0, "income_per_week": 0.0})
    # draw 0 ends after a day, draw 1 runs to year-end; bootstrap row s mod 2 picks price
    draws = StayDraws("exponential", np.ones(2), np.array([1e-6, 1e9]))
    starts = NewStarts(np.array([1.0]), np.array([1.0]), np.array([10.0]), pool, 0.0, 0.0,
                       stats.expon(scale=5.0), 1 / 20, stay_draws=draws,
                       bootstrap=np.array([[0, 0], [1, 1]]), shock_variance=(0.04, 0.0))
    sims = 60
    counts = np.full((sims, 1), 3, dtype=np.int64)
    market = np.random.default_rng(1).standard_normal((2, sims))
    monkeypatch.setattr(module, "BLOCK_PLACEMENTS", 7)  # blocks cut simulations apart
    no_common, movers = np.zeros(sims), []
    paths, running = starts.simulate(counts, 4, ("S", "X"), movers=movers, market=market,
                                     no_common=no_common)
    moved = {key: np.concatenate([part[key] for part in movers]) for key in ("sim", "day")}
    even, odd = slice(0, sims, 2), slice(1, sims, 2)
    # draw 0: one day at GBP 100 each, unless moved on that very day (then no day here)
    day_one = np.bincount(moved["sim"][moved["day"] <= 1].astype(int), minlength=sims)
    np.testing.assert_allclose(no_common[even] + 100.0 * day_one[even], 3 * 100.0)
    np.testing.assert_array_equal(running[even], 0)
    np.testing.assert_allclose(paths[:, -1], no_common * np.exp(0.2 * market[1]))
    # draw 1: GBP 200 a day, ten days unless moved first; later moves only under draw 1
    assert (no_common[odd] <= 3 * 2000.0 + 1e-9).all() and (no_common[odd] > 0).all()
    late = moved["sim"][moved["day"] > 1].astype(int)
    assert late.size and (late % 2 == 1).all()
    # a block starting at global simulation 1001: row i is simulation 1001 + i, so the
    # draws swap (row 0 takes draw 1), while the market stays the block's own columns
    shifted, shifted_running = starts.simulate(counts, 4, ("S", "X"), market=market,
                                               block=1, first=1001)
    np.testing.assert_array_equal(shifted_running[odd], 0)
    assert (shifted_running[even] > 0).any()
    assert (shifted[odd, -1] <= 3 * 100.0 * np.exp(0.2 * market[1, odd]) + 1e-6).all()
