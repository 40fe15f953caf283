"""SSDA903 episode returns to placements."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from forecastlib.demand import spells
from forecastlib.errors import DataValidationError
from forecastlib.records import read_ssda903, read_ssda903_folder

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


def _episodes(*rows: tuple[str, str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["CHILD", "DECOM", "DEC", "PLACE", "PLACE_PROVIDER"])


def test_dec_is_the_day_care_ceased_and_a_move_touches_the_next_episode():
    table = read_ssda903(_episodes(("1", "01/04/2017", "10/05/2017", "K2", "PR4"),
                                   ("1", "10/05/2017", "", "U4", "PR1"),
                                   ("2", "03/04/2017", "03/04/2017", "U1", "")))
    one = table[table["client_id"] == "1"].sort_values("start_date")
    assert str(one["end_date"].iloc[0].date()) == "2017-05-09"  # the day before DEC
    two = table[table["client_id"] == "2"].iloc[0]
    assert two["end_date"] == two["start_date"]  # began and ceased on one day
    spell = spells(table).set_index("client_id").loc["1"]
    assert (spell["episodes"], spell["moves"], spell["category"]) == (
        2, 1, "Residential homes")


def test_headers_cap_care_at_the_18th_birthday_unless_it_already_ran_past():
    episodes = _episodes(("1", "01/04/2017", "", "U4", "PR1"),
                         ("2", "01/04/2017", "01/09/2017", "U4", "PR1"),
                         ("2", "01/09/2017", "", "H5", "PR4"))
    header = pd.DataFrame({"CHILD": ["1", "2"], "DOB": ["29/02/2004", "15/06/1999"]})
    table = read_ssda903(episodes, headers=header).set_index("placement_id")
    assert str(table.loc["1-20170401", "latest_end_date"].date()) == "2022-02-28"
    # child 2 turned 18 on 15 June 2017 and stayed: the history shows otherwise
    assert table.loc["2-20170901", "latest_end_date"] is pd.NaT or pd.isna(
        table.loc["2-20170901", "latest_end_date"])


def test_an_episode_left_open_by_one_return_and_missing_from_the_next_is_closed():
    first = _episodes(("1", "01/04/2016", "", "U4", "PR1"), ("2", "01/05/2016", "", "U4", "PR1"))
    second = _episodes(("2", "01/05/2016", "", "U4", "PR1"), ("3", "01/06/2017", "", "K2", "PR4"))
    table = read_ssda903([second, first]).set_index("client_id")
    assert str(table.loc["1", "end_date"].date()) == "2017-03-31"
    assert pd.isna(table.loc["2", "end_date"])
    assert "1 episodes open at the end of one return" in table.attrs["notes"][0]


def test_mapping_overrides_codes_and_a_folder_reads_episodes_with_headers(tmp_path):
    episodes = _episodes(("1", "01/04/2017", "", "K2", "PR4"), ("2", "01/04/2017", "", "K2", "PR1"))
    mapped = read_ssda903(episodes, mapping={"k2/pr4": "Out of area homes", "K2": "Homes"},
                          prices={"Out of area homes": 5000.0, "Homes": 4000.0})
    assert sorted(mapped["category"]) == ["Homes", "Out of area homes"]
    episodes.to_csv(tmp_path / "2017-episodes.csv", index=False)
    pd.DataFrame({"CHILD": ["1", "2"], "DOB": ["01/01/2005", "01/01/2006"]}).to_csv(
        tmp_path / "2017-header.csv", index=False)
    (tmp_path / "notes.txt").write_text("ignored")
    table = read_ssda903_folder(tmp_path)
    assert len(table) == 2 and table["latest_end_date"].notna().all()
    with pytest.raises(DataValidationError, match="YYYY-episodes"):
        read_ssda903_folder(tmp_path / "missing")
    (tmp_path / "2017-episodes.csv").unlink()
    with pytest.raises(DataValidationError, match="YYYY-episodes"):
        read_ssda903_folder(tmp_path)


def test_forecast_command_reads_an_ssda903_folder(tmp_path, capsys):
    from forecastlib.cli import main

    budget = tmp_path / "budget.csv"
    budget.write_text("service,category,annual_budget\nLAC Placements,Residential homes,100\n")
    args = ["forecast", "--ssda903", str(DATA), "--budget", str(budget), "--as-at",
            "2018-10-31", "--simulations", "200", "--seed", "1", "--format", "json"]
    assert main(args) == 0
    out, _ = capsys.readouterr()
    assert '"Independent Fostering"' in out
    prices = tmp_path / "prices.csv"
    prices.write_text("category,weekly_price\nResidential homes,1\n")
    assert main([*args, "--ssda903-prices", str(prices)]) == 2  # categories without price
    both = main(["forecast", "--ssda903", str(DATA), "--placements", "x.csv", "--budget",
                 str(budget), "--as-at", "2018-10-31"])
    assert both == 2  # one record or the other, not both
