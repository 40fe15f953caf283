"""Session fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sample():
    """The sample county, loaded once and shared: tests must not change it (checked at the
    end of the session; use ``.copy()``)."""
    import pandas as pd

    from forecastlib.datasets import load_sample

    loaded = load_sample()
    frames = {name: getattr(loaded, name) for name in ("placements", "budget", "actuals")}
    before = {name: pd.util.hash_pandas_object(frame).sum() for name, frame in frames.items()}
    yield loaded
    after = {name: pd.util.hash_pandas_object(getattr(loaded, name)).sum() for name in frames}
    assert after == before, "a test changed the shared sample county (use .copy())"


@pytest.fixture(scope="session")
def sample_models(sample):
    """Demand models fitted once to the sample county (shared by scenario tests)."""
    from forecastlib.simulation import DemandModels

    return DemandModels.fit(sample.placements, sample.as_at)
