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

from dataclasses import dataclass, replace

import numpy as np

from forecastlib.streams import stream

__all__ = ["CommonShock", "shift_levels"]

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

    def current(self, counts: np.ndarray, means: np.ndarray, services: list[str],
                ahead: int = 6) -> dict[str, float]:
        """The shared shock's current value per service, filtered from the lines' recent
        residuals: the log factor to multiply each service's lines' projected rates by.

        The model of :meth:`draw` read backwards: each month the lines' summed starts
        ``y_t`` over their summed fitted means ``M_t`` give ``z_t = y_t / M_t - 1``, the
        shock ``x_t`` (an AR(1) of variance ``overall + service`` and autocorrelation
        ``persistence``) seen with Poisson noise of variance ``1 / M_t``. A Kalman
        filter gives ``E[x_T | z]``; the shock then decays by ``persistence`` a month, so
        the returned factor is its mean over the ``ahead`` months to come. Zero where
        there is no shared variance: lines that do not move together keep their own
        levels.

        Examples
        --------
        Two lines whose last year ran 30% above their fitted means, under a persistent
        shared shock of variance 0.02: much of the rise is taken, decaying over six months.

        >>> means = np.full((2, 36), 10.0)
        >>> counts = np.where(np.arange(36) >= 24, 13.0, 10.0) * np.ones((2, 1))
        >>> shift = CommonShock(0.0, 0.02, 0.9).current(counts, means, ["A", "A"])["A"]
        >>> bool(0.1 < shift < np.log(1.3))
        True
        >>> CommonShock().current(counts, means, ["A", "A"])
        {'A': 0.0}
        """
        counts = np.asarray(counts, dtype=float)
        means = np.asarray(means, dtype=float)
        variance, phi = self.overall + self.service, self.persistence
        groups = np.asarray(services)
        out = {}
        for service in dict.fromkeys(services):
            rows = groups == service
            seen = np.isfinite(means[rows]) & np.isfinite(counts[rows])
            total = np.where(seen, means[rows], 0.0).sum(axis=0)
            observed = np.where(seen, counts[rows], 0.0).sum(axis=0)
            if variance <= 0 or not (total > 0).any():
                out[service] = 0.0
                continue
            state, spread = 0.0, variance
            for month in np.flatnonzero(total > 0):
                state, spread = phi * state, phi**2 * spread + variance * (1 - phi**2)
                gain = spread / (spread + 1.0 / total[month])
                state += gain * (observed[month] / total[month] - 1.0 - state)
                spread *= 1.0 - gain
            decay = np.mean(phi ** np.arange(1, ahead + 1))
            out[service] = float(np.log1p(max(state, -0.9)) * decay)
        return out

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




def shift_levels(fits: dict, shifts: dict[str, float]) -> None:
    """Multiply the projected rate of every shared line's candidates by
    ``exp(shifts[service])``, their relative uncertainty kept: a regression's intercept,
    a local level's rate, a flat rate's exposure (``fits``: line -> ``CandidateFit``)."""
    for (service, _), fit in fits.items():
        shift = shifts.get(service, 0.0)
        if not fit.shared or shift == 0.0:
            continue
        for item in fit.components:
            if item.level is not None:
                item.level = replace(item.level, rate=item.level.rate * np.exp(-shift))
            elif item.kind == "pooled":
                item.exposure_months *= np.exp(-shift)
            elif item.kind != "zero":
                item.params = item.params.copy()
                item.params[0] += shift
