"""The parameter oracle: true parameters, start-rate levels filtered from the record.

The oracle of :func:`~forecastlib.datasets.truth.oracle_models` is given each line's
start rate *at* ``as_at`` (the random walk's value, this year's common shock, a level
shift): a latent state, which no forecaster knows however well it knows the world. The
**parameter oracle** knows what a generator's parameters are (each line's trend and
seasonal shape, the walk's monthly step sd, the common shock's sd and its yearly
renewal, the shift's probability, size and timing; stays and prices as the state
oracle) and infers the state from the record's own starts up to ``as_at``:

* each line's monthly starts (a spell's first episode on the line: moves in count,
  yearly uplift episodes do not) are Poisson with log mean
  :math:`c_{l,t} + x_{l,t} + s_{f(t)} + \\delta_l [t \\ge t_l]`, where :math:`c` is the
  known shape (:meth:`TruthSpec.log_rate`), :math:`x_l` the line's level (a random walk
  with the true step sd, diffuse at the record's start: the level itself is not given),
  :math:`s_f` the financial year's common shock (N(0, sd^2), new each 1 April) and
  :math:`\\delta_l` a shift from month :math:`t_l`;
* the state :math:`(x_1, \\dots, x_L, s)` on the last month is read from the Laplace
  approximation of the joint posterior of every month's levels and every year's shock
  (Newton steps to the joint mode, the curvature there as its precision, the log-gamma
  skew of a Poisson log rate taken off the mean);
* where the world shifts, shifts are weighed exactly over a grid: every configuration of
  (no shift | lag 6-9 months x six equal-probability factors in 1.3-1.6) per line, the
  generator's prior (each line with probability ``p``, at least one line); the months
  before the last nine are smoothed once as above, and each configuration is filtered
  over the last nine months by a month-by-month Laplace update, whose marginal
  likelihoods weigh the configurations.

In a world with moves, the fitted move model is left out (as by
:func:`~forecastlib.datasets.truth.oracle_models`): the target lines' starts carry the
moves in.

Its new starts draw a configuration by its posterior weight, the state from its Gaussian,
then the future with the true dynamics: the walk keeps stepping (so the mean carries the
log-normal factor :math:`e^{\\sigma^2 h / 2}`: the generator has no drift correction),
a new financial year draws a new shock, and counts are Poisson.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gammaln

from forecastlib.calendar import financial_year
from forecastlib.streams import stream

__all__ = ["LevelPosterior", "filter_levels", "level_posterior", "parameter_oracle_models",
           "record_starts"]

#: Prior sd of each line's log level at the record's start (diffuse: the level is learnt).
DIFFUSE_SD = 10.0
#: Months at the end of the record in which a shift may have started (lags 6-9).
SHIFT_WINDOW = 9
SHIFT_FACTORS = 6
NEWTON_STEPS = 40


@dataclass(frozen=True)
class LevelPosterior:
    """The filtered state at the last month of data.

    ``weights`` (B,) over configurations of shifts, ``shift`` (B, L) each configuration's
    log shift per line (0 where none), ``mean`` (B, d) and ``cov`` (B, d, d) the state
    :math:`(x_1, \\dots, x_L[, s])`, ``months`` the months filtered, ``walk_sd`` and
    ``shock_sd`` the dynamics.
    """

    weights: np.ndarray
    shift: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    months: pd.PeriodIndex
    walk_sd: float
    shock_sd: float

    @property
    def lines(self) -> int:
        return self.shift.shape[1]

    def log_level(self) -> np.ndarray:
        """Each line's posterior mean of its current log level against the shape
        (:math:`x + s + \\delta`), over the configurations."""
        level = self.mean[:, :self.lines] + self.shift
        if self.mean.shape[1] > self.lines:
            level = level + self.mean[:, -1:]
        return self.weights @ level

    def rate_factor(self) -> np.ndarray:
        """Each line's posterior mean of :math:`e^{x + s + \\delta}`, its current rate
        over the shape's."""
        d = self.lines
        var = self.cov[:, np.arange(d), np.arange(d)]
        mean = self.mean[:, :d] + self.shift
        if self.mean.shape[1] > d:
            var = var + self.cov[:, -1, -1][:, None] + 2 * self.cov[:, :d, -1]
            mean = mean + self.mean[:, -1:]
        return self.weights @ np.exp(mean + var / 2)


