"""Starts model: recovers known rates and trends, follows a shifted level, stays bounded on
short or lumpy lines, and its intervals carry parameter, level and common uncertainty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecastlib.demand import StartsModel
from forecastlib.demand.level import LevelState, fit_local_level, step_change
from forecastlib.demand.shocks import CommonShock, shift_levels
from forecastlib.demand.stacking import drift_variance, stack_weights
from forecastlib.demand.start_candidates import CandidateFit
from forecastlib.demand.start_checks import bulk_loads, history_begins

REGRESSIONS = ("negbin_trend", "negbin", "poisson_trend", "poisson")


def counts_table(rates: dict[tuple[str, str], np.ndarray], first: str = "2011-04") -> pd.DataFrame:
    months = pd.period_range(first, periods=len(next(iter(rates.values()))), freq="M")
    frame = pd.DataFrame.from_dict(rates, orient="index", columns=months)
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["service", "category"])
    return frame


def seasonal_rate(months: int, level: float, growth: float, amplitude: float) -> np.ndarray:
    t = np.arange(months)
    return level * (1 + growth) ** (t / 12) * (1 + amplitude * np.cos(2 * np.pi * (t - 5) / 12))


def todays_glm() -> StartsModel:
    """The regressions chosen on two held-out years with no step: today's model."""
    return StartsModel(candidates=REGRESSIONS, origins=2, validation_months=12,
                       step_threshold=np.inf, common=False)


# ------------------------------------------------------------------ as before
def test_recovers_level_trend_and_weights_negative_binomial_when_overdispersed():
    rng = np.random.default_rng(0)
    months = 96
    poisson_rate = seasonal_rate(months, 20, 0.10, 0.3)
    mixed = rng.gamma(2.0, seasonal_rate(months, 20, 0.0, 0.0) / 2.0)  # alpha = 0.5
    table = counts_table({("S", "Trend"): rng.poisson(poisson_rate),
                          ("S", "Overdispersed"): rng.poisson(mixed)})
    model = StartsModel().fit_counts(table)
    trend = model.fits_.loc[("S", "Trend")]
    assert trend["trend_per_year"] == pytest.approx(1.10, abs=0.05)
    over = model.fits_.loc[("S", "Overdispersed")]
    assert over["weight_negbin"] + over["weight_negbin_trend"] > 0.5
    expected = model.expected(12).loc[("S", "Trend")]
    truth = seasonal_rate(months + 12, 20, 0.10, 0.3)[months:]
    assert np.allclose(expected.to_numpy(), truth, rtol=0.15)


def test_sparse_and_empty_lines_fall_back_without_failing():
    rng = np.random.default_rng(1)
    table = counts_table({
        ("S", "Busy"): rng.poisson(seasonal_rate(60, 15, 0.0, 0.4)),
        ("S", "Rare"): rng.poisson(0.1, 60),
        ("S", "Never"): np.zeros(60, dtype=int),
    })
    model = StartsModel().fit_counts(table)
    assert model.fits_.loc[("S", "Rare"), "model"] == "pooled"
    assert model.fits_.loc[("S", "Never"), "model"] == "zero"
    paths = model.simulate(6, 500, seed=2)
    assert paths[list(model.fits_.index).index(("S", "Never"))].sum() == 0
    assert paths.min() >= 0


def test_one_month_series_and_growth_override():
    table = counts_table({("S", "X"): np.array([3])})
    model = StartsModel().fit_counts(table)
    assert model.fits_.loc[("S", "X"), "model"] == "pooled"
    assert model.expected(3).shape == (1, 3)
    assert model.simulate(3, 100, seed=1).shape == (1, 100, 3)
    rng = np.random.default_rng(3)
    busy = counts_table({("S", "X"): rng.poisson(np.full(72, 10.0))})
    grown = StartsModel(growth=0.22, harmonics=0).fit_counts(busy).expected(12).iloc[0]
    assert grown.iloc[-1] / grown.iloc[0] == pytest.approx(1.22 ** (11 / 12), rel=0.02)


