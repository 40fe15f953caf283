"""The closed-form length-of-stay likelihood against scipy.stats and finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from forecastlib.demand.stay_likelihood import negative_loglik
from forecastlib.demand.survival import FAMILIES


def scipy_value(family, theta, time, event, entry):
    params = np.exp(theta)
    shape = () if family == "exponential" else (params[0],)
    dist = FAMILIES[family]
    return -(dist.logpdf(time[event], *shape, scale=params[-1]).sum()
             + dist.logsf(time[~event], *shape, scale=params[-1]).sum()
             - dist.logsf(entry[entry > 0], *shape, scale=params[-1]).sum())


@settings(max_examples=40, deadline=None)
@given(family=st.sampled_from(sorted(FAMILIES)), seed=st.integers(0, 10_000),
       log_shape=st.floats(-1.0, 1.0), log_scale=st.floats(3.0, 7.5))
def test_value_and_gradient_match_scipy(family, seed, log_shape, log_scale):
    rng = np.random.default_rng(seed)
    time = np.ceil(rng.lognormal(6, 1, 60))
    event = rng.random(60) < 0.6
    entry = np.where(rng.random(60) < 0.3, np.floor(time * rng.random(60)), 0.0)
    theta = np.array([log_scale] if family == "exponential" else [log_shape, log_scale])
    value, gradient = negative_loglik(family, theta, time, event, entry)
    assert value == pytest.approx(scipy_value(family, theta, time, event, entry), rel=1e-9)
    numeric = optimize.approx_fprime(
        theta, lambda t: scipy_value(family, t, time, event, entry), 1e-7)
    assert gradient == pytest.approx(numeric, rel=1e-4, abs=1e-3 * (1 + np.abs(numeric).max()))


def test_exponential_by_hand():
    # two ended spells of 10 and 30 days, one open at 20, scale 20:
    # log f = -log 20 - t / 20; log S = -t / 20 -> -(2 log 20 + 60 / 20)
    value, gradient = negative_loglik("exponential", np.log([20.0]),
                                      np.array([10.0, 30.0, 20.0]),
                                      np.array([True, True, False]), np.zeros(3))
    assert value == pytest.approx(2 * np.log(20) + 3.0)
    # d/d log b of -(...) = sum over ended of 1 - t / b, minus sum over open of t / b
    assert gradient[0] == pytest.approx(2 - 40 / 20 - 20 / 20)


def test_far_out_parameters_are_not_finite():
    value, gradient = negative_loglik("weibull", np.array([14.0, -12.0]), np.array([5.0]),
                                      np.array([True]), np.zeros(1))
    assert value == 1e300 and not gradient.any()


def test_maximum_matches_scipy_fit():
    rng = np.random.default_rng(3)
    time = np.ceil(stats.fisk(2.0, scale=300).rvs(800, random_state=rng))
    event = np.ones(800, dtype=bool)
    result = optimize.minimize(lambda t: negative_loglik("loglogistic", t, time, event,
                                                         np.zeros(800)),
                               np.array([0.0, 5.0]), method="TNC", jac=True)
    shape, _, scale = stats.fisk.fit(time, floc=0)
    assert np.exp(result.x) == pytest.approx([shape, scale], rel=1e-3)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_weights_count_repeated_rows(family):
    time = np.array([5.0, 30.0, 30.0, 30.0, 400.0, 400.0])
    event = np.array([True, True, True, True, False, False])
    entry = np.array([0.0, 10.0, 10.0, 10.0, 0.0, 0.0])
    theta = np.array([4.0]) if family == "exponential" else np.array([0.1, 4.0])
    repeated = negative_loglik(family, theta, time, event, entry)
    weighted = negative_loglik(family, theta, time[[0, 1, 4]], event[[0, 1, 4]],
                               entry[[0, 1, 4]], np.array([1.0, 3.0, 2.0]))
    assert weighted[0] == pytest.approx(repeated[0])
    np.testing.assert_allclose(weighted[1], repeated[1])
