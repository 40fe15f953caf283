"""Drive cs-demand-model 0.5.1 on SSDA903 records as they stood at given origins.

Run by ``benchmarks/ssda903_year_end.py`` with the Python of a separate environment that
has ``cs-demand-model==0.5.1`` (it needs numpy < 2 and pandas < 2, so it cannot share
forecastlib's); this script does not import forecastlib. It reads a JSON manifest of
origins (``id``, ``folder`` holding one ``episodes.csv`` and one ``header.csv``,
``as_at``, ``year_end``), and for each fits the model as its own CLI ``predict`` does
(``PopulationStats`` on the enriched episodes, ``ModelPredictor.from_model`` with the
reference window ending at ``as_at``, the standard configuration) and predicts the
population day by day to ``year_end``, summed over age brackets per placement category.
It writes ``{id: {category: count}}`` as JSON to standard output.

Run: ``/path/to/csdm-venv/bin/python cs_demand_model_driver.py MANIFEST.json
[--reference-months 6]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import warnings

import pandas as pd
from cs_demand_model import (
    Config,
    DemandModellingDataContainer,
    ModelPredictor,
    PopulationStats,
    fs_datastore,
)
from dateutil.relativedelta import relativedelta


def predict(folder: str, as_at: str, year_end: str, reference_months: int) -> dict:
    config = Config()
    container = DemandModellingDataContainer(fs_datastore(folder), config)
    stats = PopulationStats(container.enriched_view, config)
    end = pd.Timestamp(as_at)
    start = end - relativedelta(months=reference_months)
    predictor = ModelPredictor.from_model(stats, start, end)
    days = (pd.Timestamp(year_end) - end).days
    population = predictor.predict(days).iloc[-1]
    by_category: dict[str, float] = {}
    for (_, category), count in population.items():
        label = str(config.PlacementCategories[category].label)
        by_category[label] = by_category.get(label, 0.0) + float(count)
    return by_category


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest")
    parser.add_argument("--reference-months", type=int, default=6)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    with open(args.manifest, encoding="utf-8") as handle:
        origins = json.load(handle)
    out = {origin["id"]: predict(origin["folder"], origin["as_at"], origin["year_end"],
                                 args.reference_months) for origin in origins}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
