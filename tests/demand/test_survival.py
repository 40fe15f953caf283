"""Length-of-stay model: recovers known distributions under censoring and truncation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecastlib.demand import FAMILIES, LengthOfStayModel
from forecastlib.records import read_placements


def synthetic_book(n: int, distribution, seed: int, category: str = "X") -> pd.DataFrame:
    """Spells starting uniformly over 20 years; the record starts in 2011 (truncation)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("1998-01-01") + rng.integers(0, 20 * 365, n).astype("timedelta64[D]")
    length = np.maximum(1, np.round(distribution.rvs(size=n, random_state=rng))).astype(int)
    end = start + (length - 1).astype("timedelta64[D]")
    keep = end >= np.datetime64("2011-04-01")
    as_at = np.datetime64("2017-10-31")
    ended = end[keep] <= as_at
    return read_placements(pd.DataFrame({
        "placement_id": [f"{category}{i}" for i in range(keep.sum())],
        "client_id": [f"{category}{i}" for i in range(keep.sum())],
        "service": "S", "category": category,
        "start_date": np.datetime_as_string(start[keep]),
        "end_date": np.where(ended, np.datetime_as_string(end[keep]), ""),
        "unit_cost": "1",
    }))


@pytest.mark.parametrize(("family", "distribution"), [
    ("lognormal", stats.lognorm(0.9, scale=300)),
    ("weibull", stats.weibull_min(0.7, scale=400)),
    ("exponential", stats.expon(scale=250)),
])
def test_parametric_fit_recovers_the_mean_despite_censoring_and_truncation(family,
                                                                           distribution):
    model = LengthOfStayModel(history_start="2011-04-01").fit(
        synthetic_book(3000, distribution, seed=1), "2017-10-31")
    fit = model.fits_.loc[("S", "X")]
    assert fit["family"] in FAMILIES
    assert fit["mean_days"] == pytest.approx(distribution.mean(), rel=0.12)
    assert fit["aic"] <= min(v for k, v in fit.items() if k.startswith("aic_")) + 1e-9
    km = model.survival_[("S", "X")]
    assert (km["lower"] <= km["survival"]).all() and (km["survival"] <= km["upper"]).all()
    assert km["survival"].is_monotonic_decreasing


def test_conditional_remaining_duration_matches_the_conditional_distribution():
    distribution = stats.lognorm(0.9, scale=300)
    model = LengthOfStayModel(history_start="2011-04-01").fit(
        synthetic_book(3000, distribution, seed=2), "2017-10-31")
    fitted = model.distribution(("S", "X"))
    rng = np.random.default_rng(0)
    elapsed = np.full(20_000, 400.0)
    remaining = model.sample_remaining([("S", "X")] * len(elapsed), elapsed, rng)
    # P(remaining > 200 | lasted 400) = S(600) / S(400)
    expected = fitted.sf(600) / fitted.sf(400)
    assert (remaining > 200).mean() == pytest.approx(expected, abs=0.015)
    many = model.sample_remaining([("S", "X")] * 3, np.array([0.0, 10.0, 5000.0]), rng, size=7)
    assert many.shape == (3, 7) and (many >= 1).all()


def test_sparse_line_borrows_the_service_fit_and_unknown_line_is_named():
    rich = synthetic_book(800, stats.expon(scale=200), seed=3, category="Rich")
    sparse = synthetic_book(6, stats.expon(scale=200), seed=4, category="Sparse")
    model = LengthOfStayModel(history_start="2011-04-01").fit(
        pd.concat([rich, sparse], ignore_index=True), "2017-10-31")
    assert model.fits_.loc[("S", "Sparse"), "source"] in {"service", "all"}
    with pytest.raises(KeyError, match="no length of stay"):
        model.distribution(("S", "Missing"))
    assert "lines=2" in repr(model)


def test_unfitted_and_bad_families_are_refused():
    with pytest.raises(RuntimeError, match="not fitted"):
        LengthOfStayModel().sample_remaining([("S", "X")], [1], np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown families"):
        LengthOfStayModel(families=("gamma",)).fit(
            synthetic_book(50, stats.expon(scale=100), seed=5), "2017-10-31")
