"""Truth-known worlds: uplift episodes, moves, shifts, wandering and common shocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecastlib.datasets.calibration import STUDY_LINES, coverage_table
from forecastlib.datasets.truth import WORLD_KINDS, World, simulate_authority


def test_uplift_world_splits_every_stay_at_1_april_with_the_price_uplifted():
    tidy = simulate_authority(STUDY_LINES, "2017-09-30", 3, "tidy")
    split = simulate_authority(STUDY_LINES, "2017-09-30", 3, "uplift")
    record = split.placements
    assert len(record) > len(tidy.placements)
    later = record["start_date"].dt.strftime("%m-%d") == "04-01"
    assert later.mean() > 0.3
    # consecutive episodes of one client touch and the price rises by the line's inflation
    ordered = record.sort_values(["client_id", "start_date"])
    same = ordered["client_id"].to_numpy()[1:] == ordered["client_id"].to_numpy()[:-1]
    gap = (ordered["start_date"].to_numpy()[1:] - ordered["end_date"].to_numpy()[:-1])
    assert (gap[same] == np.timedelta64(1, "D")).all()
    ratio = ordered["unit_cost"].to_numpy()[1:][same] / ordered["unit_cost"].to_numpy()[:-1][same]
    assert np.median(ratio) == pytest.approx(1.025, abs=0.001)


def test_moves_keep_the_client_and_the_shift_is_flagged():
    moved = simulate_authority(STUDY_LINES, "2017-09-30", 4, "moves")
    record = moved.placements
    clients = record.groupby("client_id")["category"].nunique()
    assert (clients == 2).sum() > 20
    two = record[record["client_id"].isin(clients[clients == 2].index)]
    firsts = two.sort_values("start_date").groupby("client_id")["category"].first()
    assert set(firsts) <= {"Residential", "Fostering"}
    shifted = simulate_authority(STUDY_LINES, "2017-09-30", 4, "shift")
    assert 1 <= len(shifted.shifted) <= 3
    for line in shifted.shifted:
        assert shifted.oracle[line]["log_rate_shift"] >= np.log(1.3) - 1e-9


def test_world_kinds_are_named_and_common_shocks_move_every_line_together():
    assert {"tidy", "uplift", "moves", "shift", "wandering_demand", "wandering_prices",
            "common", "mixed"} == set(WORLD_KINDS)
    with pytest.raises(ValueError, match="unknown world kind"):
        World.of("stormy")
    common = simulate_authority(STUDY_LINES, "2017-09-30", 5, "common")
    shifts = {line: known["log_rate_shift"] for line, known in common.oracle.items()}
    assert len(set(np.round(list(shifts.values()), 12))) == 1
    assert len({round(known["log_price"], 12) for known in common.oracle.values()}) == 1


def test_coverage_table_scores_lines_totals_and_shifted_lines():
    rows = []
    for kind, covered in [("tidy", [True, False, True]), ("shift", [True, True, False])]:
        for k, line in enumerate(["A", "B", "Total"]):
            rows.append({"kind": kind, "line": line, "shifted": kind == "shift" and k == 0,
                         "covered": covered[k],
                         "oracle_covered": not (kind == "shift" and k == 0),
                         "error": 2.0 * (k + 1), "oracle_error": 1.0 * (k + 1)})
    table = coverage_table(pd.DataFrame(rows))
    assert table.loc["tidy", "lines_covered"] == 0.5
    assert table.loc["tidy", "totals_covered"] == 1.0
    assert table.loc["shift", "totals_covered"] == 0.0
    assert table.loc["shift", "shifted_covered"] == 1.0
    assert table.loc["shift", "oracle_shifted_covered"] == 0.0
    assert table.loc["shift", "oracle_lines_covered"] == 0.5
    assert np.isnan(table.loc["tidy", "oracle_shifted_covered"])
    assert table.loc["tidy", "error_vs_oracle"] == pytest.approx(2.0)
    assert np.isnan(table.loc["tidy", "shifted_covered"])
