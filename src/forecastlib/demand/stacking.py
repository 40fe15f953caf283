"""Stacking the starts model's candidates by a rolling-origin backtest, and its drift.

Each candidate of :mod:`forecastlib.demand.start_candidates` is refitted at several
rolling origins (``validation_months`` apart, each with at least ``min_train`` months
before it) and scored by log score on the months after it. The candidates are
**stacked**: mixture weights that maximise the held-out log score of the mixture (Yao,
Vehtari, Simpson & Gelman 2018, *Bayesian Analysis* 13, 917-1007), learnt by EM. A recent
step enters each candidate with the probability :meth:`CandidateFitter.find_step` gives
it against that candidate's own model without a step (with or without trend). The same
backtest's 6-month totals, against the mixture's mean and variance, measure how much the
level wanders beyond what the model itself simulates (:func:`drift_variance`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from forecastlib.demand.start_candidates import CandidateFit, CandidateFitter

__all__ = ["Stacker", "drift_variance", "stack_weights"]


def stack_weights(log_scores: np.ndarray, iterations: int = 300) -> np.ndarray:
    """Mixture weights maximising the mean log predictive density (EM; columns: candidates).

    Examples
    --------
    >>> scores = np.log([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])
    >>> stack_weights(scores).round(2).tolist()
    [1.0, 0.0]
    """
    density = np.exp(log_scores - log_scores.max(axis=1, keepdims=True))
    weights = np.full(log_scores.shape[1], 1.0 / log_scores.shape[1])
    rows = len(density)
    for _ in range(iterations):
        joint = density * weights
        updated = np.add.reduce(joint / np.add.reduce(joint, axis=1)[:, None], axis=0) / rows
        if np.abs(updated - weights).max() < 1e-4:
            return updated
        weights = updated
    return weights


def drift_variance(backtests: list[np.ndarray], validation_months: int) -> float:
    """Monthly variance of a random walk in every line's log level, beyond the model's.

    At each rolling origin of each line the stacked mixture's held-out total has a mean
    ``E`` and variance ``V`` (rows of ``backtests``: observed, ``E``, ``V``); the excess
    ``sum((O - E)^2 - V) / sum(E^2)`` over all lines and origins (method of moments, at
    least 0, at most 1) is the relative variance the model missed, spread as a random walk
    over the ``h = validation_months`` (whose total has ``(h + 1)(2h + 1) / 6h`` times the
    monthly variance).

    Examples
    --------
    >>> drift_variance([np.array([[130.0, 100.0, 100.0], [70.0, 100.0, 100.0]])], 6)
    0.0316...
    """
    if not backtests:
        return 0.0
    observed, mean, variance = np.vstack(backtests).T
    valid = np.isfinite(mean) & np.isfinite(variance) & (mean > 0)
    if not valid.any():
        return 0.0
    excess = ((observed - mean) ** 2 - variance)[valid].sum() / (mean[valid] ** 2).sum()
    h = validation_months
    return float(np.clip(excess, 0.0, 1.0) / ((h + 1) * (2 * h + 1) / (6 * h)))


@dataclass(frozen=True)
class Stacker:
    """Rolling-origin backtest and stacking of ``candidates`` for one line at a time."""

    fitter: CandidateFitter
    candidates: tuple[str, ...]
    origins: int = 4
    validation_months: int = 6
    min_train: int = 18

    def backtest(self, names: list[str], counts: np.ndarray, months: np.ndarray,
                  offset: np.ndarray, fallback: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Refit at each rolling origin and score the months after it.

        Returns the held-out log scores (rows: months after each origin; columns:
        ``names``), the candidates' mean and variance of each origin's held-out total
        (origins x names x 2) and the observed totals.
        """
        step = self.validation_months
        scores, moments, observed = [], [], []
        for k in range(self.origins, 0, -1):
            cut = len(counts) - step * k
            if cut < self.min_train:
                continue
            train, test = slice(0, cut), slice(cut, cut + step)
            found = self.fitter.find_steps(counts[train], months[train], offset[train])
            fits = self.fitter.fit_all(
                names, counts[train], months[train], offset[train], fallback,
                {trend: step if chance >= 0.5 else None
                 for trend, (step, chance) in found.items()})
            block = np.full((step, len(names)), -np.inf)
            totals = np.full((len(names), 2), np.nan)
            for column, fit in enumerate(fits.values()):
                if fit is not None:
                    block[:, column] = self.fitter.held_out(fit, counts[test], months[test],
                                                             offset[test])
                    totals[column] = self.fitter.total_moments(fit, months[test],
                                                                offset[test])
            scores.append(block)
            moments.append(totals)
            observed.append(counts[test].sum())
        if not scores:
            return (np.zeros((0, len(names))), np.zeros((0, len(names), 2)), np.zeros(0))
        return np.vstack(scores), np.array(moments), np.array(observed)

    def fit(self, counts: np.ndarray, months: np.ndarray, offset: np.ndarray,
                 pooled_season: np.ndarray, common: dict) -> CandidateFit:
        """The stacked fit of one line (its Poisson regressions made once each)."""
        if self.fitter.memo is None:
            return replace(self, fitter=self.fitter.with_memo()).fit(
                counts, months, offset, pooled_season, common)
        names = list(self.candidates)
        found = self.fitter.find_steps(counts, months, offset)
        chance = {name: found[name.endswith("_trend")][1] for name in names}
        steps = [None]
        shares = [{name: 1.0 - chance[name] for name in names}]
        if max(chance.values()) >= 0.01:  # the versions with a step, in proportion
            steps.append({trend: step for trend, (step, _) in found.items()})
            shares.append(chance)
        negbins = [name for name in names if name.startswith("negbin")]
        others = [name for name in names if name not in negbins]
        finals = [self.fitter.fit_all(others, counts, months, offset, pooled_season, chosen)
                  for chosen in steps]
        if others and not self.fitter.overdispersed(finals[0].get("poisson_trend"), counts,
                                                    offset):
            # negative binomial = Poisson here: leave it out (and its slow fits)
            names = others
        elif negbins:
            for final, chosen in zip(finals, steps, strict=True):
                final.update(self.fitter.fit_all(negbins, counts, months, offset,
                                                 pooled_season, chosen))
        scores, moments, observed = self.backtest(names, counts, months, offset,
                                                   pooled_season)
        usable = np.isfinite(scores).all(axis=0) if len(scores) else np.ones(len(names), bool)
        alive = usable & np.array([any(final[name] is not None for final in finals)
                                   for name in names])
        if not alive.any():
            fit = self.fitter.local_level(counts, months, offset, pooled_season)
            fit.__dict__.update(common, note="no candidate could be fitted: local level.")
            return fit
        weights = np.zeros(len(names))
        weights[alive] = stack_weights(scores[:, alive]) if len(scores) else 1 / alive.sum()
        weights[weights < 0.01] = 0.0
        weights /= weights.sum()
        mixture = []
        for share, final in zip(shares, finals, strict=True):
            for column, name in enumerate(names):
                fit = final[name]
                if fit is not None and weights[column] * share[name] >= 0.005:
                    fit.weight = float(weights[column] * share[name])
                    mixture.append(fit)
        total = sum(item.weight for item in mixture)
        for item in mixture:
            item.weight /= total
        top = max(mixture, key=lambda item: item.weight)
        line_fit = CandidateFit(
            top.kind, top.params, top.cov, top.trend, top.negbin,
            pooled_season=top.pooled_season, step_from=top.step_from, level=top.level,
            scores=dict(zip(names, scores.mean(axis=0), strict=True)) if len(scores) else {},
            mixture=mixture, fitted=sum(item.weight * item.fitted for item in mixture))
        line_fit.__dict__.update(common)
        if len(observed):  # the stacked mixture's mean and variance of each held-out total
            mean = np.nansum(weights * moments[:, :, 0], axis=1)
            second = np.nansum(weights * (moments[:, :, 1] + moments[:, :, 0] ** 2), axis=1)
            line_fit.backtest = np.column_stack([observed, mean, second - mean ** 2])
        stepped = {(step, round(sum(item.weight for item in mixture
                                     if item.step_from == step), 2))
                   for step, _ in found.values() if step is not None}
        stepped = sorted((step, share) for step, share in stepped if share >= 0.01)
        if stepped:
            line_fit.note = "; ".join(
                f"a step in starts from {step} carries {share:.0%} of the projection's weight"
                for step, share in stepped) + "."
        return line_fit
