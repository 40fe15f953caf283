"""Valid records of unusual shape: empty, same-day episodes, lines that start later."""

from __future__ import annotations

import numpy as np
import pandas as pd
from builders import book

from forecastlib.demand import LengthOfStayModel, PriceModel, spells
from forecastlib.simulation import DemandModels

AS_AT = "2017-10-31"


def empty_record() -> pd.DataFrame:
    placements = book({"start_date": "2017-01-01", "unit_cost": 100})
    return placements.iloc[:0]


def test_an_empty_record_has_no_spells_and_fits_empty_models():
    placements = empty_record()
    assert spells(placements).empty
    stays = LengthOfStayModel().fit(placements, AS_AT)
    assert stays.fits_.empty and stays.history_start_ == np.datetime64(AS_AT)
    assert PriceModel().fit(placements, AS_AT).pools_ == {}
    models = DemandModels.fit(placements, AS_AT)
    assert models.starts is None and models.prices is None


def test_two_episodes_starting_on_one_day_price_the_spell_by_the_first_row():
    placements = book(
        {"client_id": "A", "start_date": "2017-04-01", "unit_cost": 3500},
        {"client_id": "A", "start_date": "2017-04-01", "end_date": "2017-06-30",
         "unit_cost": 3600},
        {"client_id": "B", "start_date": "2017-05-01", "unit_cost": 2000},
    )
    model = PriceModel(inflation=0.0, min_records=1).fit(placements, AS_AT)
    pool = model.pools_[("LAC Placements", "Residential homes")]
    assert sorted(pool["unit_cost"]) == [2000.0, 3500.0]  # one price per spell


def test_a_line_whose_placements_all_start_later_borrows_a_fit_and_prices():
    history = [{"client_id": f"C{n}", "start_date": f"201{n % 6}-0{1 + n % 9}-01",
                "end_date": f"201{n % 6 + 1}-0{1 + n % 9}-15", "unit_cost": 500 + n}
               for n in range(30)]
    later = {"client_id": "Z", "category": "New code", "start_date": "2017-12-01",
             "unit_cost": 900}
    placements = book(*history, later)
    stays = LengthOfStayModel().fit(placements, AS_AT)
    line = ("LAC Placements", "New code")
    assert stays.fits_.loc[line, "source"] in {"service", "all"}
    assert stays.fits_.loc[line, "spells"] == 0
    assert stays.distribution(line).mean() > 0
    prices = PriceModel().fit(placements, AS_AT)
    assert prices.inflation_["LAC Placements"] is not None
    assert list(prices.pools_[line]["unit_cost"]) == [900.0]


def test_a_record_whose_placements_all_start_later_fits_no_stays():
    placements = book({"start_date": "2017-12-01", "unit_cost": 900})
    stays = LengthOfStayModel().fit(placements, AS_AT)
    assert stays.fits_.empty
    models = DemandModels.fit(placements, AS_AT)
    assert models.starts is None