def test_no_line_at_all_and_no_month_at_all():
    table = counts_table({("S", "X"): np.zeros(24, dtype=int)}).iloc[:0]
    model = StartsModel().fit_counts(table)
    assert model.fits_.empty and model.simulate(4, 10, seed=1).shape == (0, 10, 4)
    with pytest.raises(ValueError, match="no complete month"):
        StartsModel().fit_counts(counts_table({("S", "X"): np.zeros(3)}).iloc[:, :0])


def test_simulation_is_reproducible_and_independent_per_line_without_the_common_shock():
    rng = np.random.default_rng(4)
    table = counts_table({("S", "A"): rng.poisson(np.full(72, 8.0)),
                          ("S", "B"): rng.poisson(np.full(72, 4.0))})
    model = StartsModel().fit_counts(table)
    first, again = model.simulate(4, 100, seed=9), model.simulate(4, 100, seed=9)
    assert np.array_equal(first, again)
    # without the common shock (which also pools the lines' current level toward their
    # sum's), a line's draws do not depend on another line's data
    model = StartsModel(common=False).fit_counts(table)
    table_b = table.copy()
    table_b.loc[("S", "B")] = rng.poisson(np.full(72, 40.0))
    other = StartsModel(common=False).fit_counts(table_b)
    alone = model.simulate(4, 100, seed=9, common=False)
    assert np.array_equal(alone[0], other.simulate(4, 100, seed=9, common=False)[0])


def test_parameter_uncertainty_widens_intervals_on_short_series():
    rng = np.random.default_rng(5)
    table = counts_table({("S", "Short"): rng.poisson(np.full(40, 6.0))})
    model = StartsModel(candidates=("poisson_trend",), origins=3).fit_counts(table)
    with_uncertainty = model.simulate(12, 4000, seed=1).sum(axis=2)
    plug_in = model.simulate(12, 4000, seed=1, parameter_uncertainty=False).sum(axis=2)
    assert with_uncertainty.std() > 1.1 * plug_in.std()


def test_plug_in_simulation_is_process_noise_around_the_expected_rate():
    rng = np.random.default_rng(6)
    table = counts_table({("S", "A"): rng.poisson(np.full(72, 12.0))})
    model = StartsModel().fit_counts(table)
    plug_in = model.simulate(6, 20_000, seed=2, parameter_uncertainty=False)[0]
    expected = model.expected(6).iloc[0].to_numpy()
    assert np.allclose(plug_in.mean(axis=0), expected, rtol=0.02)
    assert np.allclose(plug_in.var(axis=0), expected, rtol=0.1)  # Poisson


def test_fit_from_placements_uses_exposure_by_service(sample):
    model = StartsModel()
    counts = StartsModel().fit(sample.placements, sample.as_at).counts_
    months = pd.period_range(counts.columns[0], counts.columns[-1] + 24, freq="M")
    population = pd.DataFrame([np.linspace(100_000, 110_000, len(months))] *
                              counts.index.get_level_values("service").nunique(),
                              index=sorted(counts.index.get_level_values("service").unique()),
                              columns=months)
    model.fit(sample.placements, sample.as_at, exposure=population)
    assert model.exposure_ is not None and len(model.fits_) == len(counts)
    with pytest.raises(ValueError, match="positive"):
        StartsModel().fit(sample.placements, sample.as_at, exposure=population * 0)


