"""Session fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sample():
    from forecastlib.datasets import load_sample

    return load_sample()
