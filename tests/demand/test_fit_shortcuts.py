"""The demand fits' shortcuts give the numbers of the long way round.

Poisson regressions by :func:`poisson_newton` against ``statsmodels``' ``Poisson``; NB2
started where ``statsmodels`` starts it; memoised Poisson fits against fresh ones; log
pmfs against ``scipy.stats``; the exponential's closed-form maximum against a numerical
search; distinct spell rows against ``np.unique``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from statsmodels.discrete.discrete_model import NegativeBinomial, Poisson

from forecastlib.demand.level import negbin_logpmf
from forecastlib.demand.start_candidates import (
    CandidateFitter,
    design_matrix,
    fit_glm,
    logpmf,
    poisson_newton,
)
from forecastlib.demand.stay_likelihood import StayLikelihood
from forecastlib.demand.survival import _fit_family, _spells


def series(seed: int, months: int, trend: bool, step: bool, offset: bool):
    rng = np.random.default_rng(seed)
    ordinals = np.arange(600, 600 + months)
    design = design_matrix(ordinals, ordinals[-1], trend, 1, ordinals[-6] if step else None)
    beta = np.r_[rng.normal(1.5, 1.0), rng.normal(0.0, 0.3, design.shape[1] - 1)]
    exposure = rng.normal(0.0, 0.2, months) if offset else np.zeros(months)
    mean = np.exp(design @ beta + exposure) * rng.gamma(4.0, 0.25, months)
    return rng.poisson(mean).astype(float), design, exposure


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(18, 90), st.booleans(), st.booleans(),
       st.booleans())
def test_poisson_newton_is_statsmodels_newton(seed, months, trend, step, offset):
    counts, design, exposure = series(seed, months, trend, step, offset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = Poisson(counts, design, offset=exposure).fit(disp=0, maxiter=200,
                                                              method="newton")
    params, cov, iterations = poisson_newton(counts, design, exposure)
    np.testing.assert_allclose(params, result.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cov, result.cov_params(), rtol=1e-8, atol=1e-14)
    assert iterations == result.mle_retvals["iterations"]


def test_negative_binomial_starts_where_statsmodels_starts_it():
    for seed in range(12):
        counts, design, exposure = series(seed, 60, seed % 2 == 0, seed % 3 == 0, True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = NegativeBinomial(counts, design, loglike_method="nb2", offset=exposure)
            result = model.fit(disp=0, maxiter=100, method="newton")
        if not result.mle_retvals["converged"]:
            continue
        if result.params[-1] < 0 or not np.all(np.isfinite(result.cov_params())):
            with pytest.raises(ValueError):  # refused, as the statsmodels start is
                fit_glm(counts, design, exposure, negbin=True)
            continue
        params, cov = fit_glm(counts, design, exposure, negbin=True)
        np.testing.assert_allclose(params, result.params, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(cov, result.cov_params(), rtol=1e-8, atol=1e-14)


def test_poisson_fit_of_nothing_fails_as_before():
    design = design_matrix(np.arange(24), 23, True, 1)
    with pytest.raises(ValueError):
        fit_glm(np.zeros(24), design, np.zeros(24), negbin=False)


def test_memoised_fits_are_the_fresh_fits_and_failures_fail_again():
    counts, _, exposure = series(7, 72, True, False, False)
    months = pd.period_range("2015-04", periods=72, freq="M")
    plain = CandidateFitter(months[-1])
    memo = plain.with_memo()
    names = ["poisson_trend", "poisson", "level"]
    for cut in (48, 60, 72, 60):  # the second 60 comes from the memo
        steps = {True: months[cut - 5], False: None}
        fresh = plain.fit_all(names, counts[:cut], months[:cut], exposure[:cut], np.ones(12),
                              steps)
        kept = memo.fit_all(names, counts[:cut], months[:cut], exposure[:cut], np.ones(12),
                            steps)
        for name in names:
            assert np.array_equal(fresh[name].params, kept[name].params)
            assert np.array_equal(fresh[name].fitted, kept[name].fitted)
            assert fresh[name].step_from == kept[name].step_from
        assert plain.find_steps(counts[:cut], months[:cut], exposure[:cut]) == \
            memo.find_steps(counts[:cut], months[:cut], exposure[:cut])
    assert len(memo.memo) > 0 and plain.memo is None
    for _ in range(2):
        with pytest.raises(ValueError):
            memo.poisson(np.zeros(24), months[:24], np.zeros(24), True)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=1, max_size=30),
       st.floats(0.05, 40.0), st.floats(0.01, 0.99))
def test_log_pmfs_are_scipys(counts, size, prob):
    counts = np.asarray(counts, dtype=float)
    assert np.array_equal(negbin_logpmf(counts, np.array([size]), np.array([prob])),
                          stats.nbinom.logpmf(counts, size, prob))
    mean = np.full(len(counts), size)
    assert np.array_equal(logpmf(counts, mean, 0.0), stats.poisson.logpmf(counts, mean))


def test_exponential_maximum_in_closed_form_beats_a_numerical_search():
    rng = np.random.default_rng(3)
    time = rng.exponential(300.0, 400).round() + 1
    entry = np.where(rng.random(400) < 0.3, np.floor(time * rng.random(400)), 0.0)
    event = rng.random(400) < 0.7
    spells = StayLikelihood(time, event, entry)
    fit = _fit_family("exponential", spells)
    # by hand: time at risk after entry over ended spells
    assert fit.scale == pytest.approx((time - entry).sum() / event.sum(), rel=1e-12)
    search = optimize.minimize_scalar(lambda t: spells("exponential", np.array([t]))[0],
                                      bounds=(0.0, 12.0), method="bounded",
                                      options={"xatol": 1e-10})
    assert np.log(fit.scale) == pytest.approx(search.x, abs=1e-6)
    assert fit.loglik >= -search.fun - 1e-9
    assert fit.aic == pytest.approx(2 - 2 * fit.loglik)


def test_exponential_with_no_ended_spell_sits_at_the_bound():
    fit = _fit_family("exponential", StayLikelihood([30.0, 50.0], [False, False], [0.0, 0.0]))
    assert fit.scale == pytest.approx(np.exp(14.0))


def test_distinct_spell_rows_are_np_uniques():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"duration": rng.integers(1, 40, 500).astype(float),
                          "event": rng.random(500) < 0.6,
                          "entry": rng.choice([0.0, 3.0, 10.0], 500)})
    spells = _spells(frame)
    rows = frame[["duration", "event", "entry"]].to_numpy(dtype=float)
    distinct, counts = np.unique(rows, axis=0, return_counts=True)
    assert np.array_equal(spells.time, distinct[:, 0])
    assert np.array_equal(spells.event, distinct[:, 1].astype(bool))
    assert np.array_equal(spells.entry, distinct[:, 2])
    assert np.array_equal(spells.weight, counts)
    empty = _spells(frame.iloc[:0])
    assert len(empty) == 0 and empty("weibull", np.zeros(2))[0] == 0.0
