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


@pytest.mark.parametrize(("family", "distribution"), [
    ("lognormal", stats.lognorm(0.8, scale=300.0)),
    ("weibull", stats.weibull_min(0.7, scale=400.0)),
    ("exponential", stats.expon(scale=250.0)),
    ("loglogistic", stats.fisk(1.8, scale=250.0)),
])
def test_stay_draws_closed_forms_match_scipy(family, distribution):
    from forecastlib.demand import StayDraws

    shape = distribution.args[0] if distribution.args else 1.0
    draws = StayDraws(family, np.array([shape, 2.0]), np.array([distribution.kwds["scale"],
                                                                 10.0]))
    days = np.array([0.0, 1.0, 90.0, 365.0, 4000.0])
    np.testing.assert_allclose(draws.sf(days, 0), distribution.sf(days), rtol=1e-10)
    q = np.array([0.999, 0.5, 0.1, 1e-6])
    np.testing.assert_allclose(draws.isf(q, np.zeros(4, dtype=int)), distribution.isf(q),
                               rtol=1e-10)
    assert draws.frozen(0).sf(90.0) == pytest.approx(distribution.sf(90.0))
    # per-element draws: element i uses draw k_i
    both = draws.sf(np.array([90.0, 90.0]), np.array([0, 1]))
    assert both[1] == pytest.approx(draws.frozen(1).sf(90.0)) and len(draws) == 2


def test_sparse_lines_are_pulled_toward_their_service_in_proportion_to_their_data():
    rich = synthetic_book(3000, stats.lognorm(0.9, scale=300), seed=5, category="Rich")
    small = synthetic_book(40, stats.lognorm(0.9, scale=1500), seed=6, category="Small")
    tiny = synthetic_book(4, stats.lognorm(0.9, scale=1500), seed=7, category="Tiny")
    record = pd.concat([rich, small, tiny], ignore_index=True)
    pooled = LengthOfStayModel(history_start="2011-04-01").fit(record, "2017-10-31")
    alone = LengthOfStayModel(history_start="2011-04-01", pooling=False).fit(record,
                                                                              "2017-10-31")
    fits = pooled.fits_
    # the rich line keeps its own fit; the others sit between their own and the service's
    assert fits.loc[("S", "Rich"), "median_days"] == pytest.approx(
        alone.fits_.loc[("S", "Rich"), "median_days"], rel=0.02)
    assert fits.loc[("S", "Rich"), "credibility"] > 0.95
    assert (fits.loc[("S", "Tiny"), "credibility"] < fits.loc[("S", "Small"), "credibility"]
            < fits.loc[("S", "Rich"), "credibility"])
    service_median = fits.loc[("S", "Rich"), "median_days"]
    for line in [("S", "Small"), ("S", "Tiny")]:
        assert service_median < fits.loc[line, "median_days"]
        assert fits.loc[line, "scale_sd"] > fits.loc[("S", "Rich"), "scale_sd"]
    assert fits.loc[("S", "Small"), "median_days"] > fits.loc[("S", "Tiny"), "median_days"]
    assert pooled.tau_.shape == (2,) and (pooled.tau_ > 0).all()


def test_parameter_draws_are_reproducible_and_spread_like_the_posterior():
    model = LengthOfStayModel(history_start="2011-04-01", draws=400).fit(
        synthetic_book(300, stats.lognorm(0.9, scale=300), seed=8), "2017-10-31")
    line = ("S", "X")
    first, again = model.parameter_draws(line, seed=3), model.parameter_draws(line, seed=3)
    np.testing.assert_array_equal(first.scale, again.scale)
    assert not np.array_equal(first.scale, model.parameter_draws(line, seed=4).scale)
    assert len(first) == 400 and first.family == model.fits_.loc[line, "family"]
    spread = np.log(first.scale).std()
    assert spread == pytest.approx(model.fits_.loc[line, "scale_sd"], rel=0.15)
    assert np.log(first.scale).mean() == pytest.approx(
        np.log(model.fits_.loc[line, "scale"]), abs=3 * spread / 20)
    assert LengthOfStayModel(history_start="2011-04-01", draws=0).fit(
        synthetic_book(50, stats.expon(scale=100), seed=9), "2017-10-31"
    ).parameter_draws(line, seed=1) is None


def _capped_book(caps: list[str]) -> pd.DataFrame:
    """Four spells from 1 April 2017: two end after 100 days, one after 200 days five
    days before its cap (an 18th birthday), one is open on 31 October 2017."""
    book = read_placements(pd.DataFrame({
        "placement_id": list("abcd"), "client_id": list("abcd"), "service": "S",
        "category": "X", "start_date": "2017-04-01",
        "end_date": ["2017-07-09", "2017-07-09", "2017-10-17", ""], "unit_cost": "1",
    }))
    book["latest_end_date"] = pd.to_datetime(caps)
    return book


def test_an_end_at_the_18th_birthday_is_censored_not_an_end():
    # durations: 100, 100, 200 (ended 5 days before its cap), 214 open at 31 October.
    # Exponential MLE: total days / ends = 614 / 2 with the capped end censored, 614 / 3
    # counted as an end (a cap 30 days later is not the cap's doing).
    options = {"families": ("exponential",), "min_events": 1, "draws": 0,
               "pooling": False, "history_start": "2017-04-01"}
    capped = _capped_book(["2030-01-01", "2030-01-01", "2017-10-22", "2030-01-01"])
    later = _capped_book(["2030-01-01", "2030-01-01", "2017-11-16", "2030-01-01"])
    no_cap = capped.drop(columns="latest_end_date")
    scale = {name: LengthOfStayModel(**options).fit(book, "2017-10-31").fits_.loc[
        ("S", "X"), "scale"] for name, book in
        {"capped": capped, "later": later, "none": no_cap}.items()}
    assert scale["capped"] == pytest.approx(614 / 2, rel=1e-4)
    assert scale["later"] == pytest.approx(614 / 3, rel=1e-4)
    assert scale["none"] == pytest.approx(614 / 3, rel=1e-4)


def test_capped_ends_leave_open_moved_and_uncapped_segments_alone():
    from forecastlib.demand.history import censor_capped_ends, segments

    book = _capped_book([None, None, "2017-10-22", "2017-10-31"])
    marked = censor_capped_ends(segments(book), book)
    assert marked["moved"].tolist() == [False, False, True, False]
    empty = book.iloc[:0]
    assert censor_capped_ends(segments(empty), empty).empty
