"""The self-backtest: past records, outturns to the penny, scores, conformal factors,
calibration, and the command line."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from builders import book, budget_book
from hypothesis import given, settings
from hypothesis import strategies as st

from forecastlib import ConfigError, backtest_outturn, calibrate_outturn, record_as_at
from forecastlib.cli import main
from forecastlib.outturn import forecast_outturn
from forecastlib.outturn.backtest import _scores, conformal_factor

LINE = ("LAC Placements", "Residential homes")


def _small_book():
    rows = [dict(client_id=f"C{i}", start_date=f"2013-{1 + i % 12:02d}-01",
                 end_date=f"2014-{1 + i % 12:02d}-10", unit_cost=700) for i in range(12)]
    rows.append(dict(client_id="X", start_date="2015-01-01", unit_cost=700))
    rows.append(dict(client_id="Y", start_date="2016-10-01", end_date="2016-12-31",
                     planned_end_date="2017-01-31", unit_cost=1400))
    rows.append(dict(client_id="Z", start_date="2017-05-01", unit_cost=700))
    return book(*rows)


BUDGET = dict(service="LAC Placements", category="Residential homes", annual_budget=1000)


def test_record_as_at_removes_later_starts_and_blanks_later_ends():
    record = _small_book()
    past = record_as_at(record, "2016-11-30")
    assert "Z" not in set(past["client_id"])  # starts after the origin
    y = past[past["client_id"] == "Y"].iloc[0]
    assert pd.isna(y["end_date"]) and pd.isna(y["planned_end_date"])
    closed = past[past["client_id"] == "C0"].iloc[0]
    assert closed["end_date"] == pd.Timestamp("2014-01-10")  # ended before: kept
    kept = record_as_at(record, "2016-11-30", planned_ends="keep")
    assert kept.loc[kept["client_id"] == "Y", "planned_end_date"].iloc[0] == \
        pd.Timestamp("2017-01-31")
    assert len(record_as_at(record, "2013-01-01")) == 1
    assert record_as_at(record, "2012-01-01").empty
    with pytest.raises(ConfigError):
        record_as_at(record, "2016-11-30", planned_ends="sometimes")


def test_outturn_is_the_accrued_cost_of_the_year_to_the_penny():
    result = backtest_outturn(_small_book(), budget_book(BUDGET), "2017-10-31", years=1,
                              months=[9, 3], simulations=200, seed=1, new_starts=False)
    # X: all 365 days of FY2016 at 100 a day; Y: 1 Oct to 31 Dec 2016, 92 days at 200.
    expected = 365 * 100 + 92 * 200
    table = result.table
    assert result.years == [2016]
    assert list(table["as_at"].dt.strftime("%Y-%m-%d").unique()) == ["2016-06-30", "2016-12-31"]
    assert table["outturn"].round(2).eq(expected).all()
    assert set(table["months_before_year_end"]) == {9, 3}
    np.testing.assert_allclose(table["error"], table["mean"] - expected)
    # On 30 June 2016 Y had not started and X's end was unknown: the forecast is X's alone.
    june = table[(table["months_before_year_end"] == 9) & (table["service"] == LINE[0])]
    assert float(june["mean"].iloc[0]) < 36_500 + 0.01


def test_backtest_refuses_years_without_history():
    with pytest.raises(ConfigError, match="history"):
        backtest_outturn(_small_book(), budget_book(BUDGET), "2017-10-31", years=5)
    with pytest.raises(ConfigError):
        backtest_outturn(_small_book(), budget_book(BUDGET), "2017-10-31", months=[12])
    with pytest.raises(ConfigError):
        backtest_outturn(_small_book(), budget_book(BUDGET), "2017-10-31", years=0)


def test_scores_by_hand():
    outturn = np.array([110.0, 95.0, 100.0, 130.0, 100.004, 101.0])
    mean = np.full(6, 100.0)
    lower = np.array([90.0, 90.0, 90.0, 90.0, 100.0, 100.0])
    upper = np.array([120.0, 120.0, 120.0, 120.0, 100.0, 100.0])
    scores = _scores(outturn, mean, lower, upper)
    np.testing.assert_allclose(scores, [0.5, 0.5, 0.0, 1.5, 0.0, math.inf])


def test_conformal_factor_by_hand():
    scores = np.array([0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8])
    assert conformal_factor(scores, 0.8) == pytest.approx(1.6)  # ceil(10 * 0.8) = 8th
    assert conformal_factor(scores[:3], 0.8) == math.inf  # ceil(4 * 0.8) = 4 > 3
    assert conformal_factor(np.array([]), 0.8) == math.inf


@settings(max_examples=60, deadline=None)
@given(st.floats(-1e6, 1e6), st.floats(1.0, 1e5), st.floats(1.0, 1e5), st.floats(-2e6, 2e6))
def test_a_score_within_one_is_a_hit(mean, below, above, outturn):
    lower, upper = mean - below, mean + above
    score = _scores(np.array([outturn]), np.array([mean]), np.array([lower]),
                    np.array([upper]))[0]
    inside = lower - 0.01 <= outturn <= upper + 0.01
    if abs(score - 1) > 1e-9:
        assert (score <= 1) == inside


@pytest.fixture(scope="module")
def sample_forecast(sample):
    return forecast_outturn(sample.placements, sample.budget, sample.as_at,
                            actuals=sample.actuals, simulations=400, seed=3)


def test_calibrate_scales_interval_ends_from_the_mean(sample_forecast):
    result = sample_forecast
    same = calibrate_outturn(result, 1.0)
    pd.testing.assert_frame_equal(same.lines, result.lines)
    wide = calibrate_outturn(result, 1.5, total_factor=2.5)
    np.testing.assert_allclose(wide.lines["mean"], result.lines["mean"])
    for end in ("lower", "upper"):
        scale = (wide.total[end] - wide.total["mean"]) / (result.total[end] - result.total["mean"])
        assert scale == pytest.approx(2.5)
    np.testing.assert_allclose(wide.outturns.sum(axis=0) - wide.outturns.sum(axis=0).mean(),
                               2.5 * (result.outturns.sum(axis=0)
                                      - result.outturns.sum(axis=0).mean()), rtol=1e-9,
                               atol=1e-3)
    only_lines = calibrate_outturn(result, 1.5)
    np.testing.assert_allclose(only_lines.lines["upper"] - only_lines.lines["mean"],
                               1.5 * (result.lines["upper"] - result.lines["mean"]),
                               rtol=1e-9, atol=1e-6)
    assert wide.total["rag"] == result.total["rag"]
    with pytest.raises(ConfigError):
        calibrate_outturn(result, math.inf)


@pytest.fixture(scope="module")
def sample_backtest(sample):
    return backtest_outturn(sample.placements, sample.budget, sample.as_at, years=1,
                            months=[8, 4], simulations=300, seed=2)


def test_sample_backtest_summaries(sample_backtest):
    result = sample_backtest
    table = result.table
    assert set(table["months_before_year_end"]) == {8, 4}
    hits = (table["outturn"] >= table["lower"] - 0.01) & (table["outturn"] <= table["upper"] + 0.01)
    assert table["hit"].equals(hits)
    coverage = result.coverage()
    lines = table[table["service"] != "Total"]
    assert coverage.loc[("All lines", ""), "coverage"] == pytest.approx(lines["hit"].mean())
    assert coverage.loc[("All lines", ""), "forecasts"] == len(lines)
    assert coverage["calibrated_coverage"].isna().all()  # one year: nothing to leave out
    accuracy = result.accuracy()
    assert list(accuracy.index) == [8, 4]
    factor = result.calibration_factor()
    spread = lines[lines["upper"] > lines["lower"]]
    assert (spread["score"] <= factor).mean() >= result.interval


def test_backtest_calibrates_a_forecast(sample_backtest, sample_forecast):
    calibrated = sample_backtest.calibrate(sample_forecast)
    factor = sample_backtest.calibration_factor()
    total = sample_backtest.calibration_factor(total=True)
    assert "calibrated on the backtest of FY2016" in calibrated.notes[-1]
    assert total == math.inf  # two past totals: too few for a factor of their own
    assert "too few" in calibrated.notes[-1]
    width = calibrated.total["upper"] - calibrated.total["mean"]
    assert width == pytest.approx(factor * (sample_forecast.total["upper"]
                                            - sample_forecast.total["mean"]))
    assert math.isfinite(factor) and factor > 0


def test_backtest_command_json_and_csv(tmp_path, capsys):
    from builders import placements_frame

    rows = [dict(client_id=f"C{i}", start_date=f"2013-{1 + i % 12:02d}-01",
                 end_date=f"2014-{1 + i % 12:02d}-10", unit_cost=700) for i in range(12)]
    rows.append(dict(client_id="X", start_date="2015-01-01", unit_cost=700))
    placements_frame(rows).to_csv(tmp_path / "placements.csv", index=False)
    (tmp_path / "budget.csv").write_text("service,category,annual_budget\n"
                                         "LAC Placements,Residential homes,1000\n")
    args = ["backtest", "--placements", str(tmp_path / "placements.csv"),
            "--budget", str(tmp_path / "budget.csv"), "--as-at", "2017-10-31", "--years", "1",
            "--months", "6", "3", "--simulations", "200", "--no-new-starts"]
    assert main([*args, "--format", "json", "--output", str(tmp_path / "b.json")]) == 0
    data = json.loads((tmp_path / "b.json").read_text())
    assert data["financial_years"] == [2016]
    assert [row["as_at"] for row in data["forecasts"]][::2] == ["2016-09-30", "2016-12-31"]
    assert data["forecasts"][0]["outturn"] == pytest.approx(36_500)
    assert {"lines", "total"} == set(data["calibration_factor"])
    assert data["coverage"][-1]["service"] == "Total"
    assert main([*args, "--format", "csv"]) == 0
    csv = capsys.readouterr().out
    assert csv.splitlines()[0].startswith("financial_year,as_at,months_before_year_end")
    assert len(csv.splitlines()) == 1 + 4
    assert main(args) == 0
    assert "Conformal factor" in capsys.readouterr().out
    assert main([*args, "--years", "4"]) == 2  # history starts in FY2013
    assert "history" in capsys.readouterr().err


@pytest.mark.slow
def test_forecast_calibrate_option(monkeypatch, capsys):
    import forecastlib.cli.forecast as command
    from forecastlib.datasets import sample_path

    quick = command.backtest_outturn

    def small(*args, **kwargs):
        return quick(*args, **{**kwargs, "years": 1, "months": [6], "simulations": 200})

    monkeypatch.setattr(command, "backtest_outturn", small)
    args = ["forecast", "--placements", str(sample_path("placements.csv")),
            "--budget", str(sample_path("budget.csv")), "--as-at", "2017-10-31",
            "--simulations", "300", "--seed", "1", "--format", "json"]
    assert main(args) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main([*args, "--calibrate"]) == 0
    captured = capsys.readouterr()
    calibrated = json.loads(captured.out)
    assert "calibrated on the backtest" in captured.err
    assert calibrated["total"]["forecast"]["mean"] == plain["total"]["forecast"]["mean"]
    assert calibrated["total"]["forecast"]["upper"] != plain["total"]["forecast"]["upper"]


def test_origins_spread_over_an_executor_give_the_same_table():
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    def run(executor=None):
        return backtest_outturn(_small_book(), budget_book(BUDGET), "2017-10-31", years=1,
                                months=[9, 6, 3], refit_every=2, simulations=200, seed=1,
                                executor=executor).table

    local = run()
    assert len(local) == 6  # three origins, a line and the total each
    with ThreadPoolExecutor(2) as pool:
        pd.testing.assert_frame_equal(run(pool), local)
    with ProcessPoolExecutor(2) as pool:
        pd.testing.assert_frame_equal(run(pool), local)
