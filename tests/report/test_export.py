"""The contract's JSON shape, CSV and text tables."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from builders import book, budget_book

from forecastlib.outturn import forecast_outturn
from forecastlib.report import format_outturn, gbp_thousands, result_to_csv, result_to_json_dict

FIGURES = {"budget", "actual_to_date", "forecast", "variance", "rag", "prob_overspend",
           "year_end_count"}


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
        assert set(line["year_end_count"]) == {"mean", "p50", "lower", "upper"}
        count = line["year_end_count"]
        assert 0 <= count["lower"] <= count["p50"] <= count["upper"]
        assert 0.0 <= line["prob_overspend"] <= 1.0
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


def test_year_end_count_and_prob_overspend_come_from_the_simulations(sample):
    result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
                              actuals=sample.actuals, simulations=300, seed=3)
    payload = result_to_json_dict(result)
    running = result.year_end_running.sum(axis=0)
    assert payload["total"]["year_end_count"]["mean"] == pytest.approx(running.mean(), abs=1e-4)
    assert payload["total"]["year_end_count"]["upper"] == pytest.approx(
        float(np.quantile(running, 0.9)), abs=1e-4)
    outturn = result.outturns.sum(axis=0)
    assert payload["total"]["prob_overspend"] == pytest.approx(
        float(np.mean(outturn > result.total["budget"])), abs=1e-6)
    first = payload["lines"][0]
    line = (first["service"], first["category"])
    assert first["prob_overspend"] == pytest.approx(
        result.probability_above(result.lines.loc[line, "budget"], line), abs=1e-6)
    frame = pd.read_csv(io.StringIO(result_to_csv(result)), keep_default_na=False)
    assert frame["year_end_count_mean"].iloc[-1] == pytest.approx(running.mean(), abs=1e-4)
    assert frame["prob_overspend"].iloc[0] == pytest.approx(first["prob_overspend"])


def test_exact_forecast_counts_the_placements_running_on_31_march():
    placements = book({"start_date": "2017-04-01", "end_date": "2018-06-30", "unit_cost": 700},
                      {"start_date": "2017-04-01", "end_date": "2017-12-31", "unit_cost": 700},
                      {"start_date": "2017-05-01", "end_date": "2018-03-31", "unit_cost": 700})
    budget = budget_book({"service": "LAC Placements", "category": "Residential homes",
                          "annual_budget": "1"})
    result = forecast_outturn(placements, budget, "2017-10-31", new_starts=False)
    assert result.simulations == 0
    payload = result_to_json_dict(result)
    assert payload["lines"][0]["year_end_count"] == {"mean": 2.0, "p50": 2.0, "lower": 2.0,
                                                     "upper": 2.0}
    assert payload["total"]["prob_overspend"] == 1.0