# ------------------------------------------------------- following the level
def test_a_sustained_half_again_shift_moves_the_projection_at_least_half_way():
    rng = np.random.default_rng(7)
    lines = {("S", f"Exact {base}"): np.r_[np.full(72, base), np.full(6, base * 3 // 2)]
             for base in (10, 20, 40)}
    lines |= {("S", f"Noisy {i}"): np.r_[rng.poisson(20, 72), rng.poisson(30, 6)]
              for i in range(8)}
    lines |= {("S", f"Busy {i}"): np.r_[rng.poisson(40, 72), rng.poisson(60, 6)]
              for i in range(4)}
    table = counts_table(lines)
    model = StartsModel().fit_counts(table)
    before = table.iloc[:, :72].mean(axis=1)
    moved = (model.expected(6).mean(axis=1) - before) / (before / 2)
    exact = moved[moved.index.get_level_values(1).str.startswith("Exact")]
    noisy = moved[moved.index.get_level_values(1).str.startswith("Noisy")]
    busy = moved[moved.index.get_level_values(1).str.startswith("Busy")]
    # at 10 a month six months of +5 are weak evidence against a trend: part of the way
    assert exact[("S", "Exact 10")] > 0.3 and exact.iloc[1:].min() > 0.85, exact.to_dict()
    assert (busy >= 0.5).all(), busy.round(2).to_dict()
    # at 20 a month, Poisson noise can hide a shift: most lines move, the average does
    assert (noisy >= 0.5).sum() >= 6 and noisy.mean() >= 0.75, noisy.round(2).to_dict()
    simulated = model.simulate(6, 2000, seed=3).mean(axis=(1, 2))
    assert np.allclose(simulated, model.expected(6).mean(axis=1), rtol=0.1)  # follows it
    # today's model stays near the old level
    today = todays_glm().fit_counts(table).expected(6).mean(axis=1)
    assert (((today - before) / (before / 2)) < 0.3).all()


def test_a_steady_series_does_not_move_and_stays_near_todays_glm():
    rng = np.random.default_rng(8)
    lines = {("S", f"L{i}"): rng.poisson(seasonal_rate(78, 12, 0.0, 0.2)) for i in range(10)}
    model = StartsModel().fit_counts(counts_table(lines))
    assert (model.fits_["step_months"] == 0).sum() >= 9
    projected = model.expected(6).to_numpy()
    assert np.allclose(projected.mean(axis=1), 12, rtol=0.15)


def test_steady_truth_known_worlds_are_projected_no_worse_than_todays_glm():
    rng = np.random.default_rng(9)
    rates, history = [], {}
    for i in range(40):
        level = np.exp(rng.uniform(np.log(2), np.log(40)))
        rate = seasonal_rate(84, level, 0.0, 0.2)
        rates.append(rate[78:].sum())
        history[("S", f"L{i}")] = rng.poisson(rate[:78])
    table = counts_table(history)
    truth = np.array(rates)
    new = StartsModel().fit_counts(table).expected(6).sum(axis=1).to_numpy()
    today = todays_glm().fit_counts(table).expected(6).sum(axis=1).to_numpy()
    assert np.abs(new - truth).mean() <= 1.05 * np.abs(today - truth).mean()


@pytest.mark.slow
def test_sample_county_lines_are_held_out_no_worse_than_todays_glm(sample):
    # Six months held out at four origins (6, 12, 18 and 24 months back): one window
    # alone is decided by a line or two (at the latest origin Older People homecare alone
    # puts the new model 9% behind; over the four it is level: 665.5 against 668.5).
    counts = StartsModel().fit(sample.placements, sample.as_at).counts_
    new_error = today_error = 0.0
    for back in (6, 12, 18, 24):
        train = counts.iloc[:, :-back]
        test = counts.iloc[:, -back:].iloc[:, :6].sum(axis=1).to_numpy()
        new = StartsModel().fit_counts(train).expected(6).sum(axis=1).to_numpy()
        today = todays_glm().fit_counts(train).expected(6).sum(axis=1).to_numpy()
        new_error += np.abs(new - test).sum()
        today_error += np.abs(today - test).sum()
    assert new_error <= 1.05 * today_error


def test_a_random_walk_level_is_followed_and_its_innovations_carried_forward():
    rng = np.random.default_rng(10)
    steps = np.cumsum(rng.normal(0, 0.08, 84))
    walk = 30 * np.exp(steps - steps[-1])  # wanders, and ends at 30 a month
    table = counts_table({("S", "Walk"): rng.poisson(walk)})
    model = StartsModel(candidates=("level",)).fit_counts(table)
    assert model.fits_.iloc[0]["level_discount"] < 1.0
    assert model.expected(1).iloc[0, 0] == pytest.approx(30, rel=0.25)
    paths = model.simulate(12, 4000, seed=4)[0]
    plug_in = model.simulate(12, 4000, seed=4, parameter_uncertainty=False)[0]
    assert paths[:, -1].std() > 1.5 * plug_in[:, -1].std()  # level paths, not the mean
    assert paths[:, -1].std() / paths[:, 0].std() > 1.2  # and wider further ahead


# ------------------------------------------------------- level model by hand
def test_local_level_filter_by_hand_and_its_paths():
    state, predicted = fit_local_level(np.array([2, 4]), np.ones(2),
                                       discounts=np.array([0.5]))
    assert (state.shape, state.rate, state.discount) == (5.75, 1.75, 0.5)
    assert predicted.tolist() == pytest.approx([3.0, 3.5 / 1.5])
    levels = LevelState(40.0, 4.0, 0.9).paths(np.random.default_rng(0), 6, 40_000)
    assert levels.mean(axis=0) == pytest.approx(np.full(6, 10.0), rel=0.01)
    # Var of the level j months ahead: mean^2 / (w^j a)
    assert levels.var(axis=0) == pytest.approx(100 / (40 * 0.9 ** np.arange(1, 7)), rel=0.05)
    flat = LevelState(40.0, 4.0, 0.9).paths(np.random.default_rng(0), 3, 5, uncertain=False)
    assert (flat == 10.0).all()


def test_step_change_by_hand():
    flat = np.full(60, 20.0)
    shifted = np.r_[np.full(54, 20), np.full(6, 30)]
    months, statistic = step_change(shifted, flat)
    expected = 2 * (180 * np.log(180 / 126) + 1080 * np.log(1080 / 1134))
    assert months == 6 and statistic == pytest.approx(expected)
    assert step_change(shifted, flat, dispersion=2.0)[1] == pytest.approx(expected / 2)
    assert step_change(np.full(10, 5.0), np.full(10, 5.0)) == (0, 0.0)  # too short


def test_drift_variance_by_hand():
    # errors of +-30 on totals of 100 with variance 100: excess (800 + 800) / 20000 = 0.08,
    # a six-month total has (7 x 13) / 36 times a month's random-walk variance
    backtest = np.array([[130.0, 100.0, 100.0], [70.0, 100.0, 100.0]])
    assert drift_variance([backtest], 6) == pytest.approx(0.08 * 36 / 91)
    assert drift_variance([np.array([[100.0, 100.0, 100.0]])], 6) == 0.0
    assert drift_variance([], 6) == 0.0


def test_stack_weights_prefer_the_better_predictive():
    assert stack_weights(np.log([[0.9, 0.1], [0.8, 0.2]])) == pytest.approx([1.0, 0.0],
                                                                             abs=1e-3)
    mixed = stack_weights(np.log([[0.9, 0.1], [0.1, 0.9]]))
    assert mixed == pytest.approx([0.5, 0.5], abs=1e-3)


# ------------------------------------------------------------ common shock
def test_common_shock_is_estimated_and_widens_the_total_only():
    rng = np.random.default_rng(11)
    shared = np.exp(rng.normal(0, 0.2, 84) - 0.02)
    lines = {("S", f"L{i}"): rng.poisson(20 * shared) for i in range(6)}
    lines |= {("T", f"M{i}"): rng.poisson(20 * shared) for i in range(6)}
    model = StartsModel().fit_counts(counts_table(lines))
    assert 0.015 < model.common_.overall < 0.08
    with_shock = model.simulate(6, 3000, seed=5).sum(axis=(0, 2))
    without = model.simulate(6, 3000, seed=5, common=False).sum(axis=(0, 2))
    assert with_shock.std() > 1.5 * without.std()
    assert with_shock.mean() == pytest.approx(without.mean(), rel=0.02)

    independent = {("S", f"L{i}"): rng.poisson(np.full(84, 20.0)) for i in range(12)}
    quiet = StartsModel().fit_counts(counts_table(independent)).common_
    assert quiet.overall + quiet.service < 0.005


def test_common_shock_by_hand():
    counts = np.array([[12.0, 8.0], [11.0, 9.0]])
    means = np.full((2, 2), 10.0)
    shock = CommonShock.estimate(np.tile(counts, 6), np.tile(means, 6), ["A", "A"])
    # one pair in one service: sum_t r1 r2 / sum_t m1 m2 = (2 + 2) / 200, repeated
    assert shock.overall == 0.0
    assert shock.service == pytest.approx(np.log1p(4 / 200))
    draws = CommonShock(0.01, 0.0, 0.5).draw(1, ["A", "B"], 20_000, 3)
    assert np.allclose(draws["A"], draws["B"])  # only the overall part, shared
    assert draws["A"].mean() == pytest.approx(1.0, abs=0.01)


def test_current_common_shock_by_hand():
    # two lines of mean 12.5 (M = 25, noise variance 1/25 = 0.04); the sum runs 25 then
    # 30 (z = 0, 0.2); shock variance 0.04, persistence 0.5.
    # month 1: P = 0.04, gain 0.04 / 0.08 = 0.5, x = 0, P = 0.02
    # month 2: P = 0.25 * 0.02 + 0.04 * 0.75 = 0.035, gain 0.035 / 0.075, x = gain * 0.2
    # ahead 2 months: decay (0.5 + 0.25) / 2 = 0.375
    counts = np.array([[12.0, 16.0], [13.0, 14.0]])
    means = np.full((2, 2), 12.5)
    shock = CommonShock(0.0, 0.04, 0.5)
    expected = np.log1p(0.035 / 0.075 * 0.2) * 0.375
    assert shock.current(counts, means, ["S", "S"], ahead=2)["S"] == pytest.approx(expected)
    assert CommonShock().current(counts, means, ["S", "S"]) == {"S": 0.0}
    unseen = shock.current(counts, np.full((2, 2), np.nan), ["S", "T"])
    assert unseen == {"S": 0.0, "T": 0.0}


def test_shift_levels_moves_each_kind_of_candidate_by_the_same_factor():
    level = CandidateFit("level", level=LevelState(40.0, 4.0, 0.9), shared=True)
    regression = CandidateFit("poisson", params=np.array([np.log(10.0), 0.1]), shared=True)
    flat = CandidateFit("pooled", events=30.0, exposure_months=3.0, shared=True)
    mixture = CandidateFit("stacked", mixture=[level, regression], shared=True)
    alone = CandidateFit("poisson", params=np.array([np.log(10.0)]))  # takes no shock
    fits = {("S", "A"): mixture, ("S", "B"): flat, ("S", "C"): alone,
            ("T", "D"): CandidateFit("zero", shared=True)}
    shift_levels(fits, {"S": np.log(1.2), "T": 0.5})
    assert level.level.mean == pytest.approx(12.0) and level.level.shape == 40.0
    assert np.exp(regression.params[0]) == pytest.approx(12.0)
    assert regression.params[1] == 0.1
    assert flat.events / flat.exposure_months == pytest.approx(12.0)
    assert alone.params[0] == pytest.approx(np.log(10.0))


def _moving_together(jump: tuple[float, ...], seed: int) -> pd.DataFrame:
    """Four lines of six starts a month sharing a yearly shock (sd 0.15), each times
    ``jump`` over the last six of 72 months."""
    rng = np.random.default_rng(seed)
    shared = np.repeat(rng.normal(0, 0.15, 6), 12)
    return counts_table({("S", f"L{i}"): rng.poisson(
        6 * np.exp(shared) * np.r_[np.ones(66), np.full(6, factor)])
        for i, factor in enumerate(jump)})


def test_lines_moving_together_take_the_level_of_their_sum():
    errors = {True: [], False: []}
    for seed in range(4):
        table = _moving_together((1.5,) * 4, seed)
        for common in (True, False):
            model = StartsModel(common=common, candidates=("poisson", "level"),
                                origins=3).fit_counts(table)
            truth = 6 * 1.5 * 4 * np.exp(np.repeat(np.random.default_rng(seed).normal(
                0, 0.15, 6), 12)[-1])
            errors[common].append(abs(np.log(model.expected(1).sum().iloc[0] / truth)))
    assert np.mean(errors[True]) < np.mean(errors[False])


def test_pooling_leaves_lines_that_do_not_move_together_nearly_alone():
    rng = np.random.default_rng(3)
    independent = counts_table({("S", f"L{i}"): rng.poisson(np.full(72, 6.0))
                                for i in range(4)})
    pooled = StartsModel(candidates=("poisson", "level"), origins=3).fit_counts(independent)
    alone = StartsModel(candidates=("poisson", "level"), origins=3,
                        common=False).fit_counts(independent)
    assert abs(pooled.level_shift_.get("S", 0.0)) < 0.02
    assert pooled.expected(3).to_numpy() == pytest.approx(alone.expected(3).to_numpy(),
                                                          rel=0.02)


# ------------------------------------------------ short and lumpy lines (issue 10)
def _spells(category: str, starts: list) -> pd.DataFrame:
    return pd.DataFrame({
        "service": "S", "category": category,
        "client_id": [f"{category}-{i}" for i in range(len(starts))],
        "start_date": pd.to_datetime(starts), "end_date": pd.NaT, "planned_end_date": pd.NaT})


@pytest.fixture(scope="module")
def lumpy_book() -> pd.DataFrame:
    rng = np.random.default_rng(12)
    days = pd.date_range("2014-04-01", "2020-09-30")
    steady = _spells("Steady", np.sort(rng.choice(days, 600)))
    steady.loc[::2, "end_date"] = steady.loc[::2, "start_date"] + pd.Timedelta(days=100)
    steady = steady[steady["end_date"].isna() | (steady["end_date"] <= "2020-09-30")]
    new_code = _spells("New code", np.sort(rng.choice(
        pd.date_range("2020-07-01", "2020-08-31"), 35)))
    recoded = _spells("Recoded", [pd.Timestamp("2019-11-04")] * 30)
    return pd.concat([steady, new_code, recoded], ignore_index=True)


def test_a_new_code_and_a_bulk_recoding_stay_bounded_and_say_so(lumpy_book):
    model = StartsModel().fit(lumpy_book, pd.Timestamp("2020-09-30"))
    observed = StartsModel(cap_multiple=np.inf).fit_counts(
        StartsModel().fit(lumpy_book, "2020-09-30").counts_).counts_  # after bulk removal
    raw_max = {"New code": 21, "Recoded": 30}
    expected = model.expected(12)
    paths = model.simulate(12, 2000, seed=6)
    for category, largest in raw_max.items():
        line = ("S", category)
        assert expected.loc[line].max() <= 3 * largest
        assert paths[list(model.fits_.index).index(line)].max() <= 5 * largest
    assert model.expected(12).loc[("S", "Recoded")].sum() == 0  # a bulk load is not demand
    assert observed.loc[("S", "Recoded")].sum() == 0
    notes = " ".join(model.notes_)
    assert "S / New code: no start before 2020-07" in notes and "flat rate" in notes
    assert "S / Recoded: 30 starts on 2019-11-04" in notes and "bulk load" in notes
    assert model.bulk_loads_[["category", "starts"]].values.tolist() == [["Recoded", 30]]
    assert model.fits_.loc[("S", "Steady"), "note"] == ""


def test_a_runaway_trend_is_capped_and_noted():
    counts = np.r_[np.zeros(40), np.ones(30), [4, 8, 12, 16, 20, 25, 30, 35]]
    model = StartsModel(candidates=("poisson_trend",), step_threshold=np.inf).fit_counts(
        counts_table({("S", "Boom"): counts.astype(int)}))
    assert model.expected(12).to_numpy().max() <= 3 * 35
    assert model.simulate(12, 500, seed=1).max() < 10 * 35


def test_bulk_loads_and_history_begins_by_hand():
    days = pd.to_datetime(["2019-04-01"] * 30 + ["2019-06-03", "2019-09-12"])
    table = pd.DataFrame({"service": "S", "category": "X", "start_date": days})
    months = pd.period_range("2017-04", "2020-03", freq="M")
    found = bulk_loads(table, months)
    assert found[["date", "starts"]].values.tolist() == [[pd.Timestamp("2019-04-01"), 30]]
    busy = pd.DataFrame({"service": "S", "category": "X",
                         "start_date": pd.to_datetime(["2019-04-01"] * 12 + ["2019-05-01"] * 8
                                                      + list(pd.date_range("2017-04-01",
                                                                           periods=300)))})
    assert bulk_loads(busy, months).empty  # 12 in a day is usual for this line
    assert history_begins(np.r_[np.zeros(77), 17, 18]) == (77, True)
    assert history_begins(np.r_[np.zeros(30), np.ones(6), np.zeros(24)]) == (0, False)
    assert history_begins(np.zeros(5)) == (0, False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 400), min_size=1, max_size=60))
