"""The demand fits of two checkouts, number by number, and their fitting times.

Fits ``StartsModel``, ``LengthOfStayModel``, ``MoveModel`` and ``PriceModel`` to the
sample county and to three truth-known worlds
(:func:`forecastlib.datasets.truth.simulate_authority`: mixed, shift, moves) with each
checkout's code (a child process per checkout, ``PYTHONPATH`` its ``src``), then prints,
per world and table, the largest relative and absolute difference of any number (the
starts' fitted summary and every mixture component's kind, weight, parameters,
covariance, step and level; the stays' chosen family, parameters, AICs, posterior and
Kaplan-Meier tables; the moves' and the prices' fitted state: inflation, market index,
pools) and anything that differs in kind (a family, a candidate, a key). Then the CPU
seconds of each fit on the sample, best of ``--repeats``, the checkouts interleaved.

Run: ``nice -n 10 python benchmarks/compare_fits.py /work/main/src src``
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

CHILD = r"""
import pickle, sys, time
import numpy as np
from forecastlib.datasets import load_sample
from forecastlib.datasets.calibration import STUDY_LINES
from forecastlib.datasets.truth import simulate_authority
from forecastlib.demand import LengthOfStayModel, MoveModel, PriceModel, StartsModel

def worlds():
    sample = load_sample()
    yield "sample", sample.placements, sample.as_at
    for seed, kind in ((3, "mixed"), (11, "shift"), (5, "moves")):
        world = simulate_authority(STUDY_LINES, "2017-09-30", seed, kind)
        yield f"{kind}{seed}", world.placements, world.as_at

def component(item):
    level = item.level
    return (item.kind, item.weight, np.asarray(item.params), np.asarray(item.cov),
            str(item.step_from),
            None if level is None else (level.shape, level.rate, level.discount))

mode, path = sys.argv[1], sys.argv[2]
if mode == "fits":
    out = {}
    for name, placements, as_at in worlds():
        starts = StartsModel().fit(placements, as_at)
        stays = LengthOfStayModel().fit(placements, as_at)
        moves = MoveModel().fit(placements, as_at)
        prices = PriceModel().fit(placements, as_at)
        out[name] = {
            "starts": starts.fits_, "drift": starts.drift_,
            "components": {line: [component(item) for item in fit.components]
                           for line, fit in starts._fits.items()},
            "stays": stays.fits_, "tau": stays.tau_, "posterior": stays._posterior,
            "survival": stays.survival_,
            "moves": {k: v for k, v in vars(moves).items() if k.endswith("_")},
            "prices": {k: v for k, v in vars(prices).items() if k.endswith("_")}}
    pickle.dump(out, open(path, "wb"))
else:
    sample = load_sample()
    times = {}
    for name, model in (("stays", LengthOfStayModel), ("moves", MoveModel),
                        ("starts", StartsModel), ("prices", PriceModel)):
        start = time.process_time()
        model().fit(sample.placements, sample.as_at)
        times[name] = time.process_time() - start
    pickle.dump(times, open(path, "wb"))
"""


def run(src: str, mode: str, path: str) -> None:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src), OMP_NUM_THREADS="1")
    subprocess.run([sys.executable, "-c", CHILD, mode, path], env=env, check=True)


def differences(a: object, b: object, where: str, worst: dict, kinds: list) -> None:
    """Walk two fitted structures, keeping the largest difference per world and table."""
    if isinstance(a, pd.DataFrame):
        a, b = a.sort_index(), b.sort_index()
        if list(a.columns) != list(b.columns) or not a.index.equals(b.index):
            kinds.append(f"{where}: columns or rows differ")
            return
        for column in a.columns:
            differences(a[column].to_numpy(), b[column].to_numpy(), where, worst, kinds)
        return
    if isinstance(a, pd.Series):
        return differences(a.to_frame(), b.to_frame(), where, worst, kinds)
    if isinstance(a, dict):
        if set(a) != set(b):
            kinds.append(f"{where}: keys differ {set(a) ^ set(b)}")
        for key in set(a) & set(b):
            differences(a[key], b[key], where, worst, kinds)
        return
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            kinds.append(f"{where}: {len(a)} against {len(b)} items")
            return
        for x, y in zip(a, b, strict=True):
            differences(x, y, where, worst, kinds)
        return
    try:
        x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        x, y = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
        if x.shape != y.shape or not all(u == v or (u != u and v != v)
                                         for u, v in zip(x.ravel(), y.ravel(), strict=True)):
            kinds.append(f"{where}: {a!r} against {b!r}")
        return
    if x.shape != y.shape or not np.array_equal(np.isfinite(x), np.isfinite(y)):
        kinds.append(f"{where}: shapes or missing values differ")
        return
    finite = np.isfinite(x)
    if finite.any():
        gap = np.abs(x - y)[finite]
        relative = float((gap / np.maximum(np.abs(x[finite]), 1e-300)).max())
        old = worst.get(where, (0.0, 0.0))
        worst[where] = (max(old[0], relative), max(old[1], float(gap.max())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="the src folder of the reference checkout")
    parser.add_argument("after", help="the src folder of the checkout to compare")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        fitted = []
        for number, src in enumerate((args.before, args.after)):
            run(src, "fits", os.path.join(folder, f"fits{number}.pkl"))
            with open(os.path.join(folder, f"fits{number}.pkl"), "rb") as file:
                fitted.append(pickle.load(file))
        worst, kinds = {}, []
        for world in fitted[0]:
            for table in fitted[0][world]:
                differences(fitted[0][world][table], fitted[1][world][table],
                            f"{world} {table}", worst, kinds)
        print("largest differences (relative, absolute), zero where not listed:")
        for where, (relative, absolute) in sorted(worst.items()):
            if absolute > 0:
                print(f"  {where:24s} {relative:9.2e} {absolute:9.2e}")
        print("differences in kind:", kinds or "none")
        best = [{}, {}]
        for _ in range(args.repeats):
            for number, src in enumerate((args.before, args.after)):
                path = os.path.join(folder, f"times{number}.pkl")
                run(src, "times", path)
                with open(path, "rb") as file:
                    for name, seconds in pickle.load(file).items():
                        best[number][name] = min(best[number].get(name, np.inf), seconds)
        for label, times in zip((args.before, args.after), best, strict=True):
            shown = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in times.items())
            print(f"CPU on the sample, best of {args.repeats} ({label}): {shown}; "
                  f"total {sum(times.values()):.2f} s")


if __name__ == "__main__":
    main()
