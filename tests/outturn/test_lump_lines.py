"""Lump lines (growth allocations, savings targets): shown apart and not RAG-rated."""

from __future__ import annotations

import numpy as np
import pandas as pd
from builders import book, budget_book

from forecastlib.outturn import RagPolicy, deterministic_outturn, forecast_outturn
from forecastlib.outturn.deterministic import lump_lines
from forecastlib.records import read_actuals
from forecastlib.report import format_outturn

AS_AT = "2017-10-31"
SAVINGS = ("Learning Disability", "Further savings")
GROWTH = ("LAC Placements", "")


def case():
    placements = book(
        {"start_date": "2017-04-01", "planned_end_date": "2018-03-31", "unit_cost": 700,
         "category": "Res"},
        {"start_date": "2017-04-01", "planned_end_date": "2018-03-31", "unit_cost": 100,
         "category": "Approved only"},
    )
    budget = budget_book(
        {"service": "LAC Placements", "category": "Res", "budget_placements": 1,
         "budget_unit_cost": 500},
        {"service": "LAC Placements", "category": "Approved only", "annual_budget": 5_000},
        {"service": "LAC Placements", "category": "", "annual_budget": 300_000},
        {"service": SAVINGS[0], "category": SAVINGS[1], "annual_budget": -1_200_000},
    )
    actuals = read_actuals(pd.DataFrame({
        "service": ["LAC Placements", "LAC Placements", SAVINGS[0]],
        "category": ["Res", "", SAVINGS[1]], "period": ["7", "3", "5"],
        "amount": ["21400", "40000", "-100000"]}))
    return placements, budget, actuals


def test_lump_lines_are_budget_only_lines_or_empty_categories():
    placements, budget, actuals = case()
    table = deterministic_outturn(placements, budget, AS_AT, actuals=actuals)
    assert table.index[table["lump"]].tolist() == [GROWTH, SAVINGS]
    # a line given only as an approved amount but with placements is not a lump line
    assert not table.loc[("LAC Placements", "Approved only"), "lump"]


def test_lump_lines_are_not_rated_but_count_in_the_total_and_commentary():
    placements, budget, actuals = case()
    table = deterministic_outturn(placements, budget, AS_AT, actuals=actuals)
    savings = table.loc[SAVINGS]
    # forecast is the credit booked to date: GBP 1.1m of the target undelivered
    assert savings["forecast"] == -100_000 and savings["variance"] == 1_100_000
    assert savings["rag"] == "n/a" and savings["commentary_needed"]
    growth = table.loc[GROWTH]
    assert growth["rag"] == "n/a" and growth["variance"] == 40_000 - 300_000
    # placements still rated: 36,500 - 26,000 is over 5% and GBP 10k but under GBP 50k
    assert table.loc[("LAC Placements", "Res"), "rag"] == "amber"
    result = forecast_outturn(placements, budget, AS_AT, actuals=actuals, new_starts=False)
    assert result.simulations == 0
    assert result.lines.loc[SAVINGS, "rag"] == "n/a"
    assert result.total["variance"] == table["variance"].sum()


def test_simulated_forecast_keeps_lump_lines_unrated():
    placements, budget, actuals = case()
    open_ended = placements.assign(planned_end_date=pd.NaT)
    result = forecast_outturn(open_ended, budget, AS_AT, actuals=actuals, new_starts=False,
                              simulations=200, seed=1)
    assert result.simulations == 200
    assert result.lines.loc[[GROWTH, SAVINGS], "rag"].tolist() == ["n/a", "n/a"]


def test_text_table_shows_lump_lines_in_their_own_block():
    placements, budget, actuals = case()
    text = format_outturn(forecast_outturn(placements, budget, AS_AT, actuals=actuals,
                                           new_starts=False))
    lines = text.splitlines()
    main_table = lines[: next(i for i, line in enumerate(lines) if line.startswith("Total"))]
    block = lines.index("Growth and savings lines (not RAG-rated)")
    assert block > max(i for i, line in enumerate(main_table) if line.startswith("  Res"))
    assert lines[block + 1].strip() == "LAC Placements"
    assert lines[block + 2].split()[:2] == ["(lump", "line)"] and "n/a" in lines[block + 2]
    assert lines[block + 3].strip() == SAVINGS[0]
    assert lines[block + 4].split()[:2] == ["Further", "savings"]
    assert "(1,200)" in lines[block + 4] and "1,100" in lines[block + 4]
    assert next(i for i, line in enumerate(lines) if line.startswith("Total")) > block + 4
    assert any(line.startswith("n/a: growth and savings lines") for line in lines)
    assert max(len(line) for line in lines) <= 100


def test_rag_policy_marks_lump_lines_only():
    rated = RagPolicy().assess([100_000, -50_000, 100_000], [200_000, 0, 100_000],
                               lump=np.array([False, True, False]))
    assert rated["rag"].tolist() == ["red", "n/a", "green"]
    assert RagPolicy().assess([1.0], [2.0])["rag"].tolist() == ["green"]  # no mask: rated


def test_lump_lines_helper_on_degenerate_inputs():
    budgets = pd.DataFrame(columns=["budget_placements", "budget_unit_cost"],
                           index=pd.MultiIndex.from_tuples([], names=["service", "category"]))
    assert lump_lines(budgets.index, budgets, pd.Index([])).tolist() == []