def test_any_count_series_gives_finite_bounded_rates(series):
    table = counts_table({("S", "X"): np.array(series)})
    model = StartsModel().fit_counts(table)
    expected = model.expected(6).to_numpy()
    assert np.isfinite(expected).all() and (expected >= 0).all()
    assert expected.max() <= 3 * max(max(series), 1) + 1e-9
    paths = model.simulate(6, 50, seed=1)
    assert paths.min() >= 0 and paths.max() <= 20 * max(max(series), 1) + 50


def test_sparse_lines_follow_their_services_level_when_it_falls():
    # a busy line falls from 20 to 2 starts a month for the last 8 months; a sparse line
    # of the same service (under 24 starts in all) falls with it
    rng = np.random.default_rng(4)
    busy = np.concatenate([rng.poisson(20.0, 28), rng.poisson(2.0, 8)])
    sparse = np.concatenate([rng.poisson(0.6, 28), np.zeros(8, dtype=int)])
    table = counts_table({("S", "Busy"): busy, ("S", "Rare"): sparse})
    model = StartsModel(harmonics=0).fit_counts(table)
    rare = model.fits_.loc[("S", "Rare")]
    assert rare["model"] == "pooled" and rare["starts"] < 24
    assert rare["level_discount"] < 1.0
    flat = sparse.sum() / len(sparse)
    assert rare["rate_per_month"] < flat / 3  # it saw no start for eight months
    paths = model.simulate(6, 2000, seed=1)[list(model.fits_.index).index(("S", "Rare"))]
    assert paths.mean() < flat / 3 and paths.min() >= 0


def test_sparse_lines_of_a_steady_service_keep_their_flat_rate():
    rng = np.random.default_rng(5)
    table = counts_table({("S", "Busy"): rng.poisson(20.0, 60),
                          ("S", "Rare"): rng.poisson(0.3, 60)})
    model = StartsModel(harmonics=0).fit_counts(table)
    rare = model.fits_.loc[("S", "Rare")]
    flat = table.loc[("S", "Rare")].sum() / 60
    assert rare["model"] == "pooled"
    assert rare["rate_per_month"] == pytest.approx(flat, rel=0.35)
