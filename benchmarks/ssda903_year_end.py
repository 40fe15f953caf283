"""Year-end counts from SSDA903 returns: the number in care on 31 March by category.

On the synthetic SSDA903 returns (``shared/data/real/ssda903_synthetic``, from
cs-demand-model 0.5.1), for each financial year with an earlier return as history and
each month-end from April to February, the record is taken as it stood then (the
earlier returns in full, the current return cut at the month-end: later episodes
removed, later ``DEC`` blanked) and forecastlib forecasts the number of children in
placement on 31 March per category (``OutturnResult.year_end_running``). The truth is
the count on 31 March from that year's own return. Reported: mean absolute error per
cell (category x month-end) of the forecast mean, and how often the central 80%
interval held the truth, beside carrying the stock at the month-end forward; also on
cs-demand-model's four categories (fostering, residential, supported, other), where
cs-demand-model 0.5.1 itself forecasts the same origins from the same records: it needs
numpy < 2 and pandas < 2, so it runs in its own environment
(``--cs-demand-model-python``, the Python of a venv with ``cs-demand-model==0.5.1``,
driven by ``benchmarks/cs_demand_model_driver.py`` in a subprocess) and is skipped,
with a message, when that Python is absent.

Run: ``python benchmarks/ssda903_year_end.py [--simulations 1000] [--data FOLDER]
[--cs-demand-model-python /work/csdm-venv/bin/python] [--reference-months 6]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecastlib.outturn import forecast_outturn
from forecastlib.records import read_budget, read_ssda903

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "ssda903_synthetic"
if not DATA.is_dir():
    DATA = Path("/work/shared/data/real/ssda903_synthetic")

#: forecastlib's default categories grouped as cs-demand-model's standard configuration.
BROAD = {"Kinship fostering": "Fostering", "In-house fostering": "Fostering",
         "Independent Fostering": "Fostering", "In-house residential": "Residential",
         "Residential homes": "Residential", "Supported Accommodation": "Supported"}


def _returns(folder: Path) -> dict[int, tuple[pd.DataFrame, pd.DataFrame]]:
    out = {}
    for episodes in sorted(folder.glob("*-episodes.csv")):
        year = int(episodes.name[:4])
        header = folder / f"{year}-header.csv"
        out[year] = (pd.read_csv(episodes, dtype=str, keep_default_na=False),
                     pd.read_csv(header, dtype=str, keep_default_na=False))
    return out


def _as_it_stood(episodes: pd.DataFrame, as_at: pd.Timestamp) -> pd.DataFrame:
    start = pd.to_datetime(episodes["DECOM"], dayfirst=True)
    end = pd.to_datetime(episodes["DEC"].replace("", None), dayfirst=True)
    cut = episodes[start <= as_at].copy()
    cut.loc[(end[start <= as_at] > as_at).to_numpy(), "DEC"] = ""
    return cut


#: Default Python of the separate environment holding cs-demand-model 0.5.1.
CSDM_PYTHON = Path("/work/csdm-venv/bin/python")
DRIVER = Path(__file__).resolve().parent / "cs_demand_model_driver.py"


def _write_origin(folder: Path, episodes: list[pd.DataFrame], headers: list[pd.DataFrame]
                  ) -> None:
    """The record as it stood, as one episodes and one header file for cs-demand-model."""
    folder.mkdir(parents=True)
    pd.concat(episodes, ignore_index=True).to_csv(folder / "episodes.csv", index=False)
    pd.concat(headers, ignore_index=True).to_csv(folder / "header.csv", index=False)


def cs_demand_model(origins: list[dict], python: Path, reference_months: int
                    ) -> dict[str, dict[str, float]] | None:
    """cs-demand-model's forecasts per origin id and category, or ``None`` if unavailable."""
    if not python.exists():
        print(f"cs-demand-model skipped: no Python at {python} (make a venv with "
              "cs-demand-model==0.5.1, numpy<2, pandas<2 and pass --cs-demand-model-python)")
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as manifest:
        json.dump(origins, manifest)
    done = subprocess.run([str(python), str(DRIVER), manifest.name, "--reference-months",
                           str(reference_months)], capture_output=True, text=True, check=False)
    Path(manifest.name).unlink()
    if done.returncode != 0:
        print(f"cs-demand-model failed:\n{done.stderr[-2000:]}")
        return None
    return json.loads(done.stdout)


