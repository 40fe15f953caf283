"""The candidates of the starts model, fitted at one origin: regressions and a local level.

A candidate is either a count regression (Poisson or negative binomial NB2, with or
without a trend, seasonal harmonics, and a recent step where
:func:`~forecastlib.demand.level.step_change` finds one) or the Poisson-gamma local level
of :mod:`forecastlib.demand.level` times a seasonal shape. :class:`CandidateFitter` fits
them on a stretch of history and scores them on the months after it;
:func:`stack_weights` combines their held-out scores into mixture weights.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.discrete.discrete_model import NegativeBinomial

from forecastlib.demand.level import LevelState, fit_local_level, negbin_logpmf, step_change
from forecastlib.lines import LINE_KEYS

__all__ = ["CANDIDATES", "CandidateFit", "CandidateFitter", "design_matrix", "fit_glm",
           "logpmf", "month_index", "ordinals", "poisson_newton", "season_factors",
           "summarise_fits"]

CANDIDATES = ("negbin_trend", "negbin", "poisson_trend", "poisson", "level")


def ordinals(months: pd.PeriodIndex | np.ndarray) -> np.ndarray:
    """Monthly periods as integer ordinals (months since 1970-01), as numpy."""
    return np.asarray(months.asi8 if isinstance(months, pd.PeriodIndex) else months,
                      dtype=np.int64)


def month_index(months: pd.PeriodIndex | np.ndarray) -> np.ndarray:
    """Month of year, 0 (January) to 11."""
    return ordinals(months) % 12


def _ordinal(month: pd.Period | int) -> int:
    return month.ordinal if isinstance(month, pd.Period) else int(month)


def design_matrix(months: pd.PeriodIndex | np.ndarray, origin: pd.Period | int, trend: bool,
                  harmonics: int, step_from: pd.Period | int | None = None) -> np.ndarray:
    """Columns: constant, [years from origin], harmonics, [step from ``step_from``].

    ``months`` are monthly periods or their ordinals.
    """
    values = ordinals(months)
    month_of_year = values % 12 + 1
    columns = [np.ones(len(values))]
    if trend:
        columns.append((values - _ordinal(origin)) / 12.0)
    for k in range(1, harmonics + 1):
        angle = 2 * np.pi * k * month_of_year / 12
        columns += [np.sin(angle), np.cos(angle)]
    if step_from is not None:
        columns.append((values >= _ordinal(step_from)).astype(float))
    return np.column_stack(columns)


@functools.lru_cache(maxsize=8)
def _year_terms(harmonics: int) -> np.ndarray:
    """The harmonic columns of :func:`design_matrix` for January to December (read-only)."""
    january = pd.Period("2000-01", freq="M").ordinal
    terms = design_matrix(np.arange(january, january + 12), january, False, harmonics)[:, 1:]
    terms.flags.writeable = False
    return terms


def season_factors(params: np.ndarray, trend: bool, harmonics: int) -> np.ndarray:
    """Twelve multiplicative month-of-year factors (mean one) from a regression's terms."""
    if harmonics == 0:
        return np.ones(12)
    terms = _year_terms(harmonics)
    first = 2 if trend else 1
    factor = np.exp(terms @ params[first:first + 2 * harmonics])
    return factor / factor.mean()


@dataclass
class CandidateFit:
    kind: str  # a CANDIDATE, "pooled" or "zero"
    params: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cov: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    trend: bool = False
    negbin: bool = False
    pooled_season: np.ndarray | None = None  # 12 factors (pooled and level kinds)
    events: float = 0.0
    exposure_months: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)
    step_from: pd.Period | None = None
    level: LevelState | None = None
    weight: float = 1.0
    mixture: list[CandidateFit] = field(default_factory=list)  # empty: this fit alone
    cap: float = np.inf  # largest start rate a month
    shared: bool = False  # takes the common shock
    first: pd.Period | None = None  # first month of the line's own history
    fitted: np.ndarray | None = None  # in-sample means (for the common shock)
    note: str = ""
    backtest: np.ndarray | None = None  # per origin: observed, mean, variance of the total

    @property
    def components(self) -> list[CandidateFit]:
        return self.mixture or [self]

    @property
    def dispersion(self) -> float:
        return float(self.params[-1]) if self.negbin else 0.0


