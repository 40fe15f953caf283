"""Formula neutralising: text a spreadsheet would run gets a leading quote; numbers stay."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from forecastlib.report import neutralise_formulas
from forecastlib.report.safe_cells import FORMULA_TRIGGERS, neutralise_text


def test_each_trigger_is_quoted_and_plain_text_is_not():
    frame = pd.DataFrame({"name": ["=1+1", "+44 20", "-x", "@SUM(A1)", "\tTab", "\rCR",
                                   "Basic", "", "a=b", None],
                          "amount": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, np.nan]})
    out = neutralise_formulas(frame)
    assert list(out["name"][:6]) == ["'=1+1", "'+44 20", "'-x", "'@SUM(A1)", "'\tTab", "'\rCR"]
    assert list(out["name"][6:9]) == ["Basic", "", "a=b"] and pd.isna(out["name"][9])
    pd.testing.assert_series_equal(out["amount"], frame["amount"])  # numbers untouched
    assert frame["name"][0] == "=1+1"  # the input is not changed


def test_the_index_is_neutralised_too():
    frame = pd.DataFrame({"budget": [1.0]}, index=pd.MultiIndex.from_tuples(
        [("=cmd", "-x")], names=["service", "category"]))
    out = neutralise_formulas(frame)
    assert out.index.tolist() == [("'=cmd", "'-x")] and out.index.names == ["service",
                                                                             "category"]


@given(st.text())
def test_no_neutralised_text_starts_a_formula_and_nothing_else_changes(text):
    safe = neutralise_text(text)
    assert not safe.startswith(FORMULA_TRIGGERS)
    assert safe == text or safe == "'" + text


@given(st.floats(allow_nan=False) | st.integers())
def test_numbers_are_never_changed(number):
    assert neutralise_text(number) == number
