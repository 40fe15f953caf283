"""Session fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sample():
    from forecastlib.datasets import load_sample

    return load_sample()


@pytest.fixture(scope="session")
def sample_models(sample):
    """Demand models fitted once to the sample county (shared by scenario tests)."""
    from forecastlib.simulation import DemandModels

    return DemandModels.fit(sample.placements, sample.as_at)