def poisson_newton(counts: np.ndarray, design: np.ndarray, offset: np.ndarray,
                   maxiter: int = 200, start: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, int]:
    """Poisson regression (log link) by Newton's method: ``(params, cov, iterations)``.

    The iterations of ``statsmodels``' ``Poisson(counts, design, offset=offset)
    .fit(method="newton")``, step for step: the same start (the constant at the log of
    the mean rate, ``0.001`` elsewhere; the constant is ``design``'s first column), the
    same scaled Hessian with its ``1e-10`` ridge, the same stop (no parameter moves more
    than ``1e-8``, or ``maxiter`` steps) and the covariance ``inv(X' diag(mu) X)``, so the
    fitted numbers agree to rounding (a test checks). It leaves out ``statsmodels``' model
    set-up, data checks and results object, which cost over ten times the arithmetic on
    the few dozen months of one line, fitted hundreds of times by the rolling origins.

    Examples
    --------
    >>> design = np.column_stack([np.ones(4), [0.0, 1.0, 0.0, 1.0]])
    >>> params, cov, _ = poisson_newton(np.array([2.0, 6.0, 4.0, 6.0]), design, np.zeros(4))
    >>> np.exp(params).round(6).tolist()  # mean of the first group, ratio of the second
    [3.0, 2.0]
    """
    counts = np.asarray(counts, dtype=float)
    rows = len(counts)
    with np.errstate(all="ignore"):
        if start is None:
            start = np.full(design.shape[1], 0.001)
            start[0] = np.log((counts / np.exp(offset)).mean())
        params, previous, iterations = np.asarray(start, dtype=float), np.inf, 0
        transposed, diagonal = design.T, slice(None, None, design.shape[1] + 1)
        while iterations < maxiter and np.any(np.abs(params - previous) > 1e-8):
            mean = np.exp(design @ params + offset)
            hessian = (transposed * mean) @ design / rows
            hessian.flat[diagonal] += 1e-10
            previous = params
            params = previous - np.linalg.solve(hessian, (mean - counts) @ design / rows)
            iterations += 1
        mean = np.exp(design @ params + offset)
        cov = np.linalg.inv((transposed * mean) @ design / rows) / rows
    return params, cov, iterations


def fit_glm(counts: np.ndarray, design: np.ndarray, offset: np.ndarray, negbin: bool):
    """A Poisson or NB2 regression's ``(params, cov)`` (``ValueError`` if not finite).

    Poisson by :func:`poisson_newton`; NB2 by ``statsmodels``' ``NegativeBinomial``
    (Newton, BFGS if Newton does not converge), started where ``statsmodels`` starts it
    (a Poisson fit of at most 35 steps and the moment estimate of the dispersion).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if negbin:
            model = NegativeBinomial(counts, design, loglike_method="nb2", offset=offset)
            result = model.fit(start_params=_negbin_start(counts, design, offset), disp=0,
                               maxiter=100, method="newton")
            if not result.mle_retvals.get("converged", False):
                result = model.fit(disp=0, maxiter=200, method="bfgs")
            params = np.asarray(result.params, dtype=float)
            cov = np.asarray(result.cov_params(), dtype=float)
        else:
            params, cov, _ = poisson_newton(counts, design, offset)
    # For NB2 the last parameter is the dispersion alpha, kept on its natural scale: near
    # zero (almost Poisson) a log scale would turn a tiny standard error into a huge one.
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(cov))):
        raise ValueError("non-finite fit")
    if negbin and params[-1] < 0:
        raise ValueError("negative dispersion")
    return params, cov


def _negbin_start(counts: np.ndarray, design: np.ndarray, offset: np.ndarray
                  ) -> np.ndarray | None:
    """``statsmodels``' own start for NB2 (``None``, its default, where not finite)."""
    params, _, _ = poisson_newton(counts, design, offset, maxiter=35)
    with np.errstate(all="ignore"):
        mean = np.exp(design @ params + offset)
        alpha = (((counts - mean) ** 2 / mean - 1) / mean).sum() / (len(counts)
                                                                   - design.shape[1])
    start = np.append(params, max(0.05, alpha))
    return start if np.all(np.isfinite(start)) else None


