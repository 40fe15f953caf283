"""A demand shock shared by lines, estimated from how their residuals move together.

Demand surges hit many lines at once: a winter pressure on adult care, a court ruling on
children's services. Lines' start rates are therefore multiplied by a shared factor
``exp(u_t + v_{s,t})``, ``u`` common to every line and ``v`` to the lines of service
``s``, each a stationary AR(1) in months on the log scale with variance ``overall`` or
``service`` and autocorrelation ``persistence``.

The variances are *estimated*, not assumed: for two different lines ``l != k`` with
counts ``y`` around fitted means ``m``, ``E[(y_l - m_l)(y_k - m_k)] = m_l m_k
(exp(var) - 1)`` whatever each line's own (Poisson or overdispersed) noise, so the sums of
cross-products over pairs of lines in different services (``overall``) and in the same
service (``overall + service``), scaled by the same sums of ``m_l m_k``, are method of
moments estimates; the same sums one month apart give the persistence. Each is clipped at
zero: lines that do not move together get no shared shock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from forecastlib.demand.level import fit_local_level
from forecastlib.streams import stream

__all__ = ["CommonShock", "shared_level_shift"]

_KEY = "\x00common"


def _pair_sum(x: np.ndarray, y: np.ndarray) -> float:
    """Sum over months of ``sum_{l != k} x_l y_k`` (lines in rows)."""
    return float((x.sum(axis=0) * y.sum(axis=0) - (x * y).sum(axis=0)).sum())


def _ratio(numerator: float, denominator: float) -> float:
    return np.log1p(max(numerator / denominator, 0.0)) if denominator > 0 else 0.0


@dataclass(frozen=True)
class CommonShock:
    """Variances of the shared log-rate shocks and their month-to-month persistence.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> shared = np.exp(rng.normal(0, 0.15, 120) - 0.15 ** 2 / 2)
    >>> counts = rng.poisson(np.outer(np.full(6, 30.0), shared))
    >>> shock = CommonShock.estimate(counts, np.full((6, 120), 30.0), ["A"] * 3 + ["B"] * 3)
    >>> bool(0.01 < shock.overall < 0.04)
    True
    """

    overall: float = 0.0
    service: float = 0.0
    persistence: float = 0.0

    @classmethod
    def estimate(cls, counts: np.ndarray, means: np.ndarray, services: list[str]
                 ) -> CommonShock:
        """From ``counts`` and fitted ``means`` (lines x months; ``NaN``: not observed)."""
        counts = np.asarray(counts, dtype=float)
        means = np.asarray(means, dtype=float)
        seen = np.isfinite(counts) & np.isfinite(means)
        residual = np.where(seen, counts - np.where(seen, means, 0.0), 0.0)
        mean = np.where(seen, means, 0.0)
        if counts.shape[0] < 2 or counts.shape[1] < 12:
            return cls()
        groups = np.asarray(services)
        within_r = within_m = 0.0
        for service in np.unique(groups):
            rows = groups == service
            within_r += _pair_sum(residual[rows], residual[rows])
            within_m += _pair_sum(mean[rows], mean[rows])
        all_r, all_m = _pair_sum(residual, residual), _pair_sum(mean, mean)
        overall = _ratio(all_r - within_r, all_m - within_m)
        if all_m - within_m <= 0:  # a single service: its lines share one shock
            overall = 0.0
        service = max(_ratio(within_r, within_m) - overall, 0.0)
        total = _ratio(all_r, all_m)
        lagged = _ratio(_pair_sum(residual[:, 1:], residual[:, :-1]),
                        _pair_sum(mean[:, 1:], mean[:, :-1]))
        persistence = float(np.clip(lagged / total, 0.0, 0.95)) if total > 0 else 0.0
        return cls(float(overall), float(service), persistence)

    @property
    def active(self) -> bool:
        return self.overall > 0 or self.service > 0

    def _path(self, rng: np.random.Generator, variance: float, simulations: int,
              horizon: int) -> np.ndarray:
        out = np.zeros((simulations, horizon))
        if variance <= 0 or horizon == 0:
            return out
        sd, phi = np.sqrt(variance), self.persistence
        state = rng.normal(0.0, sd, simulations)
        for month in range(horizon):
            if month:
                state = phi * state + np.sqrt(1 - phi ** 2) * rng.normal(0.0, sd, simulations)
            out[:, month] = state
        return out

    def draw(self, seed: int | None, services: list[str], simulations: int, horizon: int,
             block: int | None = None) -> dict[str, np.ndarray]:
        """Multiplicative factors (mean one) per service, shape ``(simulations, horizon)``.

        The overall shock is drawn once per simulation and shared by every service;
        each service's own shock comes from its own stream, so the draws are the same
        whichever services are asked for. ``block`` (the engine's block of simulations)
        keys the streams.
        """
        overall = self._path(stream(seed, (_KEY, ""), "counts", block=block), self.overall,
                             simulations, horizon)
        factors = {}
        for service in dict.fromkeys(services):
            own = self._path(stream(seed, (service, _KEY), "counts", block=block), self.service,
                             simulations, horizon)
            factors[service] = np.exp(overall + own - (self.overall + self.service) / 2)
        return factors



def shared_level_shift(total: np.ndarray, scale: np.ndarray, projected: float,
                       next_scale: float, shared_variance: float) -> float:
    """How far a service's lines' current level moves toward their sum's (log factor).

    Each line filters its own current level from a few starts a month, a noisy estimate;
    when lines move together (a shared shock of variance ``shared_variance`` on the log
    scale, :class:`CommonShock`), the shared movement is better estimated from their
    summed starts ``total`` (seasonal and exposure ``scale`` per month). The sum's local
    level (:func:`~forecastlib.demand.level.fit_local_level`) next month, times
    ``next_scale``, against the ``projected`` sum of the lines' own forecasts for that
    month, gives the log gap ``g``, known with variance ``v`` (the level is
    ``Gamma(a, b)``, one month's discount ``w`` on: ``v = trigamma(w a)``). Shrunk by
    precision,

    .. math:: \\hat c = g\\, \\sigma^2 / (\\sigma^2 + v)

    is the shared movement: every line's rate is multiplied by ``exp(c)``. Nothing moves
    where the lines do not move together (``sigma^2 = 0``); most of the gap is taken
    where they do and the sum is well measured.

    Examples
    --------
    Twelve a month for four years, then 18 for the last six months, where the lines
    project 12 in all: with no shared variance nothing moves; with a shared shock of sd
    0.15, part of the way (the sum's filtered level itself lags the step).

    >>> total = np.r_[np.full(42, 12.0), np.full(6, 18.0)]
    >>> shared_level_shift(total, np.ones(48), 12.0, 1.0, 0.0)
    0.0
    >>> shift = shared_level_shift(total, np.ones(48), 12.0, 1.0, 0.15 ** 2)
    >>> bool(0.1 < shift < np.log(1.5))
    True
    """
    total = np.asarray(total, dtype=float)
    if shared_variance <= 0 or projected <= 0 or len(total) < 12 or total.sum() <= 0:
        return 0.0
    state, _ = fit_local_level(total, np.asarray(scale, dtype=float))
    gap = float(np.log(state.mean * next_scale / projected))
    variance = float(special.polygamma(1, state.discount * state.shape))
    return gap * shared_variance / (shared_variance + variance)
