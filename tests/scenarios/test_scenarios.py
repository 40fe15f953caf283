"""Scenarios: strict files, every kind from a file and from Python, exact deterministic
effects under common random numbers, and compare()."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from builders import book, budget_book

import forecastlib as fl
from forecastlib.cli import main
from forecastlib.scenarios import ScenarioError, load_scenario
from forecastlib.whatif import compare

AS_AT = "2017-10-31"
HOMES = ("LAC Placements", "Residential homes")


@pytest.fixture(scope="module")
def fitted(sample, sample_models):
    models = sample_models
    base = fl.forecast_outturn(sample.placements, sample.budget, sample.as_at,
                               actuals=sample.actuals, simulations=400, seed=3, models=models)
    return models, base


def run(sample, models, changes, name="test"):
    scenario = load_scenario({"name": name, "changes": changes})
    return fl.forecast_outturn(sample.placements, sample.budget, sample.as_at,
                               actuals=sample.actuals, simulations=400, seed=3, models=models,
                               scenario=scenario)


def untouched_except(base, result, *changed):
    for position, line in enumerate(base.lines.index):
        if line not in changed:
            np.testing.assert_array_equal(base.outturns[position], result.outturns[position])


def test_files_in_yaml_and_json_and_strict_errors(tmp_path):
    yaml_file = tmp_path / "extra.yaml"
    yaml_file.write_text("name: Five extra\nchanges:\n  - kind: extra_placements\n"
                         "    service: LAC Placements\n    category: Residential homes\n"
                         "    count: 5\n    start: 2017-11-01\n")
    assert load_scenario(yaml_file).changes[0].count == 5
    json_file = tmp_path / "growth.json"
    json_file.write_text(json.dumps({"name": "Referrals up", "changes": [
        {"kind": "demand_growth", "service": "*", "percent": 22, "start": "2018-01-01"}]}))
    assert load_scenario(json_file).changes[0].percent == 22
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nchanges:\n  - kind: savings\n    service: LD\n    amount: 5\n"
                   "    start: 2017-12-01\n    colour: red\n  - kind: teleport\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(bad)
    message = str(caught.value)
    assert "bad.yaml" in message and "changes[0]" in message and "colour" in message
    assert "changes[1]" in message and "teleport" in message
    past = load_scenario({"name": "x", "changes": [{"kind": "extra_placements",
                          "service": "S", "category": "C", "count": 1, "start": "2017-10-01"}]})
    with pytest.raises(ScenarioError, match=r"changes\[0\].*'start'"):
        past.check_dates(dt.date(2017, 10, 31))


def test_extra_placements_move_their_line_by_exactly_their_arithmetic(sample, fitted):
    models, base = fitted
    result = run(sample, models, [{"kind": "extra_placements", "service": HOMES[0],
                                   "category": HOMES[1], "count": 5, "start": "2017-11-01",
                                   "unit_cost": 4000, "duration_weeks": 20}])
    i = base.lines.index.get_loc(HOMES)
    delta = result.outturns[i] - base.outturns[i]
    assert np.allclose(delta, 5 * 4000 / 7 * 140, rtol=0, atol=1e-6)
    untouched_except(base, result, HOMES)
    defaulted = run(sample, models, [{"kind": "extra_placements", "service": HOMES[0],
                                      "category": HOMES[1], "count": 2, "start": "2017-12-01"}])
    extra = defaulted.outturns[i] - base.outturns[i]
    assert extra.std() > 0 and (extra > 0).all()  # fitted stays and recent prices


def test_savings_exact_and_with_delivery_probability(sample, fitted):
    models, base = fitted
    line = ("Learning Disability", "Residential")
    i = base.lines.index.get_loc(line)
    sure = run(sample, models, [{"kind": "savings", "service": line[0], "category": line[1],
                                 "amount": 365_000, "start": "2018-01-01"}])
    assert np.allclose(base.outturns[i] - sure.outturns[i], 1000 * 90, atol=1e-6)
    untouched_except(base, sure, line)
    maybe = run(sample, models, [{"kind": "savings", "service": line[0], "category": line[1],
                                  "amount": 700, "per": "week", "start": "2018-01-01",
                                  "probability": 0.5}])
    saved = base.outturns[i] - maybe.outturns[i]
    assert set(np.round(saved, 6)) == {0.0, round(100 * 90, 6)}
    assert 0.4 < (saved > 0).mean() < 0.6


def test_unit_cost_change_is_exact_on_known_commitments():
    placements = book({"start_date": "2017-04-01", "planned_end_date": "2018-03-31",
                       "unit_cost": 700, "category": "Res"},
                      {"start_date": "2017-04-01", "planned_end_date": "2018-03-31",
                       "unit_cost": 350, "category": "IFA"})
    budget = budget_book({"service": "LAC Placements", "category": "Res",
                          "annual_budget": 30_000})
    scenario = load_scenario({"name": "uplift", "changes": [
        {"kind": "unit_cost_change", "service": "LAC Placements", "category": "Res",
         "percent": 5, "start": "2018-01-01"}]})
    result = fl.forecast_outturn(placements, budget, AS_AT, new_starts=False,
                                 simulations=10, seed=1, scenario=scenario)
    res = result.lines.loc[("LAC Placements", "Res")]
    assert round(res["mean"], 2) == round(36_500 + 0.05 * 100 * 90, 2)
    assert res["lower"] == res["upper"]
    assert round(result.lines.loc[("LAC Placements", "IFA"), "mean"], 2) == 18_250


def test_end_placements_by_id_and_by_count(sample, fitted):
    models, base = fitted
    open_homes = sample.placements[(sample.placements["category"] == HOMES[1])
                                   & sample.placements["end_date"].isna()]
    ids = open_homes["placement_id"].head(3).tolist()
    by_id = run(sample, models, [{"kind": "end_placements", "placement_ids": ids,
                                  "date": "2017-11-30"}])
    i = base.lines.index.get_loc(HOMES)
    assert by_id.lines.loc[HOMES, "mean"] < base.lines.loc[HOMES, "mean"]
    untouched_except(base, by_id, HOMES)
    by_count = run(sample, models, [{"kind": "end_placements", "service": HOMES[0],
                                     "category": HOMES[1], "count": 3, "date": "2017-11-30"}])
    assert by_count.outturns[i].mean() < by_id.outturns[i].mean()  # the most expensive
    with pytest.raises(ScenarioError, match="unknown ids"):
        run(sample, models, [{"kind": "end_placements", "placement_ids": ["nope"],
                              "date": "2017-11-30"}])


def test_demand_growth_and_mix_shift_touch_only_their_lines(sample, fitted):
    models, base = fitted
    grown = run(sample, models, [{"kind": "demand_growth", "service": HOMES[0],
                                  "category": HOMES[1], "percent": 50, "start": "2017-11-01"}])
    assert grown.lines.loc[HOMES, "mean"] > base.lines.loc[HOMES, "mean"]
    untouched_except(base, grown, HOMES)
    source, target = ("LAC Placements", "Independent Fostering"), HOMES
    shifted = run(sample, models, [{"kind": "mix_shift", "service": "LAC Placements",
                                    "from_category": source[1], "to_category": target[1],
                                    "share": 0.5, "start": "2017-11-01"}])
    assert shifted.lines.loc[source, "mean"] < base.lines.loc[source, "mean"]
    assert shifted.lines.loc[target, "mean"] > base.lines.loc[target, "mean"]
    untouched_except(base, shifted, source, target)


def test_compare_reports_deltas_with_per_simulation_intervals(sample, fitted):
    models, base = fitted
    extra = run(sample, models, [{"kind": "extra_placements", "service": HOMES[0],
                                  "category": HOMES[1], "count": 5, "start": "2017-11-01",
                                  "unit_cost": 4000, "duration_weeks": 20}])
    table = compare(base, extra, names=["five extra"])
    row = table.loc[("five extra", *HOMES)]
    assert row["delta_lower"] == pytest.approx(400_000) == row["delta_upper"]
    assert table.loc[("five extra", "Total", ""), "delta_mean"] == pytest.approx(400_000)
    other = table.loc[("five extra", "LAC Placements", "Independent Fostering")]
    assert other["delta_mean"] == 0 and other["prob_increase"] == 0


def test_cli_applies_scenario_files_in_order_and_refuses_bad_ones(tmp_path, capsys):
    for name in ("placements", "budget", "actuals"):
        (tmp_path / f"{name}.csv").write_bytes(fl.sample_path(f"{name}.csv").read_bytes())
    good = tmp_path / "savings.yaml"
    good.write_text("name: Savings\nchanges:\n  - kind: savings\n    service: Older People\n"
                    "    category: Residential\n    amount: 73000\n    start: 2018-01-01\n")
    argv = ["forecast", "--placements", str(tmp_path / "placements.csv"), "--budget",
            str(tmp_path / "budget.csv"), "--actuals", str(tmp_path / "actuals.csv"),
            "--as-at", AS_AT, "--simulations", "200", "--seed", "4", "--format", "json"]
    assert main(argv) == 0
    base = json.loads(capsys.readouterr().out)
    assert main([*argv, "--scenario", str(good)]) == 0
    changed = json.loads(capsys.readouterr().out)
    def residential(payload: dict) -> dict:
        return next(x for x in payload["lines"]
                    if (x["service"], x["category"]) == ("Older People", "Residential"))

    saved = residential(base)["forecast"]["mean"] - residential(changed)["forecast"]["mean"]
    assert round(saved, 2) == 18_000
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nchanges:\n  - kind: savings\n    amount: -1\n")
    assert main([*argv, "--scenario", str(bad)]) == 2
    assert "changes[0]" in capsys.readouterr().err
