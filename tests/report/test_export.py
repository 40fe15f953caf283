"""The contract's JSON shape, CSV and text tables."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from forecastlib.outturn import forecast_outturn
from forecastlib.report import format_outturn, gbp_thousands, result_to_csv, result_to_json_dict

FIGURES = {"budget", "actual_to_date", "forecast", "variance", "rag"}


@pytest.fixture(scope="module")
def result(sample):
    return forecast_outturn(sample.placements, sample.budget, sample.as_at,
                            actuals=sample.actuals, new_starts=False)


def test_json_has_exactly_the_contract_shape(result):
    payload = result_to_json_dict(result)
    assert set(payload) == {"as_at", "financial_year", "simulations", "interval", "lines",
                            "total"}
    assert payload["as_at"] == "2017-10-31" and payload["financial_year"] == 2017
    assert isinstance(payload["simulations"], int) and payload["interval"] == 0.8
    for line in payload["lines"]:
        assert set(line) == {"service", "category"} | FIGURES
        assert set(line["forecast"]) == {"mean", "p50", "lower", "upper"}
        assert line["rag"] in {"green", "amber", "red", "n/a"}  # n/a: growth / savings lines
        assert all(isinstance(v, float) for v in line["forecast"].values())
    assert set(payload["total"]) == FIGURES
    keys = [(line["service"], line["category"]) for line in payload["lines"]]
    assert keys == sorted(keys)
    total = sum(line["forecast"]["mean"] for line in payload["lines"])
    assert abs(total - payload["total"]["forecast"]["mean"]) < 0.01 * len(keys)


def test_csv_round_trips_with_a_total_row(result):
    frame = pd.read_csv(io.StringIO(result_to_csv(result)), keep_default_na=False)
    assert frame.iloc[-1]["service"] == "Total"
    assert len(frame) == len(result.lines) + 1
    assert frame["mean"].iloc[:-1].sum() == pytest.approx(frame["mean"].iloc[-1], abs=1)


def test_table_fits_100_columns_and_shows_thousands_with_brackets(result):
    text = format_outturn(result)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "(GBP thousands)" in text and "Total" in text
    assert gbp_thousands(-1_500) == "(2)" and gbp_thousands(499) == "0"
