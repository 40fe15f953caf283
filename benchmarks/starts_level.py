"""New starts that follow the level: the stacked StartsModel on truth-known monthly counts.

Three world kinds, each with ``--lines`` lines of 78 months of history (start rates from
2 to 40 a month, a seasonal swing of +-20%) and the 6 months after:

- ``steady``: a constant rate;
- ``shift``: the rate x1.3 to x1.6 over the last 6 to 9 months of history, and after;
- ``random walk``: the log rate wanders (sd 0.03-0.08 a month), history and future.

For each, the projected 6-month count is compared with the realised count: mean absolute
error (MAE) beside that of an oracle which knows the true rate at the origin (and, for
the random walk, its law); the MAE of the projection against the true expected count (the
oracle's mean); and the share of realised counts inside the 80% interval (simulated,
1,000 draws). Baselines in the same run: the model restricted to today's
candidates (regressions only, chosen on two held-out years, no step), and the oracle's
own 80% interval (Poisson around the true rate, the random walk simulated).

    python benchmarks/starts_level.py            # --lines 120 --seed 0
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from forecastlib.demand import StartsModel

HISTORY, HORIZON, BLOCK = 78, 6, 20
KINDS = ("steady", "shift", "random walk")


def world(kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True rates (history + horizon) and the oracle's mean and 6-month count draws."""
    months = np.arange(HISTORY + HORIZON)
    base = np.exp(rng.uniform(np.log(2), np.log(40)))
    season = 1 + 0.2 * np.cos(2 * np.pi * (months - rng.integers(12)) / 12)
    level = np.full(len(months), base)
    if kind == "shift":
        length = rng.integers(6, 10)
        level[HISTORY - length:] *= rng.uniform(1.3, 1.6)
    walk_sd = 0.0
    if kind == "random walk":
        walk_sd = rng.uniform(0.03, 0.08)
        level = base * np.exp(np.cumsum(rng.normal(0, walk_sd, len(months))))
    rates = level * season
    # the oracle knows the rate at the origin (and the walk's law), not the future path
    paths = level[HISTORY - 1] * np.exp(np.cumsum(
        rng.normal(0, walk_sd, (1000, HORIZON)), axis=1)) * season[HISTORY:]
    oracle_counts = rng.poisson(paths).sum(axis=1)
    oracle_mean = paths.sum(axis=1).mean()
    return rates, np.array([oracle_mean]), oracle_counts


def table(series: list[np.ndarray]) -> pd.DataFrame:
    months = pd.period_range("2013-04", periods=HISTORY, freq="M")
    frame = pd.DataFrame(np.array(series), columns=months)
    frame.index = pd.MultiIndex.from_tuples(
        [("S", f"line {i}") for i in range(len(series))], names=["service", "category"])
    return frame


def evaluate(kind: str, lines: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    models = {
        "stacked (new)": lambda: StartsModel(),
        "regressions only (today)": lambda: StartsModel(
            candidates=("negbin_trend", "negbin", "poisson_trend", "poisson"), origins=2,
            validation_months=12, step_threshold=np.inf, common=False),
    }
    errors = {name: [] for name in models} | {"oracle": []}
    truth_errors = {name: [] for name in models}
    hits = {name: [] for name in models} | {"oracle": []}
    seconds = dict.fromkeys(models, 0.0)
    for block in range(0, lines, BLOCK):
        worlds = [world(kind, rng) for _ in range(min(BLOCK, lines - block))]
        history = [rng.poisson(rates[:HISTORY]) for rates, _, _ in worlds]
        realised = np.array([rng.poisson(rates[HISTORY:]).sum() for rates, _, _ in worlds])
        expected = np.array([mean[0] for _, mean, _ in worlds])
        for name, make in models.items():
            started = time.perf_counter()
            model = make().fit_counts(table(history))
            totals = model.simulate(HORIZON, 1000, seed=block).sum(axis=2)
            seconds[name] += time.perf_counter() - started
            projected = model.expected(HORIZON).sum(axis=1).to_numpy()
            errors[name] += list(np.abs(projected - realised))
            truth_errors[name] += list(np.abs(projected - expected))
            low, high = np.quantile(totals, [0.1, 0.9], axis=1)
            hits[name] += list((realised >= low) & (realised <= high))
        for (_, mean, counts), actual in zip(worlds, realised, strict=True):
            errors["oracle"].append(abs(mean[0] - actual))
            low, high = np.quantile(counts, [0.1, 0.9])
            hits["oracle"].append(low <= actual <= high)
    oracle_mae = np.mean(errors["oracle"])
    out = {}
    for name in errors:
        out[f"{name}: MAE / oracle"] = np.mean(errors[name]) / oracle_mae
        out[f"{name}: 80% coverage"] = np.mean(hits[name])
    for name in truth_errors:
        out[f"{name}: MAE vs true mean"] = np.mean(truth_errors[name])
    for name, spent in seconds.items():
        out[f"{name}: seconds per line"] = spent / lines
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = {kind: evaluate(kind, args.lines, args.seed) for kind in KINDS}
    frame = pd.DataFrame(rows)
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 120):
        print(frame)


if __name__ == "__main__":
    main()