def _in_care(placements: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    running = (placements["start_date"] <= day) & (
        placements["end_date"].isna() | (placements["end_date"] >= day))
    return placements[running].groupby("category").size()


def run(simulations: int, seed: int, folder: Path, csdm_python: Path = CSDM_PYTHON,
        reference_months: int = 6, step: int = 1) -> tuple[pd.DataFrame, dict]:
    returns = _returns(folder)
    years = sorted(returns)[1:]
    scratch = tempfile.TemporaryDirectory()
    origins = []
    budget = read_budget(pd.DataFrame({"service": ["LAC Placements"],
                                       "category": ["Residential homes"],
                                       "annual_budget": ["0"]}), name="budget")
    rows = []
    for year in years:
        year_end = pd.Timestamp(f"{year + 1}-03-31")
        truth = _in_care(read_ssda903(returns[year][0]), year_end)
        for as_at in pd.date_range(f"{year}-04-30", f"{year + 1}-02-28", freq="ME")[::step]:
            episodes = [returns[y][0] for y in returns if y < year]
            episodes.append(_as_it_stood(returns[year][0], as_at))
            headers = [returns[y][1] for y in returns if y <= year]
            record = read_ssda903(episodes, headers=headers)
            origin = f"{as_at.date()}"
            _write_origin(Path(scratch.name) / origin, episodes, headers)
            origins.append({"id": origin, "folder": str(Path(scratch.name) / origin),
                            "as_at": origin, "year_end": str(year_end.date())})
            stock = _in_care(record, as_at)
            result = forecast_outturn(record, budget, as_at, simulations=simulations,
                                      seed=seed, use_planned_ends=False)
            running = pd.DataFrame(result.year_end_running, index=result.lines.index)
            running = running.xs("LAC Placements", level="service")
            categories = sorted(set(truth.index) | set(stock.index) | set(running.index))
            for category in categories:
                draws = (running.loc[category].to_numpy() if category in running.index
                         else np.zeros(simulations))
                rows.append({"year": year, "as_at": as_at.date(), "category": category,
                             "truth": int(truth.get(category, 0)),
                             "carry_forward": int(stock.get(category, 0)),
                             "mean": draws.mean(), "lower": np.quantile(draws, 0.1),
                             "upper": np.quantile(draws, 0.9), "draws": draws})
        print(f"year {year}: done", flush=True)
    csdm = cs_demand_model(origins, csdm_python, reference_months)
    scratch.cleanup()
    cells = pd.DataFrame(rows)
    broad = _broad(cells, csdm)
    scores = {"categories": _score(cells), "cs_demand_model_categories": _score(broad)}
    scores.update({f"cs_demand_model_categories {year}": _score(broad.xs(year, level="year"))
                   for year in years})
    return cells, scores


def _broad(cells: pd.DataFrame, csdm: dict[str, dict[str, float]] | None) -> pd.DataFrame:
    """Cells summed to cs-demand-model's four categories, with its forecasts if run."""
    broad = cells.assign(category=cells["category"].map(BROAD).fillna("Other"))
    grouped = broad.groupby(["year", "as_at", "category"])
    summed = grouped[["truth", "carry_forward", "mean"]].sum()
    draws = grouped["draws"].apply(lambda parts: np.sum(np.stack(parts.to_numpy()), axis=0))
    summed["lower"] = [np.quantile(d, 0.1) for d in draws]
    summed["upper"] = [np.quantile(d, 0.9) for d in draws]
    if csdm is not None:
        summed["cs_demand_model"] = [csdm[str(as_at)].get(category, 0.0)
                                     for _, as_at, category in summed.index]
    return summed


def _score(table: pd.DataFrame) -> dict:
    out = {"cells": len(table),
           "mae_forecastlib": float((table["mean"] - table["truth"]).abs().mean()),
           "mae_carry_forward": float((table["carry_forward"] - table["truth"]).abs().mean())}
    if "cs_demand_model" in table:
        out["mae_cs_demand_model"] = float((table["cs_demand_model"] - table["truth"])
                                           .abs().mean())
    out["coverage_80"] = float(((table["lower"] <= table["truth"])
                                & (table["truth"] <= table["upper"])).mean())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cs-demand-model-python", type=Path, default=CSDM_PYTHON,
                        help="Python of a venv with cs-demand-model==0.5.1 (skipped if absent)")
    parser.add_argument("--reference-months", type=int, default=6,
                        help="cs-demand-model's reference window before each origin")
    parser.add_argument("--step", type=int, default=1,
                        help="every STEP-th month-end only (a quicker check)")
    args = parser.parse_args()
    began = time.perf_counter()
    cells, scores = run(args.simulations, args.seed, args.data, args.cs_demand_model_python,
                        args.reference_months, args.step)
    for name, figures in scores.items():
        print(f"{name}: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                      for k, v in figures.items()))
    by_category = cells.assign(error=(cells["mean"] - cells["truth"]).abs(),
                               bias=cells["mean"] - cells["truth"],
                               carried=(cells["carry_forward"] - cells["truth"]).abs(),
                               held=(cells["lower"] <= cells["truth"])
                               & (cells["truth"] <= cells["upper"]))
    columns = ["truth", "error", "bias", "carried", "held"]
    print(by_category.groupby("category")[columns].mean().round(2))
    print(by_category.groupby("year")[columns].mean().round(2))
    print(f"{len(cells)} cells in {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
