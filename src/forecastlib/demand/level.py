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
observed counts from a fitted mean (a likelihood ratio test of the share of the total in
the last ``L`` months, overdispersion allowed), so a count regression can take a recent
change point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = ["LevelState", "fit_local_level", "negbin_logpmf", "step_change"]

DISCOUNTS = np.round(np.linspace(0.5, 1.0, 21), 3)


def negbin_logpmf(counts: np.ndarray, size: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """``scipy.stats.nbinom.logpmf(counts, size, prob)`` for valid arguments.

    scipy's own expression (``scipy.special``'s ``gammaln`` and ``xlog1py``), without
    its argument checks and broadcasting set-up, which cost far more than the arithmetic
    on the short series the filters and backtests score hundreds of times: ``counts``
    must be whole and non-negative, ``size`` positive and ``prob`` in ``(0, 1]``.

    Examples
    --------
    >>> from scipy import stats
    >>> counts, size, prob = np.array([0.0, 3.0, 12.0]), np.array([2.5]), np.array([0.4])
    >>> bool(np.array_equal(negbin_logpmf(counts, size, prob),
    ...                     stats.nbinom.logpmf(counts, size, prob)))
    True
    """
    return (special.gammaln(size + counts) - special.gammaln(counts + 1)
            - special.gammaln(size) + size * np.log(prob) + special.xlog1py(counts, -prob))


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
        return negbin_logpmf(counts, shape, rate / (rate + scale))

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
                    discounts: np.ndarray = DISCOUNTS, reset_at: int | None = None,
                    reset: float = 0.02) -> tuple[LevelState, np.ndarray]:
    """Filter ``counts`` for each discount and keep the one of best predictive likelihood.

    The filter starts from a weak prior worth one month of data at the series' mean; the
    first ``burn_in`` months inform the level but are not scored. ``reset_at`` (a month's
    position) is an *intervention* where a step change was found: the information held
    before that month is multiplied by ``reset`` (the level's mean kept, its variance
    inflated), so the level after it rests on the months since.

    Returns
    -------
    LevelState
        The level after the last month, under the chosen discount.
    ndarray
        The one-step-ahead predicted counts (``s_t`` times the level's mean before month
        ``t``), for residuals.

    Examples
    --------
    With one discount of 0.5 and counts 2 and 4 (prior: shape 3, rate 1):
    ``a = 0.5 * 3 + 2 = 3.5``, ``b = 0.5 + 1 = 1.5``, then ``a = 1.75 + 4 = 5.75``,
    ``b = 0.75 + 1 = 1.75``.

    >>> state, _ = fit_local_level(np.array([2, 4]), np.ones(2), discounts=np.array([0.5]))
    >>> state.shape, state.rate, state.discount
    (5.75, 1.75, 0.5)
    >>> rng = np.random.default_rng(1)
    >>> steady = rng.poisson(12.0, 96)
    >>> state, _ = fit_local_level(steady, np.ones(96))
    >>> bool(state.discount >= 0.85), bool(abs(state.mean - 12) < 2)
    (True, True)
    """
    counts = np.asarray(counts, dtype=float)
    scale = np.asarray(scale, dtype=float)
    discounts = np.asarray(discounts, dtype=float)
    n = len(counts)
    prior_rate = 1.0
    prior_shape = max(counts.sum() / max(scale.sum(), 1e-12), 0.05) * prior_rate
    before_shape = np.empty((len(discounts), n))
    before_rate = np.empty((len(discounts), n))
    shape = np.full(len(discounts), prior_shape)
    rate = np.full(len(discounts), prior_rate)
    for month in range(n):  # vectorised over the discounts
        factor = discounts * (reset if month == reset_at else 1.0)
        before_shape[:, month], before_rate[:, month] = shape * factor, rate * factor
        shape = before_shape[:, month] + counts[month]
        rate = before_rate[:, month] + scale[month]
    logp = negbin_logpmf(counts[None, :], before_shape,
                         before_rate / (before_rate + scale[None, :]))
    scores = logp[:, min(burn_in, max(n - 1, 0)):].sum(axis=1)
    if n == 0 or not np.isfinite(scores).any():  # no month, or nothing scored: the prior
        return LevelState(prior_shape, prior_rate, 1.0), np.full(n, prior_shape) * scale
    # the largest discount within a hair of the best score: a steadier level on ties
    best = int(np.flatnonzero(scores >= np.nanmax(scores) - 1e-9)[-1])
    final_shape = before_shape[best, -1] + counts[-1]
    final_rate = before_rate[best, -1] + scale[-1]
    state = LevelState(float(final_shape), float(final_rate), float(discounts[best]))
    return state, scale * before_shape[best] / before_rate[best]


def step_change(counts: np.ndarray, mean: np.ndarray, dispersion: float = 1.0,
                shortest: int = 3, longest: int = 12) -> tuple[int, float]:
    """The most likely sustained step at the series' end: ``(months, statistic)``.

    ``mean`` is a fit with no step (a regression with intercept, so its total is the
    observed total ``N``). For each length ``L`` from ``shortest`` to ``longest`` the
    last ``L`` months' observed total ``O`` is compared with the fitted ``E``: given
    ``N``, ``O`` is binomial with share ``p = E / sum(mean)`` without a step, so the
    likelihood ratio statistic is ``2 [O log(O / Np) + (N - O) log((N - O) / N(1 - p))]``,
    divided by ``dispersion`` (quasi-Poisson, at least 1). The length of the largest
    statistic is the change point's maximum likelihood estimate. At least twelve months
    must precede the step (``(0, 0.0)`` when the series is too short).

    Examples
    --------
    A shift from 20 to 30 a month over the last six of 60 months (``N = 1260``):
    ``O = 180``, ``p = 0.1``, statistic
    ``2 [180 log(180 / 126) + 1080 log(1080 / 1134)] = 23.0``.

    >>> flat = np.full(60, 20.0)
    >>> shifted = np.concatenate([np.full(54, 20), np.full(6, 30)])
    >>> months, statistic = step_change(shifted, flat)
    >>> months, round(statistic, 1)
    (6, 23.0)
    """
    counts = np.asarray(counts, dtype=float)
    mean = np.asarray(mean, dtype=float)
    n = len(counts)
    longest = min(longest, n - 12)
    if longest < shortest or mean.sum() <= 0 or counts.sum() <= 0:
        return 0, 0.0
    lengths = np.arange(shortest, longest + 1)
    observed = np.cumsum(counts[::-1])[lengths - 1]
    expected = np.cumsum(mean[::-1])[lengths - 1]
    total = counts.sum()
    share = np.clip(expected / mean.sum(), 1e-12, 1 - 1e-12)
    statistic = 2 * (special.xlogy(observed, observed / (total * share))
                     + special.xlogy(total - observed,
                                     (total - observed) / (total * (1 - share))))
    statistic = statistic / max(dispersion, 1.0)
    best = int(np.argmax(statistic))
    return int(lengths[best]), float(statistic[best])
