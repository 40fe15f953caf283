"""Spells, durations with censoring and truncation, and monthly start counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import book
from hypothesis import given, settings
from hypothesis import strategies as st

from forecastlib.demand import (
    default_history_start,
    durations,
    episode_spells,
    line_starts,
    monthly_starts,
    segments,
    spells,
)


def test_price_change_episodes_join_into_one_spell_but_gaps_do_not():
    placements = book(
        {"client_id": "A", "start_date": "2016-01-01", "end_date": "2016-06-30",
         "unit_cost": 100},
        {"client_id": "A", "start_date": "2016-07-01", "unit_cost": 120},  # re-priced
        {"client_id": "B", "start_date": "2016-01-01", "end_date": "2016-01-31",
         "unit_cost": 100},
        {"client_id": "B", "start_date": "2016-03-01", "end_date": "2016-03-31",
         "unit_cost": 100},  # a month's gap: a new start
        {"client_id": "A", "start_date": "2016-07-01", "unit_cost": 50, "category": "IFA"},
    )
    table = spells(placements)
    assert len(table) == 3  # A's concurrent IFA episode overlaps: same spell, not a move
    a = table[table["client_id"] == "A"].iloc[0]
    assert a["episodes"] == 3 and pd.isna(a["end_date"])
    assert (a["moves"], a["overlaps"]) == (0, 1)
    assert str(a["start_date"].date()) == "2016-01-01"


def test_a_change_of_category_inside_a_spell_is_a_move_not_a_start():
    placements = book(
        {"client_id": "A", "start_date": "2016-01-01", "end_date": "2016-03-31",
         "unit_cost": 100},
        {"client_id": "A", "start_date": "2016-03-31", "end_date": "2016-06-30",
         "unit_cost": 50, "category": "IFA"},  # SSDA903 style: starts on the end day
        {"client_id": "A", "start_date": "2016-07-01", "unit_cost": 55, "category": "IFA"},
        {"client_id": "A", "start_date": "2017-01-01", "unit_cost": 55,
         "service": "SEN Placements"},  # another service: its own spell
    )
    table = spells(placements)
    assert len(table) == 2
    lac = table[table["service"] == "LAC Placements"].iloc[0]
    assert (lac["category"], lac["episodes"], lac["moves"]) == ("Residential homes", 3, 1)
    episodes = episode_spells(placements)
    assert episodes["moved_in"].tolist() == [False, True, False, False]
    assert (episodes["spell_start"].iloc[:3] == pd.Timestamp("2016-01-01")).all()
    assert str(episodes["segment_start"].iloc[2].date()) == "2016-03-31"
    parts = segments(placements)
    lac_parts = parts[parts["service"] == "LAC Placements"]
    assert lac_parts["category"].tolist() == ["Residential homes", "IFA"]
    assert lac_parts["moved"].tolist() == [True, False]
    assert lac_parts["to_category"].tolist() == ["IFA", ""]
    assert str(lac_parts["end_date"].iloc[0].date()) == "2016-03-30"  # the day before
    # monthly starts count the spell once, in the line it started in
    counts = monthly_starts(spells(placements), "2016-12-31", "2016-01-01")
    assert counts.to_numpy().sum() == 1
    # on the spell's clock: the IFA segment is at risk from spell age 90 (entry), open
    stays = durations(parts, "2016-12-31", "2015-04-01").set_index("category")
    assert stays.loc["IFA", "entry"] == 90 and not stays.loc["IFA", "event"]
    assert stays.loc["IFA", "duration"] == 366  # 2016 is a leap year: spell age by as_at
    assert stays.loc["Residential homes", "duration"] == 90
    assert not stays.loc["Residential homes", "event"]  # censored by the move


def test_one_spell_no_episode_and_unordered_rows():
    one = book({"client_id": "Z", "start_date": "2016-05-01", "unit_cost": 1})
    assert len(spells(one.iloc[:0])) == 0 and len(segments(one.iloc[:0])) == 0
    assert spells(one)["episodes"].tolist() == [1]
    shuffled = book(
        {"client_id": "A", "start_date": "2016-07-01", "unit_cost": 2, "category": "IFA"},
        {"client_id": "A", "start_date": "2016-01-01", "end_date": "2016-06-30",
         "unit_cost": 1},
    )
    episodes = episode_spells(shuffled)
    assert episodes["moved_in"].tolist() == [True, False]
    assert episodes.index.equals(shuffled.index)


def test_durations_censor_open_spells_and_truncate_old_ones():
    placements = book(
        {"client_id": "A", "start_date": "2010-01-01", "end_date": "2012-12-31",
         "unit_cost": 1},
        {"client_id": "B", "start_date": "2017-01-01", "unit_cost": 1},
        {"client_id": "C", "start_date": "2018-01-01", "unit_cost": 1},  # future: left out
    )
    table = durations(spells(placements), "2017-10-31", "2011-04-01")
    by_client = table.assign(client=["A", "B"]).set_index("client")
    assert by_client.loc["A", "event"] and not by_client.loc["B", "event"]
    assert by_client.loc["A", "entry"] == (np.datetime64("2011-04-01")
                                           - np.datetime64("2010-01-01")).astype(int)
    assert by_client.loc["B", "duration"] == 304  # 1 Jan - 31 Oct inclusive
    assert str(default_history_start(placements)) == "2012-04-01"


def test_monthly_starts_are_zero_filled_and_skip_incomplete_months():
    placements = book(
        {"client_id": "A", "start_date": "2017-01-15", "unit_cost": 1},
        {"client_id": "B", "start_date": "2017-03-02", "unit_cost": 1},
        {"client_id": "C", "start_date": "2016-12-31", "unit_cost": 1},  # before history
        {"client_id": "D", "start_date": "2017-04-10", "unit_cost": 1},  # month not complete
    )
    counts = monthly_starts(spells(placements), "2017-04-20", "2017-01-01")
    assert list(counts.columns.astype(str)) == ["2017-01", "2017-02", "2017-03"]
    assert counts.iloc[0].tolist() == [1, 0, 1]


def test_a_second_package_beside_the_first_is_a_start_in_its_line_and_a_move_is_not():
    placements = book(
        {"client_id": "A", "start_date": "2016-01-01", "unit_cost": 100},
        {"client_id": "A", "start_date": "2016-02-01", "unit_cost": 50, "category": "1:1"},
        {"client_id": "B", "start_date": "2016-01-01", "end_date": "2016-01-31",
         "unit_cost": 100},
        {"client_id": "B", "start_date": "2016-02-01", "unit_cost": 50, "category": "IFA"},
    )
    starts = line_starts(placements)
    assert sorted(zip(starts["client_id"], starts["category"])) == [
        ("A", "1:1"), ("A", "Residential homes"), ("B", "Residential homes")]
    add_on = segments(placements).set_index(["client_id", "category"]).loc[("A", "1:1")]
    assert add_on["spell_start"] == pd.Timestamp("2016-01-01") and not add_on["moved"]


def test_spell_history_is_built_once_and_gives_the_same_tables(sample):
    from forecastlib.demand import SpellHistory

    placements = sample.placements
    history = SpellHistory.build(placements)
    pd.testing.assert_frame_equal(history.segments, segments(placements), check_exact=True)
    pd.testing.assert_frame_equal(history.episodes, episode_spells(placements),
                                  check_exact=True)
    shared = line_starts(placements, history=history)
    pd.testing.assert_frame_equal(shared, line_starts(placements), check_exact=True)
    shared["category"] = "changed"  # a fit's own copy: the shared table is untouched
    assert (history.segments["category"] != "changed").all()
    assert "segments=" in repr(history)


def test_spell_history_of_another_record_is_refused(sample):
    from forecastlib.demand import SpellHistory

    history = SpellHistory.build(sample.placements)
    with pytest.raises(ValueError, match="another record"):
        segments(sample.placements.copy(), history=history)
    with pytest.raises(ValueError, match="gap_days"):
        segments(sample.placements, gap_days=3, history=history)


def test_spell_history_of_an_empty_and_a_one_episode_record():
    from forecastlib.demand import SpellHistory

    one = book({"client_id": "A", "start_date": "2016-01-01", "unit_cost": 100})
    history = SpellHistory.build(one)
    assert len(history.segments) == 1 and history.segments["first_row"].tolist() == [0]
    empty = one.iloc[:0]
    assert SpellHistory.build(empty).segments.empty


def test_fits_given_the_shared_history_learn_exactly_the_same(sample):
    """Stays, moves and prices fitted from one shared SpellHistory equal their own."""
    from forecastlib.demand import LengthOfStayModel, MoveModel, PriceModel, SpellHistory

    lines = sample.placements["service"].isin(["LAC Placements", "Older People"])
    placements = sample.placements[lines].reset_index(drop=True)
    history = SpellHistory.build(placements)
    for make in (lambda: LengthOfStayModel(draws=0), MoveModel, lambda: PriceModel(draws=0)):
        alone = make().fit(placements, sample.as_at)
        shared = make().fit(placements, sample.as_at, history=history)
        for name, value in vars(alone).items():
            if name.endswith("_"):
                _assert_same(value, getattr(shared, name), name)


def _assert_same(a, b, name):
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), name
        for key in a:
            _assert_same(a[key], b[key], f"{name}[{key!r}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), name
    elif hasattr(a, "__dict__"):
        _assert_same(vars(a), vars(b), name)
    else:
        assert a == b, name


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(0, 2**20), st.integers(0, 5),
                          st.integers(-(2**40), 2**40)), min_size=0, max_size=40),
       st.booleans())
def test_packed_lexsort_is_numpyspacked_lexsort(rows, wide):
    """Ties kept in order (stable), negative keys, and keys too wide to pack (then
    ``np.lexsort`` itself)."""
    from forecastlib.demand.record_codes import packed_lexsort

    keys = [np.array([r[i] for r in rows], dtype=np.int64) for i in range(4 if wide else 3)]
    np.testing.assert_array_equal(packed_lexsort(keys), np.lexsort(keys))