def logpmf(counts: np.ndarray, mean: np.ndarray, alpha: float) -> np.ndarray:
    """Log probability of whole ``counts``: Poisson (``alpha`` 0) or NB2 with dispersion
    ``alpha``; ``scipy.stats``' ``poisson``/``nbinom.logpmf`` by their own expressions.

    Examples
    --------
    >>> counts, mean = np.array([0.0, 4.0, 9.0]), np.array([3.0, 3.0, 5.0])
    >>> bool(np.array_equal(logpmf(counts, mean, 0.0), stats.poisson.logpmf(counts, mean)))
    True
    >>> nb2 = stats.nbinom.logpmf(counts, 2, 2 / (2 + mean))
    >>> bool(np.array_equal(logpmf(counts, mean, 0.5), nb2))
    True
    """
    if alpha <= 0:
        return special.xlogy(counts, mean) - special.gammaln(counts + 1) - mean
    size = 1.0 / max(alpha, 1e-8)
    return negbin_logpmf(counts, size, size / (size + mean))


@dataclass(frozen=True)
class CandidateFitter:
    """Fits candidates with time measured from ``origin`` (the last month of data)."""

    origin: pd.Period
    harmonics: int = 1
    step_threshold: float = 10.0
    #: Poisson fits already made, by data and design (see :meth:`with_memo`).
    memo: dict | None = field(default=None, compare=False, repr=False)

    def with_memo(self) -> CandidateFitter:
        """This fitter with an empty memo of Poisson fits: the step search at an origin
        and the candidates without a step there fit the same regression, made once."""
        return replace(self, memo={})

    def poisson(self, counts: np.ndarray, months: pd.PeriodIndex | np.ndarray,
                offset: np.ndarray, trend: bool, step_from: pd.Period | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A Poisson regression's ``(design, params, cov)``, from the memo if made."""
        design = design_matrix(months, self.origin, trend, self.harmonics, step_from)
        if self.memo is None:
            return design, *fit_glm(counts, design, offset, negbin=False)
        key = (trend, None if step_from is None else _ordinal(step_from), counts.tobytes(),
               ordinals(months).tobytes(), np.asarray(offset, dtype=float).tobytes())
        if key not in self.memo:
            try:
                self.memo[key] = fit_glm(counts, design, offset, negbin=False)
            except (ValueError, np.linalg.LinAlgError) as error:
                self.memo[key] = error
        found = self.memo[key]
        if isinstance(found, Exception):
            raise type(found)(*found.args)
        return design, found[0].copy(), found[1].copy()

    def find_step(self, counts: np.ndarray, months: pd.PeriodIndex | np.ndarray,
                  offset: np.ndarray, trend: bool = False) -> tuple[pd.Period | None, float]:
        """First month of the likeliest recent step and the probability it is real.

        The step is tested against a Poisson regression with or without ``trend`` (the
        family of candidates that would take it: a regression with a trend needs a step
        only where the data leave its trend line), with quasi-Poisson dispersion from the
        months before the scanned window (which a shift would inflate). The probability is
        ``1 / (1 + exp(step_threshold - statistic))``: one half at the threshold, 0.12 at
        two below it and zero under that.
        """
        try:
            design, params, _ = self.poisson(counts, months, offset, trend)
        except (ValueError, np.linalg.LinAlgError):
            return None, 0.0
        mean = np.exp(design @ params + offset)
        before = slice(0, max(len(counts) - 12, 0))
        pearson = ((counts[before] - mean[before]) ** 2
                   / np.maximum(mean[before], 1e-12)).sum()
        dispersion = max(pearson / max(len(counts) - 12 - len(params), 1), 1.0)
        step, statistic = step_change(counts, mean, dispersion)
        if step == 0 or statistic < self.step_threshold - 2:
            return None, 0.0
        probability = float(special.expit(statistic - self.step_threshold))
        return pd.Period(ordinal=int(ordinals(months)[-step]), freq="M"), probability

    def regression(self, candidate: str, counts: np.ndarray, months: pd.PeriodIndex,
                   offset: np.ndarray, step_from: pd.Period | None = None) -> CandidateFit:
        """One regression candidate, with a step from ``step_from`` if given."""
        trend, negbin = candidate.endswith("_trend"), candidate.startswith("negbin")
        if negbin:
            design = design_matrix(months, self.origin, trend, self.harmonics, step_from)
            params, cov = fit_glm(counts, design, offset, negbin)
        else:
            design, params, cov = self.poisson(counts, months, offset, trend, step_from)
        fit = CandidateFit(candidate, params, cov, trend, negbin, step_from=step_from)
        fit.fitted = np.exp(design @ (params[:-1] if negbin else params) + offset)
        return fit

    def local_level(self, counts: np.ndarray, months: pd.PeriodIndex, offset: np.ndarray,
                    season: np.ndarray, step_from: pd.Period | None = None) -> CandidateFit:
        """The local level times ``season``, with an intervention at ``step_from``."""
        scale = season[month_index(months)] * np.exp(offset)
        reset_at = (None if step_from is None
                    else int(np.searchsorted(ordinals(months), step_from.ordinal)))
        state, predicted = fit_local_level(counts, scale, reset_at=reset_at)
        return CandidateFit("level", pooled_season=season, level=state, fitted=predicted,
                            step_from=step_from)

    def season(self, counts: np.ndarray, months: pd.PeriodIndex, offset: np.ndarray,
               fallback: np.ndarray) -> np.ndarray:
        if self.harmonics == 0 or len(counts) < 24:
            return fallback
        try:
            _, params, _ = self.poisson(counts, months, offset, True)
        except (ValueError, np.linalg.LinAlgError):
            return fallback
        return season_factors(params, True, self.harmonics)

    def candidate(self, name: str, counts: np.ndarray, months: pd.PeriodIndex,
                  offset: np.ndarray, season: np.ndarray, step_from: pd.Period | None = None
                  ) -> CandidateFit | None:
        """Candidate ``name`` (``None`` if it cannot be fitted, with or without the step)."""
        if name == "level":
            return self.local_level(counts, months, offset, season, step_from)
        for step in dict.fromkeys([step_from, None]):
            try:
                return self.regression(name, counts, months, offset, step)
            except (ValueError, np.linalg.LinAlgError):
                continue
        return None

    def held_out(self, fit: CandidateFit, counts: np.ndarray, months: pd.PeriodIndex,
                 offset: np.ndarray) -> np.ndarray:
        if fit.kind == "level":
            scale = fit.pooled_season[month_index(months)] * np.exp(offset)
            return fit.level.predictive_logpmf(counts, scale)
        design = design_matrix(months, self.origin, fit.trend, self.harmonics, fit.step_from)
        beta = fit.params[:-1] if fit.negbin else fit.params
        return logpmf(counts, np.exp(design @ beta + offset), fit.dispersion)

    def find_steps(self, counts: np.ndarray, months: pd.PeriodIndex | np.ndarray,
                   offset: np.ndarray) -> dict[bool, tuple[pd.Period | None, float]]:
        """:meth:`find_step` for the candidates with a trend (``True``) and without."""
        return {trend: self.find_step(counts, months, offset, trend) for trend in (False, True)}

    def fit_all(self, names: list[str], counts: np.ndarray, months: pd.PeriodIndex,
                offset: np.ndarray, fallback: np.ndarray,
                steps: dict[bool, pd.Period | None] | None = None
                ) -> dict[str, CandidateFit | None]:
        """Every candidate in ``names`` (``None`` where a fit fails), those with a trend
        with a step from ``steps[True]``, the others from ``steps[False]``; the level takes
        the seasonal shape of the Poisson trend regression (``fallback`` on short series)."""
        steps = steps or {}
        fits = {name: self.candidate(name, counts, months, offset, fallback,
                                     steps.get(name.endswith("_trend")))
                for name in names if name != "level"}
        if "level" in names:
            reference = fits.get("poisson_trend")
            season = (season_factors(reference.params, True, self.harmonics)
                      if reference is not None and len(counts) >= 24
                      else self.season(counts, months, offset, fallback))
            fits["level"] = self.local_level(counts, months, offset, season, steps.get(False))
        return {name: fits[name] for name in names}

    def overdispersed(self, fit: CandidateFit | None, counts: np.ndarray, offset: np.ndarray,
                      level: float = 0.05) -> bool:
        """Pearson's dispersion test of a Poisson regression (``True`` without one)."""
        if fit is None or fit.fitted is None:
            return True
        residual = (counts - fit.fitted) ** 2 / np.maximum(fit.fitted, 1e-12)
        freedom = max(len(counts) - len(fit.params), 1)
        return bool(stats.chi2.sf(residual.sum(), freedom) < level)

    def total_moments(self, fit: CandidateFit, months: pd.PeriodIndex, offset: np.ndarray
                      ) -> tuple[float, float]:
        """Mean and variance of the count summed over ``months`` (parameters as fitted).

        A regression's months are independent (Poisson, or NB2 ``mu + alpha mu^2``); the
        local level is a martingale, so month ``i`` and ``j``'s levels covary by the
        variance at ``min(i, j)``: ``mean^2 / (w^min(i,j) a)``.
        """
        if fit.kind == "level":
            scale = fit.pooled_season[month_index(months)] * np.exp(offset)
            ahead = np.arange(1, len(months) + 1)
            variance = fit.level.mean ** 2 / (fit.level.shape * fit.level.discount ** ahead)
            covariance = variance[np.minimum.outer(ahead, ahead) - 1]
            mean = fit.level.mean * scale.sum()
            return float(mean), float(mean + scale @ covariance @ scale)
        design = design_matrix(months, self.origin, fit.trend, self.harmonics, fit.step_from)
        mu = np.exp(design @ (fit.params[:-1] if fit.negbin else fit.params) + offset)
        return float(mu.sum()), float(mu.sum() + fit.dispersion * (mu ** 2).sum())


def summarise_fits(fits: dict[tuple[str, str], CandidateFit], candidates: tuple[str, ...],
                   months: pd.PeriodIndex, origin: pd.Period, next_year: pd.DataFrame
                   ) -> pd.DataFrame:
    """The ``fits_`` table of :class:`~forecastlib.demand.starts.StartsModel`: one row per
    line (model, starts, months, next year's mean rate, trend, dispersion, step, level
    discount, cap, stacking weight and held-out score per candidate, note)."""
    rows = {}
    for line, fit in fits.items():
        weights = {f"weight_{c}": 0.0 for c in candidates}
        for item in fit.components:
            if item.kind in candidates:
                weights[f"weight_{item.kind}"] = item.weight
        level = next((item.level for item in fit.components if item.level), None)
        rows[line] = {
            "model": fit.kind, "starts": int(fit.events),
            "months": len(months) if fit.first is None else (origin - fit.first).n + 1,
            "rate_per_month": next_year.loc[line].mean(),
            "trend_per_year": float(np.exp(fit.params[1])) if fit.trend else 1.0,
            "dispersion": fit.dispersion,
            "step_months": 0 if fit.step_from is None else (origin - fit.step_from).n + 1,
            "level_discount": level.discount if level else np.nan,
            "cap": fit.cap, **weights,
            **{f"score_{c}": s for c, s in fit.scores.items()}, "note": fit.note}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=LINE_KEYS)
    return frame
