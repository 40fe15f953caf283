"""Calibration study of the outturn engine on truth-known authorities, world by world.

Simulates authorities with known start rates (trend and seasonality), lengths of stay
and prices (``forecastlib.datasets.truth``) in several kinds of world: tidy records,
yearly uplift episodes, moves between lines, a level shift in starts, wandering demand,
wandering prices, common shocks across lines, and all of these mixed. Each authority is
forecast at the end of September and of December from what its record held then, and
compared with its true outturn: the 80% interval's coverage for lines (target 74-88%)
and totals (70-92%), on shifted lines alone, and the mean's error against two oracles
(target within 1.25x): the **state oracle** (``oracle_*`` columns), given the true
parameters and each start rate's current level (the walk's value, the year's shock, the
shift), and the **parameter oracle** (``param_oracle_*``), given the true parameters
only, which filters the levels from the record's starts
(``forecastlib.datasets.level_oracle``).

Run: ``python benchmarks/calibration_study.py [--quick] [--kinds tidy shift ...]``
(``--quick``: 6 authorities, one date, 500 simulations, about 3 minutes; the full run
is 16 authorities, both dates, 1,000 simulations). ``--csv FILE`` keeps every forecast.

``--decompose`` says where the mean's error against the oracle comes from: each
authority's total is forecast again with one fitted model at a time (starts, prices,
stays) swapped for the state oracle's, or the starts for the parameter oracle's
(``param starts``), and the totals' error of each against the state oracle's is printed
per kind (1.00: that model alone explains the gap; ``param oracle``: the parameter
oracle's own; ``param blind``: the parameter oracle not told that starts may shift, its
shift probability set to 0). A starts swap takes the oracle's rate of *new* spells only
and keeps the fitted move model: the fitted stays end where a spell moves, so a swap that
carried the moves in as starts and dropped the moves would keep every moving spell in
its old line too. In worlds with moves ``oracle stays`` overstates the stays' share: the
oracle's stays end at a move, and the fitted moves move the spells again.
``--starts`` compares the rest of the year's projected new starts per line with the
state oracle's (mean log ratio, by whether the line's rate shifted): forecastlib's, the
parameter oracle's and the shift-blind one's. ``--dates`` picks the as-at dates
(default: both, or 30 September with ``--quick``).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import time
import warnings

import pandas as pd

from forecastlib.datasets.calibration import (
    STUDY_LINES,
    WORLD_KINDS,
    calibration_study,
    coverage_table,
    zero_budget,
)
from forecastlib.datasets.level_oracle import (
    _ParamOracleStarts,
    level_posterior,
    parameter_oracle_models,
)
from forecastlib.datasets.truth import _OracleStarts, oracle_models, simulate_authority

PARTS = ("starts", "prices", "stays")


def decompose(kinds: list[str], authorities: int, as_ats: tuple[str, ...],
              simulations: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Totals' mean absolute error over the oracle's, with one model at a time the
    oracle's, per world kind; and the totals' mean signed error (GBP) per kind."""
    from forecastlib.outturn import forecast_outturn
    from forecastlib.simulation import DemandModels

    budget = zero_budget(STUDY_LINES)
    rows = []
    for kind in kinds:
        for seed in range(authorities):
            for as_at in as_ats:
                authority = simulate_authority(STUDY_LINES, as_at, seed, kind)
                fitted = DemandModels.fit(authority.placements, authority.as_at)
                oracle = oracle_models(authority, fitted)
                param = parameter_oracle_models(authority, fitted)
                variants = {"fitted": fitted, "oracle": oracle, "param oracle": param,
                            "param blind": parameter_oracle_models(_blind(authority),
                                                                   fitted)}
                for part in PARTS:
                    swapped = copy.copy(fitted)
                    setattr(swapped, part, getattr(oracle, part))
                    if part == "starts":  # new spells only: the fitted moves stay
                        swapped.starts = _OracleStarts(fitted.starts, authority,
                                                       moves_in=False)
                    variants[f"oracle {part}"] = swapped
                swapped = copy.copy(fitted)
                swapped.starts = _ParamOracleStarts(
                    fitted.starts, authority, level_posterior(authority, moves_in=False))
                variants["param starts"] = swapped
                row = {"kind": kind, "truth": float(authority.truth.sum())}
                for name, models in variants.items():
                    result = forecast_outturn(authority.placements, budget, authority.as_at,
                                              simulations=simulations, seed=seed,
                                              models=models)
                    row[name] = float(result.total["mean"])
                rows.append(row)
    frame = pd.DataFrame(rows)
    signed = frame.drop(columns="truth").set_index("kind").sub(
        frame.set_index("kind")["truth"], axis=0)
    errors = signed.abs().groupby(level="kind").mean()
    return (errors.div(errors["oracle"], axis=0).drop(columns="oracle"),
            signed.groupby(level="kind").mean())


def _blind(authority):
    """The authority with its world's shift probability set to 0: what a parameter
    oracle not told that starts may shift filters under."""
    return dataclasses.replace(authority, world=dataclasses.replace(
        authority.world, shift_probability=0.0))


