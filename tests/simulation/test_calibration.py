"""Calibration study: 80% intervals cover truth-known outturns 72-88% of the time, and
the mean's error is close to an oracle's that knows the true parameters."""

from __future__ import annotations

import warnings

from forecastlib.datasets.calibration import calibration_study


def test_intervals_cover_truth_known_outturns_and_the_mean_is_near_the_oracle():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        study = calibration_study(authorities=20, simulations=800)
    assert len(study) == 20 * 2 * 3
    coverage = study["covered"].mean()
    assert 0.72 <= coverage <= 0.88, coverage
    assert study["error"].mean() <= 1.25 * study["oracle_error"].mean()
