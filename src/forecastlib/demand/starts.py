"""New starts per line: count regression with trend and seasonality, and its uncertainty.

Monthly counts of new spells per line are modelled as

.. math:: N_t \\sim \\text{Poisson}(\\mu_t)\\ \\text{or}\\ \\text{NB2}(\\mu_t, \\alpha), \\qquad
          \\log \\mu_t = \\log E_t + \\beta_0 + \\beta_1 \\tau_t
          + \\sum_k \\gamma_k \\sin(2\\pi k m_t / 12) + \\delta_k \\cos(2\\pi k m_t / 12)

with ``tau`` time in years, ``m`` the month of year and ``E`` an optional exposure
(child population, say; rates per head are then projected). The negative binomial's
dispersion ``alpha`` is estimated (``statsmodels`` ``NegativeBinomial``). Per line the
candidate (Poisson or negative binomial, with or without trend) with the best
rolling-origin log score on held-out years is chosen. Sparse lines fall back, never
crashing: fewer than ``min_starts`` starts or ``min_months`` months use the service's
pooled seasonal shape times the line's own rate; lines with no starts project zero.

Simulated counts carry **parameter uncertainty**: each simulation draws coefficients
(and the dispersion) from their estimated sampling distribution before drawing
counts, so intervals widen on short series as they should.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.discrete.discrete_model import NegativeBinomial, Poisson

from forecastlib.demand.history import default_history_start, line_starts, monthly_starts
from forecastlib.lines import LINE_KEYS
from forecastlib.streams import stream

__all__ = ["StartsModel"]

CANDIDATES = ("negbin_trend", "negbin", "poisson_trend", "poisson")


def _design(months: pd.PeriodIndex, origin: pd.Period, trend: bool, harmonics: int
            ) -> np.ndarray:
    month_of_year = months.month.to_numpy()
    years = np.asarray([(m - origin).n for m in months], dtype=float) / 12.0
    columns = [np.ones(len(months))]
    if trend:
        columns.append(years)
    for k in range(1, harmonics + 1):
        angle = 2 * np.pi * k * month_of_year / 12
        columns += [np.sin(angle), np.cos(angle)]
    return np.column_stack(columns)


@dataclass
class _LineFit:
    kind: str  # a CANDIDATE, "pooled", "constant" or "zero"
    params: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cov: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    trend: bool = False
    negbin: bool = False
    pooled_season: np.ndarray | None = None  # 12 multiplicative factors (pooled kind)
    events: float = 0.0
    exposure_months: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)


def _fit_glm(counts: np.ndarray, design: np.ndarray, offset: np.ndarray, negbin: bool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if negbin:
            model = NegativeBinomial(counts, design, loglike_method="nb2", offset=offset)
            result = model.fit(disp=0, maxiter=200, method="bfgs")
        else:
            result = Poisson(counts, design, offset=offset).fit(disp=0, maxiter=200,
                                                                 method="newton")
    params = np.asarray(result.params, dtype=float)
    cov = np.asarray(result.cov_params(), dtype=float)
    # For NB2 the last parameter is the dispersion alpha, kept on its natural scale: near
    # zero (almost Poisson) a log scale would turn a tiny standard error into a huge one.
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(cov))):
        raise ValueError("non-finite fit")
    return params, cov


def _log_score(counts: np.ndarray, mean: np.ndarray, alpha: float | None) -> float:
    if alpha is None:
        return float(-stats.poisson.logpmf(counts, mean).sum())
    size = 1.0 / max(alpha, 1e-8)
    return float(-stats.nbinom.logpmf(counts, size, size / (size + mean)).sum())


class StartsModel:
    """Monthly new starts per line, with parameter uncertainty in its simulations.

    Parameters
    ----------
    harmonics : int, default 1
        Pairs of sine / cosine terms of the month-of-year seasonality (0 for none).
    candidates : tuple of str
        From ``"negbin_trend"``, ``"negbin"``, ``"poisson_trend"``, ``"poisson"``.
    validation_years : int, default 2
        Held-out years (rolling origin, 12 months each) used to choose a candidate.
    min_starts, min_months : int
        Below these, a line uses the pooled fallback.
    growth : float or dict, optional
        Override of the fitted trend: yearly growth (``0.22`` for +22%) of the start
        rate from the last month of data, for every line or per line.
    history_start : date-like, optional
        First month of the history (default: from the record, see
        :func:`~forecastlib.demand.history.default_history_start`).

    Attributes
    ----------
    counts_ : DataFrame
        Monthly start counts per line (columns are months).
    exposure_ : DataFrame or None
        Exposure per line and month used in fitting.
    fits_ : DataFrame
        Per line: ``model`` chosen, ``starts``, ``months``, ``rate_per_month`` (fitted,
        last year), ``trend_per_year`` (multiplicative), ``dispersion`` and the
        validation log score of each candidate (``score_<candidate>``).

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> sample = load_sample()
    >>> model = StartsModel().fit(sample.placements, sample.as_at)
    >>> paths = model.simulate(horizon=5, simulations=200, seed=3)
    >>> paths.shape == (len(model.fits_), 200, 5)
    True
    """

    def __init__(
        self,
        harmonics: int = 1,
        candidates: tuple[str, ...] = CANDIDATES,
        validation_years: int = 2,
        min_starts: int = 24,
        min_months: int = 36,
        growth: float | dict[tuple[str, str], float] | None = None,
        history_start: object | None = None,
    ):
        self.harmonics = harmonics
        self.candidates = candidates
        self.validation_years = validation_years
        self.min_starts = min_starts
        self.min_months = min_months
        self.growth = growth
        self.history_start = history_start

    def __repr__(self) -> str:
        fitted = f", lines={len(self.fits_)}" if hasattr(self, "fits_") else ""
        return (f"StartsModel(harmonics={self.harmonics}, candidates={self.candidates}, "
                f"growth={self.growth!r}{fitted})")

    # ------------------------------------------------------------------ fitting
    def fit(self, placements: pd.DataFrame, as_at: object,
            exposure: pd.DataFrame | None = None) -> StartsModel:
        """Fit every line from the spells in ``placements``; returns ``self``.

        ``exposure``, if given, is indexed like :attr:`counts_` (lines x months, and
        may run beyond the data to give future exposure) or by service only.
        """
        unknown = set(self.candidates) - set(CANDIDATES)
        if unknown:
            raise ValueError(f"unknown candidates {sorted(unknown)}; choose from {CANDIDATES}")
        history_start = (default_history_start(placements) if self.history_start is None
                         else self.history_start)
        counts = monthly_starts(line_starts(placements), as_at, history_start)
        return self.fit_counts(counts, exposure)

    def fit_counts(self, counts: pd.DataFrame, exposure: pd.DataFrame | None = None
                   ) -> StartsModel:
        """Fit from a lines x months table of start counts (columns: monthly periods)."""
        self.counts_ = counts
        self.months_ = pd.PeriodIndex(counts.columns, freq="M")
        self.origin_ = self.months_[-1] if len(self.months_) else None
        self.exposure_ = self._exposure_table(exposure, counts.index, self.months_)
        pooled = self._pooled_seasons(counts)
        self._fits: dict[tuple[str, str], _LineFit] = {}
        for line in counts.index:
            self._fits[line] = self._fit_line(line, counts.loc[line].to_numpy(dtype=float),
                                              pooled.get(line[0]))
        self.fits_ = self._summary()
        return self

    def _exposure_table(self, exposure: pd.DataFrame | None, lines: pd.Index,
                        months: pd.PeriodIndex) -> pd.DataFrame | None:
        if exposure is None:
            return None
        table = exposure.copy()
        table.columns = pd.PeriodIndex(table.columns, freq="M")
        if not isinstance(table.index, pd.MultiIndex):  # by service
            table = table.reindex([line[0] for line in lines])
            table.index = lines
        missing = months.difference(table.columns)
        if len(missing):
            raise ValueError(f"exposure is missing months {list(missing[:3])}...")
        if table.reindex(lines).loc[:, months].isna().any().any() or (table <= 0).any().any():
            raise ValueError("exposure must be positive for every line and month of history")
        return table

    def _offset(self, line: tuple[str, str], months: pd.PeriodIndex) -> np.ndarray:
        if self.exposure_ is None:
            return np.zeros(len(months))
        row = self.exposure_.loc[line]
        values = row.reindex(months).ffill().fillna(row.dropna().iloc[-1])
        return np.log(values.to_numpy(dtype=float))

    def _pooled_seasons(self, counts: pd.DataFrame) -> dict[str, np.ndarray]:
        """Multiplicative month-of-year factors per service, from its pooled counts."""
        factors = {}
        months = self.months_
        for service, block in counts.groupby(level="service"):
            total = block.sum().to_numpy(dtype=float)
            if total.sum() < self.min_starts or len(months) < 24:
                factors[service] = np.ones(12)
                continue
            design = _design(months, self.origin_, True, self.harmonics)
            try:
                params, _ = _fit_glm(total, design, np.zeros(len(total)), negbin=False)
            except (ValueError, np.linalg.LinAlgError):
                factors[service] = np.ones(12)
                continue
            season = _design(pd.period_range("2000-01", periods=12, freq="M"),
                             pd.Period("2000-01", freq="M"), True, self.harmonics)
            log_factor = season[:, 2:] @ params[2:2 + season.shape[1] - 2]
            factor = np.exp(log_factor)
            factors[service] = factor / factor.mean()
        return factors

    def _fit_line(self, line: tuple[str, str], counts: np.ndarray,
                  pooled_season: np.ndarray | None) -> _LineFit:
        months = self.months_
        offset = self._offset(line, months)
        events = float(counts.sum())
        if events == 0:
            return _LineFit("zero", events=0.0, exposure_months=float(len(counts)))
        if events < self.min_starts or len(counts) < self.min_months:
            return _LineFit("pooled", pooled_season=pooled_season if pooled_season is not None
                            else np.ones(12), events=events,
                            exposure_months=float(np.exp(offset).sum()))
        scores = self._validate(line, counts, offset)
        ranked = sorted((s, c) for c, s in scores.items() if np.isfinite(s))
        for _, candidate in ranked or [(0.0, "poisson")]:
            trend, negbin = candidate.endswith("_trend"), candidate.startswith("negbin")
            design = _design(months, self.origin_, trend, self.harmonics)
            try:
                params, cov = _fit_glm(counts, design, offset, negbin)
            except (ValueError, np.linalg.LinAlgError):
                continue
            return _LineFit(candidate, params, cov, trend, negbin, events=events,
                            exposure_months=float(np.exp(offset).sum()), scores=scores)
        return _LineFit("pooled", pooled_season=pooled_season if pooled_season is not None
                        else np.ones(12), events=events,
                        exposure_months=float(np.exp(offset).sum()), scores=scores)

    def _validate(self, line: tuple[str, str], counts: np.ndarray, offset: np.ndarray
                  ) -> dict[str, float]:
        months = self.months_
        scores = {c: 0.0 for c in self.candidates}
        for k in range(self.validation_years, 0, -1):
            cut = len(counts) - 12 * k
            if cut < 24:
                continue
            train, test = slice(0, cut), slice(cut, cut + 12)
            origin = months[cut - 1]
            for candidate in self.candidates:
                trend, negbin = candidate.endswith("_trend"), candidate.startswith("negbin")
                design = _design(months, origin, trend, self.harmonics)
                try:
                    params, _ = _fit_glm(counts[train], design[train], offset[train], negbin)
                except (ValueError, np.linalg.LinAlgError):
                    scores[candidate] = np.inf
                    continue
                beta = params[:-1] if negbin else params
                mean = np.exp(design[test] @ beta + offset[test])
                scores[candidate] += _log_score(counts[test], mean,
                                                params[-1] if negbin else None)
        return scores

    def _summary(self) -> pd.DataFrame:
        rows = {}
        next_year = self.expected(12)
        for line, fit in self._fits.items():
            mean_rate = next_year.loc[line].mean()
            trend = np.exp(fit.params[1]) if fit.trend else 1.0
            rows[line] = {"model": fit.kind, "starts": int(fit.events),
                          "months": len(self.months_), "rate_per_month": mean_rate,
                          "trend_per_year": trend,
                          "dispersion": float(fit.params[-1]) if fit.negbin else 0.0,
                          **{f"score_{c}": s for c, s in fit.scores.items()}}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index = pd.MultiIndex.from_tuples(frame.index, names=LINE_KEYS)
        return frame

    # --------------------------------------------------------------- projection
    def future_months(self, horizon: int) -> pd.PeriodIndex:
        """The ``horizon`` months after the last month of data."""
        self._check_fitted()
        return pd.period_range(self.origin_ + 1, periods=horizon, freq="M")

    def _log_means(self, fit: _LineFit, line: tuple[str, str], months: pd.PeriodIndex,
                   params: np.ndarray) -> np.ndarray:
        """Log mean counts for ``months`` under coefficient draws ``params`` (sims x p)."""
        offset = self._offset(line, months)
        growth = self._growth_for(line)
        if fit.kind in ("zero", "pooled"):
            raise AssertionError("handled by the caller")
        design = _design(months, self.origin_, fit.trend, self.harmonics)
        beta = params[:, :-1] if fit.negbin else params
        if growth is not None:
            if fit.trend:  # freeze the fitted trend at the origin, then grow at `growth`
                design = design.copy()
                design[:, 1] = 0.0
            ahead = np.asarray([(m - self.origin_).n for m in months], dtype=float) / 12
            return beta @ design.T + offset + ahead * np.log1p(growth)
        return beta @ design.T + offset

    def _growth_for(self, line: tuple[str, str]) -> float | None:
        if isinstance(self.growth, dict):
            return self.growth.get(line)
        return self.growth

    def expected(self, horizon: int) -> pd.DataFrame:
        """Plug-in expected starts per line (rows) and future month (columns)."""
        months = self.future_months(horizon)
        rows = {}
        for line, fit in self._fits.items():
            rows[line] = self._plugin_mean(line, fit, months)
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=months)
        frame.index = pd.MultiIndex.from_tuples(frame.index, names=LINE_KEYS)
        return frame

    def _plugin_mean(self, line: tuple[str, str], fit: _LineFit, months: pd.PeriodIndex
                     ) -> np.ndarray:
        if fit.kind == "zero":
            return np.zeros(len(months))
        if fit.kind == "pooled":
            rate = fit.events / max(fit.exposure_months, 1e-9)
            scale = np.exp(self._offset(line, months))
            growth = self._growth_for(line) or 0.0
            ahead = np.asarray([(m - self.origin_).n for m in months], dtype=float) / 12
            return rate * scale * fit.pooled_season[months.month - 1] * (1 + growth) ** ahead
        return np.exp(self._log_means(fit, line, months, fit.params[None, :]))[0]

    def simulate(self, horizon: int, simulations: int, seed: int | None = None,
                 parameter_uncertainty: bool = True,
                 rate_factors: dict[tuple[str, str], np.ndarray] | None = None) -> np.ndarray:
        """Simulated start counts, shape ``(lines, simulations, horizon)``.

        Lines are in the order of :attr:`fits_`. Each line uses its own random stream
        keyed by its name (:func:`forecastlib.streams.stream`), so one line's
        draws never depend on another's. With ``parameter_uncertainty=False`` only
        process noise is drawn (the same stream, so the two runs are comparable).
        ``rate_factors`` multiplies a line's start rate month by month (a scenario's
        demand growth), before counts are drawn.
        """
        self._check_fitted()
        months = self.future_months(horizon)
        out = np.zeros((len(self._fits), simulations, horizon), dtype=np.int64)
        for position, (line, fit) in enumerate(self._fits.items()):
            rng = stream(seed, line, "counts")
            parameter_rng = stream(seed, line, "parameters")
            factor = (np.ones(horizon) if rate_factors is None
                      else np.asarray(rate_factors.get(line, np.ones(horizon)), dtype=float))
            if fit.kind == "zero":
                continue
            if fit.kind == "pooled":
                shape = np.full(simulations, fit.events + 0.5)
                if parameter_uncertainty:
                    level = parameter_rng.gamma(shape, 1.0 / max(fit.exposure_months, 1e-9))
                else:
                    level = np.full(simulations, fit.events / max(fit.exposure_months, 1e-9))
                base = self._plugin_mean(line, fit, months) / (
                    fit.events / max(fit.exposure_months, 1e-9))
                out[position] = rng.poisson(level[:, None] * (base * factor)[None, :])
                continue
            if parameter_uncertainty:
                draws = parameter_rng.multivariate_normal(fit.params, fit.cov,
                                                          size=simulations, method="eigh")
            else:
                draws = np.repeat(fit.params[None, :], simulations, axis=0)
            mean = np.exp(np.clip(self._log_means(fit, line, months, draws), -50, 20))
            if fit.negbin:
                alpha = np.clip(draws[:, -1], 1e-8, None)[:, None]
                mean = rng.gamma(1.0 / alpha, mean * alpha)
            out[position] = rng.poisson(np.minimum(mean * factor[None, :], 1e9))
        return out

    def predict(self, horizon: int, interval: float = 0.8, simulations: int = 2000,
                seed: int | None = None) -> pd.DataFrame:
        """Projected starts per line and month: ``mean``, ``lower``, ``upper`` (tidy)."""
        paths = self.simulate(horizon, simulations, seed)
        months = self.future_months(horizon)
        tail = (1 - interval) / 2
        lines = list(self._fits)
        frame = pd.DataFrame({
            "service": np.repeat([line[0] for line in lines], horizon),
            "category": np.repeat([line[1] for line in lines], horizon),
            "month": np.tile(months, len(lines)),
            "mean": paths.mean(axis=1).ravel(),
            "lower": np.quantile(paths, tail, axis=1).ravel(),
            "upper": np.quantile(paths, 1 - tail, axis=1).ravel(),
        })
        return frame

    def _check_fitted(self) -> None:
        if not hasattr(self, "_fits"):
            raise RuntimeError("StartsModel is not fitted yet: call fit() first")
