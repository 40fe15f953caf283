"""``forecastlib compare``: scenarios against the base forecast, with intervals."""

from __future__ import annotations

import argparse
import io
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from forecastlib.calendar import fy_label
from forecastlib.cli.common import (
    CommandOutput,
    add_forecast_options,
    add_inputs,
    forecast_inputs,
    forecast_options,
    parse_as_at,
    workers,
)
from forecastlib.cli.outputs import add_policy_options, policy_from_args, wants_workbook
from forecastlib.outturn import OutturnResult, outturn_from_inputs
from forecastlib.records import read_actuals, read_budget, read_placements
from forecastlib.report.tables import gbp_thousands
from forecastlib.scenarios import load_scenario
from forecastlib.whatif import compare

__all__ = ["register"]

EXAMPLES = """\
examples:
  forecastlib compare --placements placements.csv --budget budget.csv \\
      --as-at 2017-10-31 --scenario extra_residential.yaml
  forecastlib compare ... --scenario uplift.yaml --scenario step_down.json --seed 3
  forecastlib compare ... --scenario uplift.yaml --format json --output compare.json
  forecastlib compare ... --scenario uplift.yaml --output pack.xlsx

Each --scenario FILE is one scenario, compared with the base forecast on the same
random numbers: the difference's interval is computed simulation by simulation, so it
is the scenario's effect, not noise. Put changes that belong together in one file.
"""


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``compare`` command."""
    parser = commands.add_parser("compare", help="scenarios against the base forecast",
                                 epilog=EXAMPLES,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_inputs(parser, actuals=True)
    parser.add_argument("--scenario", action="append", required=True, metavar="FILE")
    add_forecast_options(parser)
    parser.add_argument("--lines", action="store_true",
                        help="show every line in the table (default: lines that change)")
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
    parser.add_argument("--output", type=Path, metavar="FILE",
                        help="write to FILE; a name ending .xlsx gets the Excel committee pack")
    add_policy_options(parser)
    parser.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> CommandOutput:
    scenarios = [load_scenario(path) for path in args.scenario]
    as_at = parse_as_at(args.as_at)
    policy = policy_from_args(args)
    placements = read_placements(args.placements)
    budget = read_budget(args.budget)
    actuals = read_actuals(args.actuals) if args.actuals is not None else None
    inputs = forecast_inputs(args, placements, budget, as_at, actuals, fit=True)
    options = forecast_options(args, policy)
    base = outturn_from_inputs(inputs, options, executor=workers())
    results = [outturn_from_inputs(inputs, options, scenario, executor=workers())
               for scenario in scenarios]
    names = [scenario.name for scenario in scenarios]
    draws = max(result.simulations for result in [base, *results]) or 1
    table = compare(_with_draws(base, draws), *(_with_draws(r, draws) for r in results),
                    names=names)
    notes = [note for result in results for note in result.notes if "Scenario" in note]
    if wants_workbook(args):
        from forecastlib.report.workbook import committee_pack

        return CommandOutput(committee_pack(base, placements=placements, budget=budget,
                                            actuals=actuals, scenarios=table, policy=policy),
                             notes)
    if args.format == "json":
        return CommandOutput(json.dumps(_json(table, base), indent=2) + "\n", notes)
    if args.format == "csv":
        buffer = io.StringIO()
        table.round(6).reset_index().to_csv(buffer, index=False, lineterminator="\n")
        return CommandOutput(buffer.getvalue(), notes)
    return CommandOutput(_table(table, base, every_line=args.lines) + "\n", notes)


def _with_draws(result: OutturnResult, simulations: int) -> OutturnResult:
    """An exact forecast as ``simulations`` identical draws, so that it compares with a
    simulated one (its difference then has the other run's spread only)."""
    if result.outturns is not None:
        return result
    means = result.lines["mean"].to_numpy(dtype="float64")[:, None]
    return replace(result, outturns=np.repeat(means, simulations, axis=1))


def _json(table: pd.DataFrame, base) -> dict:
    out = {"as_at": str(base.as_at), "financial_year": int(base.year),
           "simulations": int(base.simulations), "interval": float(base.interval),
           "scenarios": []}
    for name, block in table.groupby(level="scenario", sort=False):
        rows = [{"service": service, "category": category,
                 "base": round(float(row["base_mean"]), 2),
                 "scenario": round(float(row["scenario_mean"]), 2),
                 "difference": {"mean": round(float(row["delta_mean"]), 2),
                                "lower": round(float(row["delta_lower"]), 2),
                                "upper": round(float(row["delta_upper"]), 2)},
                 "prob_increase": round(float(row["prob_increase"]), 6)}
                for (_, service, category), row in block.iterrows()]
        out["scenarios"].append({"name": str(name), "lines": rows[:-1], "total": rows[-1]})
    return out


def _table(table: pd.DataFrame, base, every_line: bool) -> str:
    width = 40
    head = (f"{'Line':<{width}} {'Base':>9} {'Scenario':>9} {'Change':>8} "
            f"{'Interval':>17} {'P(up)':>6}")
    rule = "-" * len(head)
    out = [f"Scenarios against the base forecast {fy_label(base.year)} as at {base.as_at} "
           "(GBP thousands)"]
    for name, block in table.groupby(level="scenario", sort=False):
        out += ["", str(name), rule, head, rule]
        for (_, service, category), row in block.iterrows():
            total = service == "Total"
            if not (total or every_line or abs(row["delta_mean"]) >= 0.5
                    or row["delta_lower"] != row["delta_upper"]):
                continue
            label = "Total" if total else f"{service} / {category or '(lump line)'}"
            if len(label) > width:
                label = label[:width - 1] + "~"
            span = f"{gbp_thousands(row['delta_lower'])} to {gbp_thousands(row['delta_upper'])}"
            line = (f"{label:<{width}} {gbp_thousands(row['base_mean']):>9} "
                    f"{gbp_thousands(row['scenario_mean']):>9} "
                    f"{gbp_thousands(row['delta_mean']):>8} {span:>17} "
                    f"{row['prob_increase']:>6.0%}")
            out += [rule, line, rule] if total else [line]
    out.append(f"Interval: the central {base.interval:.0%} of the change, simulation by "
               "simulation (same random numbers in both runs).")
    return "\n".join(out)
