"""SSDA903 episode returns to placements."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from forecastlib.demand import spells
from forecastlib.errors import DataValidationError
from forecastlib.records import read_ssda903

DATA = Path(__file__).resolve().parents[1] / "data" / "ssda903"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "real" / "ssda903_synthetic"


def test_two_yearly_returns_join_into_validated_placements():
    placements = read_ssda903([DATA / "2018-episodes.csv", DATA / "2017-episodes.csv"])
    assert placements["placement_id"].is_unique
    assert {"In-house fostering", "Independent Fostering", "Residential homes"} <= set(
        placements["category"])
    raw = pd.concat([pd.read_csv(DATA / f"{y}-episodes.csv", dtype=str) for y in (2017, 2018)])
    assert len(placements) == raw.drop_duplicates(["CHILD", "DECOM"]).shape[0]
    # an episode open in 2017's return and closed in 2018's keeps its end date
    both = raw[raw.duplicated(["CHILD", "DECOM"], keep=False)]
    closed_later = both.dropna(subset=["DEC"]).iloc[0]
    row = placements[placements["placement_id"] == (
        f"{closed_later.CHILD}-{pd.to_datetime(closed_later.DECOM, dayfirst=True):%Y%m%d}")]
    assert row["end_date"].notna().all()
    assert (placements["unit"] == "week").all() and len(spells(placements)) > 0


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared real-data folder not present")
def test_all_shared_years_read():
    files = sorted(SHARED.glob("*-episodes.csv"))
    assert len(read_ssda903(files)) > 2000


def test_malformed_returns_are_refused_with_file_row_and_column(tmp_path):
    bad = tmp_path / "2019-episodes.csv"
    bad.write_text("CHILD,DECOM,PLACE,PLACE_PROVIDER,DEC\n"
                   "1,01/04/2019,U4,PR1,\n"
                   "2,31/02/2019,U4,PR1,\n"
                   "3,01/04/2019,Q9,PR1,\n"
                   "4,01/04/2019,U4,PR1,01/03/2019\n")
    with pytest.raises(DataValidationError) as caught:
        read_ssda903(bad)
    found = {(p.file, p.row, p.column) for p in caught.value.problems}
    assert ("2019-episodes.csv", 3, "decom") in found
    assert ("2019-episodes.csv", 4, "place") in found
    with pytest.raises(DataValidationError) as caught:
        read_ssda903(tmp_path / "2019-episodes.csv")
    missing = tmp_path / "no-child.csv"
    missing.write_text("DECOM,PLACE\n01/04/2019,U4\n")
    with pytest.raises(DataValidationError, match="child"):
        read_ssda903(missing)


def test_custom_prices_must_cover_every_category():
    with pytest.raises(DataValidationError, match="no weekly price"):
        read_ssda903(DATA / "2017-episodes.csv", prices={"In-house fostering": 100.0})