def starts_check(kinds: list[str], authorities: int, as_ats: tuple[str, ...],
                 simulations: int = 3000) -> pd.DataFrame:
    """Per kind and whether the line's rate shifted: the mean log ratio (and its standard
    error) of the rest of the year's projected new starts, forecastlib's and the
    parameter oracle's with and without its shift prior, to the state oracle's."""
    import numpy as np

    from forecastlib.demand import StartsModel

    rows = []
    for kind in kinds:
        for seed in range(authorities):
            for as_at in as_ats:
                authority = simulate_authority(STUDY_LINES, as_at, seed, kind)
                fitted = StartsModel().fit(authority.placements, authority.as_at)
                models = {
                    "forecastlib": fitted,
                    "param oracle": _ParamOracleStarts(
                        fitted, authority, level_posterior(authority, moves_in=False)),
                    "param blind": _ParamOracleStarts(
                        fitted, authority, level_posterior(_blind(authority),
                                                           moves_in=False)),
                    "state": _OracleStarts(fitted, authority, moves_in=False)}
                horizon = 12 - (pd.Timestamp(as_at).month - 3) % 12  # to 31 March
                means = {name: model.simulate(horizon, simulations, seed=seed).mean(
                    axis=(1, 2)) for name, model in models.items()}
                for k, line in enumerate(fitted.fits_.index):
                    rows.append({"kind": kind, "shifted": line in authority.shifted,
                                 **{name: float(np.log(means[name][k] / means["state"][k]))
                                    for name in models if name != "state"}})
    frame = pd.DataFrame(rows)
    grouped = frame.groupby(["kind", "shifted"])
    return pd.concat([grouped.mean(), grouped.sem().add_suffix(" se"),
                      grouped.size().rename("lines")], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="6 authorities, one date, 500 simulations")
    parser.add_argument("--authorities", type=int, default=None)
    parser.add_argument("--simulations", type=int, default=None)
    parser.add_argument("--kinds", nargs="+", default=list(WORLD_KINDS), choices=WORLD_KINDS)
    parser.add_argument("--csv", default=None, help="write every forecast to this file")
    parser.add_argument("--decompose", action="store_true",
                        help="totals' error vs the oracle with one model at a time swapped")
    parser.add_argument("--dates", nargs="+", default=None,
                        help="as-at dates (default 2017-09-30 2017-12-31; --quick: the first)")
    parser.add_argument("--starts", action="store_true",
                        help="projected new starts' log ratio to the state oracle's")
    args = parser.parse_args()
    authorities = args.authorities or (6 if args.quick else 16)
    simulations = args.simulations or (500 if args.quick else 1000)
    as_ats = tuple(args.dates) if args.dates else (
        ("2017-09-30",) if args.quick else ("2017-09-30", "2017-12-31"))
    started = time.perf_counter()
    if args.starts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = starts_check(args.kinds, authorities, as_ats)
        print("rest of the year's new starts, mean log ratio to the state oracle's:")
        print(table.to_string(float_format=lambda v: f"{v:.3f}"))
        print(f"{time.perf_counter() - started:.0f} s")
        return
    if args.decompose:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table, bias = decompose(args.kinds, authorities, as_ats, simulations)
        pd.set_option("display.width", 160)
        print("totals' mean absolute error / the oracle's, with one model the oracle's:")
        print(table.to_string(float_format=lambda v: f"{v:.2f}"))
        print("\ntotals' mean signed error (forecast - truth), GBP thousands:")
        print((bias / 1000).to_string(float_format=lambda v: f"{v:.0f}"))
        print(f"{time.perf_counter() - started:.0f} s")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = calibration_study(authorities, as_ats=as_ats, simulations=simulations,
                                  kinds=tuple(args.kinds))
    if args.csv:
        study.to_csv(args.csv, index=False)
    table = coverage_table(study)
    pd.set_option("display.width", 160)
    print(f"{authorities} authorities x {len(as_ats)} dates, {simulations:,} simulations; "
          f"80% intervals (targets: lines 74-88%, totals 70-92%, error <= 1.25x oracle)\n")
    state = [c for c in table.columns if "param" not in c]
    print(table[state].to_string(float_format=lambda v: f"{v:.2f}"))
    print("\nthe parameter oracle (true parameters, levels filtered from the record):")
    print(table[[c for c in table.columns if "param" in c]].to_string(
        float_format=lambda v: f"{v:.2f}"))
    lines = study[study["line"] != "Total"]
    totals = study[study["line"] == "Total"]
    shifted = lines[lines["shifted"]]
    shifted_text = (f", shifted lines {shifted['covered'].mean():.1%} (oracle "
                    f"{shifted['oracle_covered'].mean():.1%})" if len(shifted) else "")
    print(f"\nall kinds: lines {lines['covered'].mean():.1%} (oracle "
          f"{lines['oracle_covered'].mean():.1%}, parameter oracle "
          f"{lines['param_oracle_covered'].mean():.1%}), totals "
          f"{totals['covered'].mean():.1%} (oracle {totals['oracle_covered'].mean():.1%}, "
          f"parameter oracle {totals['param_oracle_covered'].mean():.1%}){shifted_text}; "
          f"line error vs oracle {lines['error'].mean() / lines['oracle_error'].mean():.3f}"
          f" (vs parameter oracle "
          f"{lines['error'].mean() / lines['param_oracle_error'].mean():.3f}), totals' "
          f"{totals['error'].mean() / totals['oracle_error'].mean():.3f} ("
          f"{totals['error'].mean() / totals['param_oracle_error'].mean():.3f}); "
          f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
