"""Price model: keeps the heavy tail, trends prices, and samples whole records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import book

from forecastlib.demand import PriceModel


def test_resampling_keeps_the_tail_and_trends_to_the_start_date(sample):
    model = PriceModel(jitter=0.0).fit(sample.placements, sample.as_at)
    line = ("LAC Placements", "Residential homes")
    pool = model.pools_[line]
    drawn = model.sample(line, 50_000, np.random.default_rng(0))
    assert drawn["unit_cost"].max() == pytest.approx(pool["unit_cost"].max())
    share_pool = (pool["unit_cost"] > 6000).mean()
    assert (drawn["unit_cost"] > 6000).mean() == pytest.approx(share_pool, abs=0.01)
    later = model.sample(line, 50_000, np.random.default_rng(0),
                         start_dates=np.full(50_000, np.datetime64("2018-10-31")))
    growth = later["unit_cost"].mean() / drawn["unit_cost"].mean()
    assert growth == pytest.approx(1 + model.inflation_["LAC Placements"], rel=1e-3)
    assert set(drawn.columns) == {"unit_cost", "unit", "units_per_week", "weeks_per_year",
                                  "income_per_week"}
    assert model.summary_.loc[line, "p99"] > model.summary_.loc[line, "p50"]


def test_given_inflation_and_sparse_lines_fall_back_to_open_placements():
    placements = book(
        {"client_id": "A", "start_date": "2005-01-01", "unit_cost": 500},
        {"client_id": "B", "start_date": "2006-01-01", "unit_cost": 700},
    )
    model = PriceModel(inflation=0.10, min_records=5).fit(placements, "2017-10-31")
    line = ("LAC Placements", "Residential homes")
    assert model.summary_.loc[line, "source"] in {"all starts", "open placements"}
    assert model.inflation_ == {"LAC Placements": 0.10}
    with pytest.raises(KeyError, match="no prices"):
        model.sample(("X", "Y"), 1, np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="not fitted"):
        PriceModel().sample(line, 1, np.random.default_rng(0))
    assert "lines=1" in repr(model) and isinstance(model.summary_, pd.DataFrame)
