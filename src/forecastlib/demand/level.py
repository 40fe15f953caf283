"""The current level of a count series: a Poisson local-level model and recent step changes.

**Local level.** Monthly counts ``y_t ~ Poisson(mu_t s_t)`` around a level ``mu_t`` that
wanders, with ``s_t`` a known scale (seasonal factor times exposure). The conjugate
Poisson-gamma state space model of Harvey & Fernandes (1989, *J. Bus. Econ. Stat.* 7,
407-417) tracks the level exactly: with the level's distribution given the past
``Gamma(a, b)`` (shape, rate), one month passes by *discounting* the information,
``a <- w a``, ``b <- w b`` (same mean, variance inflated by ``1 / w``), and an observation
adds ``a <- a + y``, ``b <- b + s``. The one-step predictive is negative binomial, so the
discount ``w`` (``1``: a constant rate; smaller: a level that moves) is estimated by
maximising the predictive log-likelihood, exactly. ``statsmodels``' state space models
are Gaussian: on counts of a few a month their log or square-root transforms are biased,
which this model avoids. Looking ahead, the level moves as the model's own martingale
``mu_{t+1} = mu_t eta / w``, ``eta ~ Beta(w a, (1 - w) a)``: simulated level paths carry
the state innovations forward, not only the plug-in mean.

**Step change.** :func:`step_change` scans the last months for a sustained shift of the
observed counts from a fitted mean (a score test of the ratio observed / expected over
the last ``L`` months, overdispersion allowed), so a count regression can take a recent
change point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal, stats

__all__ = ["LevelState", "fit_local_level", "step_change"]

DISCOUNTS = np.round(np.linspace(0.5, 1.0, 21), 3)


@dataclass(frozen=True)
class LevelState:
    """The filtered level at the last month: ``Gamma(shape, rate)`` and the discount."""

    shape: float
    rate: float
    discount: float

    @property
    def mean(self) -> float:
        return self.shape / self.rate

    def predictive_logpmf(self, counts: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Log probability of ``counts`` in the months ahead (1, 2, ...), scaled by ``scale``.

        Month ``j`` ahead has level ``Gamma(w^j a, w^j b)``: a negative binomial count.
        """
        ahead = np.arange(1, len(counts) + 1)
        shape = self.shape * self.discount ** ahead
        rate = self.rate * self.discount ** ahead
        return stats.nbinom.logpmf(counts, shape, rate / (rate + scale))

    def paths(self, rng: np.random.Generator, steps: int, simulations: int,
              uncertain: bool = True) -> np.ndarray:
        """Simulated levels for the ``steps`` months ahead, shape ``(simulations, steps)``.

        With ``uncertain`` the current level is drawn from its filtered distribution and
        moves month by month by the model's beta innovations; otherwise it stays at its
        filtered mean.

        Examples
        --------
        >>> state = LevelState(shape=40.0, rate=4.0, discount=0.9)
        >>> levels = state.paths(np.random.default_rng(0), 6, 20_000)
        >>> bool(abs(levels[:, -1].mean() / 10 - 1) < 0.02), bool(levels[:, -1].std() > 1.5)
        (True, True)
        """
        out = np.empty((simulations, steps))
        if not uncertain:
            out[:] = self.mean
            return out
        level = rng.gamma(self.shape, 1.0 / self.rate, simulations)
        shape = self.shape
        for step in range(steps):
            if self.discount < 1.0:
                eta = rng.beta(self.discount * shape, (1.0 - self.discount) * shape,
                               simulations)
                level = level * eta / self.discount
                shape *= self.discount
            out[:, step] = level
        return out


