"""Projecting a fitted :class:`~forecastlib.demand.starts.StartsModel`: mean start
counts per line and future month, and simulated counts with their uncertainty.

:class:`StartsProjection` is the projection side of ``StartsModel`` (which inherits it;
the fitting is in :mod:`forecastlib.demand.starts`). It reads the fitted state
(``origin_``, ``exposure_``, ``common_``, ``drift_``, the per-line candidate fits) and
the hyperparameters (``harmonics``, ``growth``). Each simulation draws a candidate by
its stacking weight, then that candidate's parameters (regressions) or level path
(local level), the service's common shock and the drift, then Poisson counts; every
draw from a stream keyed by the line (:func:`forecastlib.streams.stream`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.demand.start_candidates import CandidateFit, design_matrix, month_index
from forecastlib.demand.start_exposure import log_offset
from forecastlib.lines import LINE_KEYS
from forecastlib.streams import stream

__all__ = ["StartsProjection"]


class StartsProjection:
    """Means and simulations of a fitted starts model (mixed into
    :class:`~forecastlib.demand.starts.StartsModel`)."""

    def future_months(self, horizon: int) -> pd.PeriodIndex:
        """The ``horizon`` months after the last month of data."""
        self._check_fitted()
        return pd.period_range(self.origin_ + 1, periods=horizon, freq="M")

    def _growth_for(self, line: tuple[str, str]) -> float | None:
        if isinstance(self.growth, dict):
            return self.growth.get(line)
        return self.growth

    def _log_means(self, fit: CandidateFit, line: tuple[str, str], months: pd.PeriodIndex,
                   params: np.ndarray) -> np.ndarray:
        """Log mean counts of a regression for ``months`` under draws ``params`` (sims x p)."""
        offset = log_offset(self.exposure_, line, months)
        growth = self._growth_for(line)
        design = design_matrix(months, self.origin_, fit.trend, self.harmonics, fit.step_from)
        beta = params[:, :-1] if fit.negbin else params
        if growth is not None:
            if fit.trend:  # freeze the fitted trend at the origin, then grow at `growth`
                design = design.copy()
                design[:, 1] = 0.0
            return beta @ design.T + offset + self._ahead(months) * np.log1p(growth)
        return beta @ design.T + offset

    def _ahead(self, months: pd.PeriodIndex) -> np.ndarray:
        return (months.asi8 - self.origin_.ordinal) / 12.0

    def _scale(self, line: tuple[str, str], fit: CandidateFit, months: pd.PeriodIndex
               ) -> np.ndarray:
        """Seasonal shape x exposure x growth override (pooled and level kinds)."""
        growth = self._growth_for(line) or 0.0
        exposure = np.exp(log_offset(self.exposure_, line, months))
        return (fit.pooled_season[month_index(months)] * exposure
                * (1 + growth) ** self._ahead(months))

    def _component_mean(self, line: tuple[str, str], fit: CandidateFit, months: pd.PeriodIndex
                        ) -> np.ndarray:
        if fit.kind == "zero":
            return np.zeros(len(months))
        if fit.kind == "pooled" and fit.level is None:
            return fit.events / max(fit.exposure_months, 1e-9) * self._scale(line, fit, months)
        if fit.kind in ("level", "pooled"):
            return fit.level.mean * self._scale(line, fit, months)
        return np.exp(np.clip(self._log_means(fit, line, months, fit.params[None, :]),
                              -50, 30))[0]

    def _plugin_mean(self, line: tuple[str, str], fit: CandidateFit, months: pd.PeriodIndex
                     ) -> np.ndarray:
        mean = sum(item.weight * self._component_mean(line, item, months)
                   for item in fit.components)
        return np.minimum(mean, fit.cap)

    def expected(self, horizon: int) -> pd.DataFrame:
        """Plug-in expected starts per line (rows) and future month (columns)."""
        months = self.future_months(horizon)
        rows = {line: self._plugin_mean(line, fit, months) for line, fit in self._fits.items()}
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=months)
        frame.index = pd.MultiIndex.from_tuples(frame.index, names=LINE_KEYS)
        return frame

    def _component_rates(self, line: tuple[str, str], fit: CandidateFit, months: pd.PeriodIndex,
                         simulations: int, parameter_rng: np.random.Generator,
                         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Start rates of one candidate (parameter and level uncertainty), and means."""
        if fit.kind == "pooled" and fit.level is None:
            level = parameter_rng.gamma(np.full(simulations, fit.events + 0.5),
                                        1.0 / max(fit.exposure_months, 1e-9))
            return (rate := level[:, None] * self._scale(line, fit, months)[None, :]), rate
        if fit.kind in ("level", "pooled"):
            return (rate := fit.level.paths(parameter_rng, len(months), simulations)
                    * self._scale(line, fit, months)[None, :]), rate
        draws = parameter_rng.multivariate_normal(fit.params, fit.cov, size=simulations,
                                                  method="eigh")
        mean = np.exp(np.clip(self._log_means(fit, line, months, draws), -50, 30))
        if fit.negbin:
            alpha = np.clip(draws[:, -1], 1e-8, None)[:, None]
            return rng.gamma(1.0 / alpha, mean * alpha), mean
        return mean, mean

    def simulate(self, horizon: int, simulations: int, seed: int | None = None,
                 parameter_uncertainty: bool = True,
                 rate_factors: dict[tuple[str, str], np.ndarray] | None = None,
                 common: bool = True, block: int | None = None,
                 means: np.ndarray | None = None) -> np.ndarray:
        """Simulated start counts, shape ``(lines, simulations, horizon)``.

        Lines are in the order of :attr:`fits_`. Each simulation draws a candidate by its
        stacking weight, then that candidate's parameters (regressions) or level path
        (local level), then the common shock (``common=False`` leaves it out), and counts.
        Every draw comes from a stream keyed by the line's name or, for the common shock,
        by the service (:func:`forecastlib.streams.stream`). With
        ``parameter_uncertainty=False`` only process noise is drawn: counts around the
        plug-in rate (negative binomial where the candidates are, weighted). Rates are
        capped at the line's ``cap``; ``rate_factors`` (a scenario's demand growth)
        multiply a line's rate month by month after the cap. ``block`` (the engine's
        block of simulations) keys every stream, so that each block draws its own.
        ``means`` (float, the counts' shape) receives each count's mean given the simulation's
        parameters, shocks and level path (no Poisson or gamma noise; capped).
        """
        self._check_fitted()
        months = self.future_months(horizon)
        out = np.zeros((len(self._fits), simulations, horizon), dtype=np.int64)
        if means is not None:
            means[:] = 0.0
        shocks = {}
        if parameter_uncertainty and common and self.common_.active:
            shocks = self.common_.draw(seed, [line[0] for line in self._fits], simulations,
                                       horizon, block=block)
        for position, (line, fit) in enumerate(self._fits.items()):
            if fit.kind == "zero":
                continue
            rng = stream(seed, line, "counts", block=block)
            parameter_rng = stream(seed, line, "parameters", block=block)
            factor = (np.ones(horizon) if rate_factors is None
                      else np.asarray(rate_factors.get(line, np.ones(horizon)), dtype=float))
            if not parameter_uncertainty:
                rate = np.broadcast_to(self._plugin_mean(line, fit, months),
                                       (simulations, horizon))
                if means is not None:
                    means[position] = np.minimum(rate * factor[None, :], 1e9)
                alpha = sum(item.weight * item.dispersion for item in fit.components)
                if alpha > 0:
                    rate = rng.gamma(1.0 / alpha, rate * alpha)
            else:
                components = fit.components
                pick = (parameter_rng.choice(len(components), size=simulations,
                                             p=[item.weight for item in components])
                        if len(components) > 1 else np.zeros(simulations, dtype=int))
                both = np.empty((2, simulations, horizon))  # rates and their means
                for index, item in enumerate(components):
                    rows = np.flatnonzero(pick == index)
                    if len(rows):
                        both[:, rows] = self._component_rates(line, item, months, len(rows),
                                                              parameter_rng, rng)
                if fit.shared and self.drift_ > 0:
                    steps = parameter_rng.normal(0.0, np.sqrt(self.drift_), (simulations, horizon))
                    both *= np.exp(np.cumsum(steps, axis=1)
                                   - self.drift_ * np.arange(1, horizon + 1) / 2)
                if fit.shared and line[0] in shocks:
                    both *= shocks[line[0]]
                rate, mean = np.minimum(both, fit.cap)
                if means is not None:
                    means[position] = np.minimum(mean * factor[None, :], 1e9)
            out[position] = rng.poisson(np.minimum(rate * factor[None, :], 1e9))
        return out

    def predict(self, horizon: int, interval: float = 0.8, simulations: int = 2000,
                seed: int | None = None) -> pd.DataFrame:
        """Projected starts per line and month: ``mean``, ``lower``, ``upper`` (tidy)."""
        paths = self.simulate(horizon, simulations, seed)
        months = self.future_months(horizon)
        tail = (1 - interval) / 2
        lines = list(self._fits)
        return pd.DataFrame({
            "service": np.repeat([line[0] for line in lines], horizon),
            "category": np.repeat([line[1] for line in lines], horizon),
            "month": np.tile(months, len(lines)),
            "mean": paths.mean(axis=1).ravel(),
            "lower": np.quantile(paths, tail, axis=1).ravel(),
            "upper": np.quantile(paths, 1 - tail, axis=1).ravel(),
        })

    def _check_fitted(self) -> None:
        if not hasattr(self, "_fits"):
            raise RuntimeError("StartsModel is not fitted yet: call fit() first")