def record_starts(record: pd.DataFrame, lines: list[tuple[str, str]], first: pd.Period,
                  last: pd.Period, moves_in: bool = True) -> np.ndarray:
    """Monthly starts per line (L x months ``first..last``): a spell's first episode on a
    line (one client's earliest start there), so yearly split episodes are not starts and
    moves in are; with ``moves_in=False``, new spells only (a segment entered by a move
    is not counted: :func:`~forecastlib.demand.history.line_starts`)."""
    if moves_in:
        key = record.groupby(["client_id", "service", "category"], observed=True)[
            "start_date"].min().reset_index()
    else:
        from forecastlib.demand.history import line_starts

        key = line_starts(record)
        key["start_date"] = pd.to_datetime(key["start_date"])
    day = key["start_date"].dt
    offset = (day.year * 12 + day.month - (first.year * 12 + first.month)).to_numpy()
    size = (last - first).n + 1
    index = pd.MultiIndex.from_arrays([key["service"].astype(str), key["category"].astype(str)])
    codes = pd.Index(lines).get_indexer(index)
    known = (codes >= 0) & (offset >= 0) & (offset < size)
    counts = np.zeros((len(lines), size))
    np.add.at(counts, (codes[known], offset[known]), 1)
    return counts


def _update(mean: np.ndarray, cov: np.ndarray, counts: np.ndarray, offset: np.ndarray,
            design: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One month's Laplace update of B Gaussian predictions by Poisson counts.

    ``mean`` (B, d), ``cov`` (B, d, d), ``counts`` (L,), ``offset`` (B, L) the known log
    means, ``design`` (L, d). Returns the posterior mean, covariance and the month's log
    marginal likelihood (B,)."""
    precision = np.linalg.inv(cov)
    theta = mean.copy()
    for _ in range(NEWTON_STEPS):
        mu = np.exp(offset + theta @ design.T)
        gradient = (-np.einsum("bij,bj->bi", precision, theta - mean)
                    + (counts - mu) @ design)
        hessian = precision + np.einsum("li,bl,lj->bij", design, mu, design)
        step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
        step = np.clip(step, -1.0, 1.0)
        theta = theta + step
        if np.abs(step).max() < 1e-10:
            break
    eta = offset + theta @ design.T
    mu = np.exp(eta)
    hessian = precision + np.einsum("li,bl,lj->bij", design, mu, design)
    posterior = np.linalg.inv(hessian)
    gap = theta - mean
    log_lik = ((counts * eta - mu - gammaln(counts + 1)).sum(axis=1)
               - 0.5 * np.einsum("bi,bij,bj->b", gap, precision, gap)
               - 0.5 * np.linalg.slogdet(cov)[1] + 0.5 * np.linalg.slogdet(posterior)[1])
    return theta, posterior, log_lik


def _run(mean: np.ndarray, cov: np.ndarray, counts: np.ndarray, offsets: np.ndarray,
         years: np.ndarray, walk_sd: float, shock_sd: float, lines: int,
         previous: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Filter months ``counts`` (L, T) with offsets (B, L, T); ``years`` the months'
    financial years (T,); ``previous`` the financial year of the month before (None: the
    first month is the record's first and needs no prediction step)."""
    d = mean.shape[1]
    design = np.zeros((lines, d))
    design[:, :lines] = np.eye(lines)
    if d > lines:
        design[:, -1] = 1.0
    walk = np.zeros(d)
    walk[:lines] = walk_sd**2
    log_lik = np.zeros(mean.shape[0])
    for t in range(counts.shape[1]):  # a loop over months
        before = years[t - 1] if t > 0 else previous
        if before is not None:
            cov = cov + np.diag(walk)
            if d > lines and years[t] != before:
                mean, cov = mean.copy(), cov.copy()
                mean[:, -1] = 0.0
                cov[:, -1, :] = cov[:, :, -1] = 0.0
                cov[:, -1, -1] = shock_sd**2
        mean, cov, step = _update(mean, cov, counts[:, t], offsets[:, :, t], design)
        log_lik = log_lik + step
    return mean, cov, log_lik


def _smooth(counts: np.ndarray, shape: np.ndarray, years: np.ndarray, walk_sd: float,
            shock_sd: float) -> tuple[np.ndarray, np.ndarray]:
    """The Laplace approximation of the joint posterior of the whole path (every line's
    level each month, every year's shock): Newton steps to its mode, the curvature there
    as its precision. Returns the Gaussian (1, d) and (1, d, d) of the last month's state.

    Joint rather than month by month: a month's Gaussian approximation errs most where
    counts are small, and chained over a decade those errors add up (a few % of the rate
    at one start a month); the joint mode of a level without a walk is the pooled rate."""
    lines, size = counts.shape
    steps = size if walk_sd > 0 else 1
    fiscal = np.unique(years, return_inverse=True)[1] if shock_sd > 0 else np.zeros(size, int)
    shocks = fiscal.max() + 1 if shock_sd > 0 else 0
    width = lines * steps + shocks
    design = np.zeros((lines * size, width))
    rows = np.arange(lines * size)
    line, month = np.divmod(rows, size)
    design[rows, line * steps + (month if steps > 1 else 0)] = 1.0
    if shocks:
        design[rows, lines * steps + fiscal[month]] = 1.0
    root = np.eye(steps) / DIFFUSE_SD
    if steps > 1:  # a walk: the first level diffuse, then steps of sd walk_sd
        root = np.vstack([root[:1], np.diff(np.eye(steps), axis=0) / walk_sd])
    precision = np.zeros((width, width))
    for k in range(lines):  # a loop over lines
        block = slice(k * steps, (k + 1) * steps)
        precision[block, block] = root.T @ root
    precision[lines * steps:, lines * steps:] = np.eye(shocks) / max(shock_sd, 1e-12)**2
    y, offset = counts.ravel(), shape.ravel()
    theta = np.zeros(width)
    for _ in range(NEWTON_STEPS * 2):
        mu = np.exp(offset + design @ theta)
        hessian = precision + design.T @ (mu[:, None] * design)
        step = np.linalg.solve(hessian, design.T @ (y - mu) - precision @ theta)
        step = step / max(1.0, np.abs(step).max())
        theta = theta + step
        if np.abs(step).max() < 1e-10:
            break
    mu = np.exp(offset + design @ theta)
    cov = np.linalg.inv(precision + design.T @ (mu[:, None] * design))
    last = np.arange(lines) * steps + steps - 1
    if shocks:
        last = np.r_[last, width - 1]
    mean, cov = theta[last], cov[np.ix_(last, last)]
    # The log rate's posterior is skewed (a log-gamma under a flat prior: mean = mode -
    # var / 2 to first order, digamma(y) ~ log(y) - 1 / 2y): centring the Gaussian there
    # keeps E[e^level] at the mode's rate, exactly the pooled rate without a walk.
    mean[:lines] -= np.diag(design[:lines * size:size][:, last] @ cov
                            @ design[:lines * size:size][:, last].T) / 2
    return mean[None], cov[None]


def _shift_grid(lines: int, probability: float, low: float, high: float,
                months: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every configuration's prior weight (B,), log shifts (B, L) and lags (B, L).

    Per line: none, or a lag in ``months`` x ``SHIFT_FACTORS`` equal-probability
    factors (bin midpoints of the uniform); each line shifts with ``probability`` and
    when none does, one line chosen uniformly does (the generator's rule)."""
    lags = np.arange(months[0], months[1] + 1)
    edges = np.linspace(low, high, SHIFT_FACTORS + 1)
    factors = np.log((edges[:-1] + edges[1:]) / 2)
    options_lag = np.concatenate([[0], np.repeat(lags, SHIFT_FACTORS)])
    options_log = np.concatenate([[0.0], np.tile(factors, len(lags))])
    per = len(options_lag)
    grid = np.stack(np.meshgrid(*[np.arange(per)] * lines, indexing="ij"), -1).reshape(-1, lines)
    shifted = grid > 0
    count = shifted.sum(axis=1)
    prior = probability**count * (1 - probability)**(lines - count)
    prior = prior + np.where(count == 1, (1 - probability)**lines / lines, 0.0)
    prior = np.where(count == 0, 0.0, prior) / (len(lags) * SHIFT_FACTORS)**count
    return prior / prior.sum(), options_log[grid], options_lag[grid]


def filter_levels(counts: np.ndarray, shape: np.ndarray, months: pd.PeriodIndex,
                  walk_sd: float = 0.0, shock_sd: float = 0.0,
                  shift_probability: float = 0.0,
                  shift_factor: tuple[float, float] = (1.3, 1.6),
                  shift_months: tuple[int, int] = (6, 9)) -> LevelPosterior:
    """Filter L lines' log start levels from their monthly ``counts`` (L x T) given the
    known log ``shape`` (L x T) of their rates (module notes).

    Examples
    --------
    >>> months = pd.period_range("2010-01", periods=96, freq="M")
    >>> counts = np.random.default_rng(0).poisson(8.0, (1, 96))
    >>> post = filter_levels(counts, np.log(np.full((1, 96), 4.0)), months)
    >>> bool(abs(post.rate_factor()[0] - counts.sum() / (4.0 * 96)) < 1e-3)
    True
    """
    counts = np.asarray(counts, dtype=float)
    shape = np.asarray(shape, dtype=float)
    lines, size = counts.shape
    years = np.asarray(financial_year(months.start_time.to_numpy().astype("datetime64[D]")))
    split = size - SHIFT_WINDOW if shift_probability > 0 else size
    split = max(split, 1)
    mean, cov = _smooth(counts[:, :split], shape[:, :split], years[:split], walk_sd, shock_sd)
    prior, log_shift = np.ones(1), np.zeros((1, lines))
    if split < size:
        prior, log_shift, lags = _shift_grid(lines, shift_probability, *shift_factor,
                                             shift_months)
        later = np.arange(split, size)
        on = later[None, None, :] >= (size - lags)[:, :, None]
        offsets = shape[None, :, split:] + np.where(on, log_shift[:, :, None], 0.0)
        batch = len(prior)
        mean, cov, tail = _run(np.repeat(mean, batch, 0), np.repeat(cov, batch, 0),
                               counts[:, split:], offsets, years[split:], walk_sd, shock_sd,
                               lines, int(years[split - 1]))
        keep = prior > 0
        score = np.where(keep, np.log(np.where(keep, prior, 1.0)) + tail, -np.inf)
        top = score.max()
        weights = np.exp(score - top)
        weights = weights / weights.sum()
        return LevelPosterior(weights, log_shift, mean, cov, months, walk_sd, shock_sd)
    return LevelPosterior(prior, log_shift, mean, cov, months, walk_sd, shock_sd)


def level_posterior(authority: object, moves_in: bool = True) -> LevelPosterior:
    """The parameter oracle's filtered start levels of a
    :class:`~forecastlib.datasets.truth.TruthAuthority`, from its record's starts (every
    full month from the record's first to the month of ``as_at``, that month's exposure
    cut at ``as_at``) and its world's true dynamics. ``moves_in=False``: from the new
    spells only (:func:`record_starts`), the levels of new starts without the moves in,
    for forecasts that keep a fitted move model."""
    world = authority.world
    specs = authority.specs
    as_at = pd.Timestamp(authority.as_at)
    opened = authority.placements["start_date"].min()
    first = (as_at - pd.Timedelta(days=365 * 12)).to_period("M")
    first = max(first + 25, opened.to_period("M") + 1)  # the first full month of record
    last = as_at.to_period("M")
    months = pd.period_range(first, last, freq="M")
    lines = [(spec.service, spec.category) for spec in specs]
    counts = record_starts(authority.placements, lines, first, last, moves_in)
    shape = np.stack([spec.log_rate(months, authority.as_at) for spec in specs])
    shape[:, -1] += np.log(as_at.day / last.days_in_month)
    return filter_levels(counts, shape, months, walk_sd=world.demand_walk,
                         shock_sd=world.common_demand,
                         shift_probability=world.shift_probability,
                         shift_factor=world.shift_factor, shift_months=world.shift_months)


class _ParamOracleStarts:
    """Start counts from the filtered levels (:func:`level_posterior`) projected with the
    true dynamics; everything else is the fitted starts model's."""

    def __init__(self, fitted: object, authority: object, posterior: LevelPosterior):
        self._fitted = fitted
        self._authority = authority
        self.posterior_ = posterior
        d = posterior.cov.shape[1]
        self._chol = np.linalg.cholesky(posterior.cov + 1e-12 * np.eye(d))

    def __getattr__(self, name: str) -> object:
        return getattr(self._fitted, name)

    def log_levels(self, months: pd.PeriodIndex, simulations: int,
                   rng: np.random.Generator) -> np.ndarray:
        """Draws (L x simulations x months) of each line's log level against its shape:
        a configuration, the state at the last month of data, then the walk's steps and
        a new shock each new financial year."""
        post = self.posterior_
        lines = post.lines
        pick = rng.choice(len(post.weights), size=simulations, p=post.weights)
        normal = rng.standard_normal((simulations, post.mean.shape[1]))
        theta = post.mean[pick] + np.einsum("sij,sj->si", self._chol[pick], normal)
        level = theta[:, :lines] + post.shift[pick]
        ahead = np.array([(month - post.months[-1]).n for month in months])
        steps = rng.normal(0.0, post.walk_sd, (simulations, lines, max(ahead.max(), 1)))
        walk = np.cumsum(steps, axis=2)[:, :, np.maximum(ahead, 1) - 1]
        walk = np.where(ahead > 0, walk, 0.0)
        out = level[:, :, None] + walk
        if post.mean.shape[1] > lines:
            last_year = financial_year(post.months[-1].start_time.to_datetime64())
            years = np.asarray(financial_year(
                months.start_time.to_numpy().astype("datetime64[D]"))) - last_year
            fresh = rng.normal(0.0, post.shock_sd, (simulations, max(years.max(), 0) + 1))
            fresh[:, 0] = theta[:, -1]
            out = out + fresh[:, np.maximum(years, 0)][:, None, :]
        return out.transpose(1, 0, 2)

    def simulate(self, horizon: int, simulations: int, seed: int | None = None,
                 parameter_uncertainty: bool = True, rate_factors: dict | None = None,
                 block: int | None = None, means: np.ndarray | None = None,
                 **_: object) -> np.ndarray:
        months = self._fitted.future_months(horizon)
        specs = {(s.service, s.category): (k, s) for k, s in enumerate(self._authority.specs)}
        lines = list(self._fitted.fits_.index)
        out = np.zeros((len(lines), simulations, horizon), dtype=np.int64)
        if means is not None:
            means[:] = 0.0
        if horizon == 0:
            return out
        levels = self.log_levels(months, simulations,
                                 stream(seed, ("*", "oracle levels"), "parameters", block=block))
        for position, line in enumerate(lines):  # a loop over lines
            if line not in specs:
                continue
            k, spec = specs[line]
            mean = np.exp(spec.log_rate(months, self._authority.as_at)[None, :] + levels[k])
            if rate_factors is not None and line in rate_factors:
                mean = mean * np.asarray(rate_factors[line], dtype=float)
            if means is not None:
                means[position] = mean
            out[position] = stream(seed, line, "counts", block=block).poisson(mean)
        return out


def parameter_oracle_models(authority: object, fitted: object) -> object:
    """Demand models that know the true parameters but not the start rates' state.

    As :func:`~forecastlib.datasets.truth.oracle_models` (true stays, prices at their
    level at ``as_at``), with the new starts of :func:`level_posterior`: each line's
    current level, this year's common shock and any level shift filtered from the
    record's starts under the world's true dynamics (module notes).
    """
    from forecastlib.datasets.truth import oracle_models

    models = oracle_models(authority, fitted)
    models.starts = _ParamOracleStarts(fitted.starts, authority, level_posterior(authority))
    return models