def fit_local_level(counts: np.ndarray, scale: np.ndarray, burn_in: int = 6,
                    discounts: np.ndarray = DISCOUNTS) -> tuple[LevelState, np.ndarray]:
    """Filter ``counts`` for each discount and keep the one of best predictive likelihood.

    The filter starts from a weak prior worth one month of data at the series' mean; the
    first ``burn_in`` months inform the level but are not scored.

    Returns
    -------
    LevelState
        The level after the last month, under the chosen discount.
    ndarray
        The one-step-ahead predicted counts (``s_t`` times the level's mean before month
        ``t``), for residuals.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> steady = rng.poisson(12.0, 96)
    >>> state, _ = fit_local_level(steady, np.ones(96))
    >>> bool(state.discount >= 0.85), bool(abs(state.mean - 12) < 2)
    (True, True)
    """
    counts = np.asarray(counts, dtype=float)
    scale = np.asarray(scale, dtype=float)
    n = len(counts)
    prior_rate = 1.0
    prior_shape = max(counts.sum() / max(scale.sum(), 1e-12), 0.05) * prior_rate
    # a_t = w a_{t-1} + y_t and b_t = w b_{t-1} + s_t are first-order linear filters.
    decay = discounts[:, None] ** np.arange(1, n + 1)[None, :]
    shape = np.vstack([signal.lfilter([1.0], [1.0, -w], counts) for w in discounts])
    rate = np.vstack([signal.lfilter([1.0], [1.0, -w], scale) for w in discounts])
    shape += prior_shape * decay
    rate += prior_rate * decay
    before_shape = discounts[:, None] * np.column_stack(
        [np.full(len(discounts), prior_shape), shape[:, :-1]])
    before_rate = discounts[:, None] * np.column_stack(
        [np.full(len(discounts), prior_rate), rate[:, :-1]])
    logp = stats.nbinom.logpmf(counts[None, :], before_shape,
                               before_rate / (before_rate + scale[None, :]))
    scores = logp[:, min(burn_in, max(n - 1, 0)):].sum(axis=1)
    if n == 0 or not np.isfinite(scores).any():  # no month, or nothing scored: the prior
        return LevelState(prior_shape, prior_rate, 1.0), np.full(n, prior_shape) * scale
    # the largest discount within a hair of the best score: a steadier level on ties
    best = int(np.flatnonzero(scores >= np.nanmax(scores) - 1e-9)[-1])
    state = LevelState(float(shape[best, -1]), float(rate[best, -1]), float(discounts[best]))
    return state, scale * before_shape[best] / before_rate[best]


def step_change(counts: np.ndarray, mean: np.ndarray, dispersion: float = 0.0,
                shortest: int = 3, longest: int = 12, threshold: float = 12.0) -> int:
    """Length in months of the most significant sustained step at the series' end, or 0.

    For each length ``L`` from ``shortest`` to ``longest`` the last ``L`` months' observed
    total ``O`` is compared with the fitted ``E`` by the score statistic
    ``(O - E)^2 / V``, ``V = E + dispersion * sum(mean^2)`` (negative binomial variance);
    the largest statistic counts if it reaches ``threshold`` (about a 0.05% test for one
    length; scanning ten correlated lengths keeps false alarms near 1%). At least twelve
    months must precede the step.

    Examples
    --------
    >>> flat = np.full(60, 20.0)
    >>> shifted = np.concatenate([np.full(54, 20), np.full(6, 30)])
    >>> step_change(shifted, flat), step_change(np.full(60, 20), flat)
    (6, 0)
    """
    counts = np.asarray(counts, dtype=float)
    mean = np.asarray(mean, dtype=float)
    n = len(counts)
    longest = min(longest, n - 12)
    if longest < shortest:
        return 0
    lengths = np.arange(shortest, longest + 1)
    observed = np.cumsum(counts[::-1])[lengths - 1]
    expected = np.cumsum(mean[::-1])[lengths - 1]
    variance = expected + dispersion * np.cumsum(mean[::-1] ** 2)[lengths - 1]
    statistic = (observed - expected) ** 2 / np.maximum(variance, 1e-12)
    best = int(np.argmax(statistic))
    return int(lengths[best]) if statistic[best] >= threshold else 0
