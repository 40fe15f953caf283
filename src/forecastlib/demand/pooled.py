"""A global model of yearly log growth learnt across a panel of series (authorities).

:class:`PooledGrowthModel` fits **one** regression to every series' history at once.
On the ``log(value + offset)`` scale, the growth of series ``i`` from period ``t`` to
``t + 1`` is split into a **common** part, the panel's median growth that period, and a
**relative** part, regressed (ridge, ``statsmodels`` ``WLS.fit_regularized``, weighted by
the series' level) on what is known at ``t``, each taken relative to that period's
panel median:

- the series' own last ``lags`` log changes (momentum or its reversal);
- the distance of its log level from its own mean over the ``level_window`` periods
  before (mean reversion toward its own level);
- its log size.

Fitting relative to each period's median (period fixed effects) keeps a year in which
every series moved together from passing for momentum. The next common growth is the
last one damped by ``common_damping`` per step. A series too short for a feature takes
the panel's median for it (the relative term is then zero), so a new series with one or
two values follows the panel.

Intervals come from the model's own **held-out errors**: it is refitted at each of the
``calibration_origins`` latest periods with only the data up to it, its projections are
compared with what followed, and the log errors, divided by each series' scale (its
recent relative log changes, shrunk toward the panel's), are pooled by step ahead.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.regression.linear_model import WLS

from forecastlib.errors import ConfigError, DataValidationError, Problem

__all__ = ["PooledGrowthModel"]

#: Pseudo-changes of the panel's median scale added to each series' own scale.
SCALE_PRIOR = 4
#: Changes a series' scale is measured over.
SCALE_WINDOW = 6
#: Smallest log-scale error scale of a series (a flat series still has an interval).
MIN_SCALE = 0.02
#: Fewer pooled held-out errors than this at a step: the step-1 errors times sqrt(step).
MIN_ERRORS = 30


def check_panel(history: pd.DataFrame, integer_periods: bool = False) -> pd.Series:
    """The panel's values as numbers, after checking its columns, values and keys.

    Raises :class:`DataValidationError` naming every missing column, else up to 50 rows
    whose value is not a number >= 0 (or empty), or whose period is not an integer when
    ``integer_periods``, else up to 50 repeated ``(series_id, period)`` rows.
    """
    missing = {"series_id", "period", "value"} - set(history.columns)
    if missing:
        raise DataValidationError([Problem("history", None, column, None,
                                           "a column named " + repr(column))
                                   for column in sorted(missing)])
    values = pd.to_numeric(history["value"], errors="coerce")
    bad = (values < 0) | (values.isna() & history["value"].notna()) | np.isinf(values)
    column, expected = "value", "a number >= 0, or empty for a missing period"
    if integer_periods:
        column, expected = "value/period", "integer periods and values >= 0 (or empty)"
        if not pd.api.types.is_integer_dtype(history["period"]):
            bad |= True
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())[:50]
        raise DataValidationError([Problem("history", int(r) + 2, column,
                                           str(history["value"].iloc[r]), expected)
                                   for r in rows])
    duplicated = history.duplicated(["series_id", "period"]).to_numpy()
    if duplicated.any():
        rows = np.flatnonzero(duplicated)[:50]
        raise DataValidationError([Problem("history", int(r) + 2, "period",
                                           str(history["period"].iloc[r]),
                                           "one value per series_id and period")
                                   for r in rows])
    return values


def _wide(history: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Series x period matrix (NaN where missing; gaps inside a series interpolated)."""
    values = check_panel(history, integer_periods=True)
    table = history.assign(value=values).pivot(index="series_id", columns="period",
                                               values="value")
    periods = np.arange(table.columns.min(), table.columns.max() + 1)
    table = table.reindex(columns=periods).interpolate(axis=1, limit_area="inside")
    return table.index.to_numpy(), periods, table.to_numpy(dtype=float)


def _features(z: np.ndarray, t: int, lags: int, window: int) -> np.ndarray:
    """Features at column ``t`` of the log matrix ``z``: lags, level distance, size."""
    columns = []
    for lag in range(lags):
        ok = t - lag - 1 >= 0
        columns.append(z[:, t - lag] - z[:, t - lag - 1] if ok else np.full(len(z), np.nan))
    if t - window < 0:
        level = np.full(len(z), np.nan)  # a full window only: no gap from one value
    else:
        level = z[:, t] - z[:, t - window:t].mean(axis=1)
    return np.column_stack([*columns, level, z[:, t]])


def _centre(x: np.ndarray) -> np.ndarray:
    """Each column minus its median over series; missing entries become 0 (the median)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        centred = x - np.nanmedian(x, axis=0)
    return np.nan_to_num(centred, nan=0.0)


class PooledGrowthModel:
    """Ridge regression of yearly log growth pooled across a panel of series.

    Parameters
    ----------
    lags : int, default 2
        Own past log changes used as features.
    level_window : int, default 3
        Periods whose mean log level the current level is compared with.
    alpha : float or sequence of float, default (0.05, 0.5, 5.0)
        Ridge penalty (``statsmodels`` elastic net with ``L1_wt=0``); a sequence is a
        grid chosen from by held-out error (see :meth:`fit`).
    common_damping : float or sequence of float, default (0.0, 0.5, 1.0)
        The next period's common growth is the last one times this, per step ahead.
    offset : float, default 1.0
        Added before taking logs, so zero counts are allowed.
    calibration_origins : int, default 4
        Latest periods the model is refitted at to measure its held-out errors.
    max_horizon : int, default 3
        Steps ahead whose held-out errors are measured (later steps are scaled).

    Attributes
    ----------
    alpha_, common_damping_ : float
        The penalty and damping used.
    coef_ : pandas.Series
        Coefficients of the relative growth on the centred features.
    common_ : pandas.Series
        The panel's median log growth into each period.
    errors_ : dict[int, numpy.ndarray]
        Held-out scaled log errors by step ahead.
    scale_ : numpy.ndarray
        Each series' log-scale error scale.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> years = np.arange(2010, 2020)
    >>> panel = pd.DataFrame([(f"la{i}", y, round(100 * np.exp(0.02 * (y - 2010)
    ...     + rng.normal(0, 0.05)))) for i in range(30) for y in years],
    ...     columns=["series_id", "period", "value"])
    >>> model = PooledGrowthModel().fit(panel)
    >>> out = model.predict(2, interval=0.8)
    >>> out.columns.tolist(), len(out), bool((out["lower"] <= out["upper"]).all())
    (['series_id', 'step', 'mean', 'lower', 'upper'], 60, True)
    """

    def __init__(self, lags: int = 2, level_window: int = 3,
                 alpha: float | tuple[float, ...] = (0.05, 0.5, 5.0),
                 common_damping: float | tuple[float, ...] = (0.0, 0.5, 1.0), offset: float = 1.0,
                 calibration_origins: int = 4, max_horizon: int = 3) -> None:
        self.lags = lags
        self.level_window = level_window
        self.alpha = alpha
        self.common_damping = common_damping
        self.offset = offset
        self.calibration_origins = calibration_origins
        self.max_horizon = max_horizon

    def __repr__(self) -> str:
        fitted = (f"; fitted: {len(self.series_ids_)} series x {len(self.periods_)} periods,"
                  f" alpha_={self.alpha_:g}, common_damping_={self.common_damping_:g}"
                  if hasattr(self, "coef_") else "")
        return (f"PooledGrowthModel(lags={self.lags}, level_window={self.level_window}, "
                f"alpha={self.alpha}, common_damping={self.common_damping}{fitted})")

    @property
    def feature_names(self) -> list[str]:
        return [*(f"change_lag{k + 1}" for k in range(self.lags)), "level_gap", "log_size"]

    def _check(self) -> None:
        alphas, dampings = np.atleast_1d(self.alpha), np.atleast_1d(self.common_damping)
        if (self.lags < 0 or self.level_window < 1 or alphas.size == 0 or np.any(alphas < 0)
                or self.offset <= 0):
            raise ConfigError("PooledGrowthModel needs lags >= 0, level_window >= 1, "
                              "alpha >= 0 and offset > 0")
        if dampings.size == 0 or np.any((dampings < 0) | (dampings > 1)):
            raise ConfigError(f"common_damping must be in [0, 1], got {self.common_damping}")

    def _learn(self, z: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients and the per-period common growth from the log matrix ``z``."""
        n_periods = z.shape[1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            growth = np.diff(z, axis=1)
            common = np.concatenate([[0.0], np.nan_to_num(np.nanmedian(growth, axis=0))])
        xs, ys, ws = [], [], []
        for t in range(1, n_periods - 1):
            target = growth[:, t] - common[t + 1]
            known = ~np.isnan(target)
            if known.sum() < 3:
                continue
            xs.append(_centre(_features(z, t, self.lags, self.level_window)[known]))
            ys.append(target[known])
            ws.append(np.exp(z[known, t]))
        width = self.lags + 2
        if len(ys) < 2 or sum(len(y) for y in ys) < 5 * width:
            # Fewer than two periods of relative growth: the common growth alone.
            return np.zeros(width), common
        x, y, w = np.vstack(xs), np.concatenate(ys), np.concatenate(ws)
        model = WLS(y, x, weights=w / w.mean())
        with warnings.catch_warnings():
            # A panel that moves together has all-zero features: rank-deficient is fine.
            warnings.simplefilter("ignore")
            if alpha > 0:
                params = model.fit_regularized(method="elastic_net", alpha=alpha,
                                               L1_wt=0.0).params
            else:
                params = model.fit().params
        return np.asarray(params, dtype=float), common

    def _project(self, z: np.ndarray, coef: np.ndarray, common: np.ndarray,
                 steps: int, damping: float) -> np.ndarray:
        """Log levels ``steps`` ahead of the last column of ``z`` (series x steps)."""
        z = z.copy()
        last_common = common[-1]
        out = []
        for step in range(1, steps + 1):
            t = z.shape[1] - 1
            relative = _centre(_features(z, t, self.lags, self.level_window)) @ coef
            following = z[:, t] + last_common * damping**step + relative
            z = np.column_stack([z, following])
            out.append(following)
        return np.column_stack(out)

    def _scales(self, z: np.ndarray, common: np.ndarray) -> np.ndarray:
        """Root mean square of each series' recent changes beside the common growth,
        shrunk toward the panel's median (a panel of fewer than three series: beside the
        series' own mean change), at least :data:`MIN_SCALE`."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            growth = np.diff(z, axis=1)
            if len(z) < 3:
                changes = growth - np.nanmean(growth, axis=1, keepdims=True)
            else:
                changes = growth - common[1:]
            changes = changes[:, -SCALE_WINDOW:]
            count = (~np.isnan(changes)).sum(axis=1)
            own = np.nanmean(changes**2, axis=1)
            panel = float(np.nanmedian(own)) if np.isfinite(own).any() else MIN_SCALE**2
            own = np.nan_to_num(own, nan=panel)
        scale = np.sqrt((count * own + SCALE_PRIOR * panel) / (count + SCALE_PRIOR))
        return np.maximum(scale, MIN_SCALE)

    def fit(self, history: pd.DataFrame) -> PooledGrowthModel:
        """Choose the penalty and damping, learn the coefficients and held-out errors.

        ``history`` is long: ``series_id``, ``period`` (consecutive integers, e.g.
        years), ``value`` (>= 0, NaN if missing). Every series is projected from the
        panel's last period; a series not observed then is projected from its last
        value carried to it. ``alpha`` and ``common_damping`` may be sequences: the pair
        with the least held-out mean absolute error in counts, over the
        ``calibration_origins`` latest origins one step ahead, is used (``alpha_``,
        ``common_damping_``).
        """
        self._check()
        ids, periods, values = _wide(history)
        if len(periods) < 2:
            raise ConfigError("PooledGrowthModel needs at least two periods in the panel")
        z = np.log(values + self.offset)
        grid = [(a, d) for a in np.atleast_1d(self.alpha) for d in
                np.atleast_1d(self.common_damping)]
        n = len(periods)
        origins = [n - 1 - back for back in range(1, self.calibration_origins + 1)
                   if n - 1 - back >= 2]
        backtests = {origin: self._backtest(z, origin, grid) for origin in origins}
        losses = np.zeros(len(grid))
        for origin, (projected, _) in backtests.items():
            actual = np.exp(z[:, origin + 1])
            ok = ~np.isnan(actual) & ~np.isnan(z[:, origin])
            for k, forecast in enumerate(projected):
                losses[k] += np.abs(actual - np.exp(forecast[:, 0]))[ok].sum()
        best = int(np.argmin(losses)) if origins else 0
        self.alpha_, self.common_damping_ = (float(v) for v in grid[best])
        errors: dict[int, list[np.ndarray]] = {}
        for origin, (projected, scale) in backtests.items():
            start = ~np.isnan(z[:, origin])
            for step in range(1, projected[best].shape[1] + 1):
                error = (z[:, origin + step] - projected[best][:, step - 1]) / scale
                errors.setdefault(step, []).append(error[start & ~np.isnan(error)])
        coef, common = self._learn(z, self.alpha_)
        self.series_ids_, self.periods_ = ids, periods
        self.coef_ = pd.Series(coef, index=self.feature_names)
        self.common_ = pd.Series(common[1:], index=periods[1:])
        self.errors_ = {step: np.concatenate(e) for step, e in errors.items()}
        self.scale_ = self._scales(z, common)
        self._z = z
        self._common = common
        return self

    def _backtest(self, z: np.ndarray, origin: int, grid: list[tuple[float, float]]
                  ) -> tuple[list[np.ndarray], np.ndarray]:
        """Projections from ``origin`` (data up to it only) for each grid point, and scales."""
        past = z[:, : origin + 1]
        steps = min(z.shape[1] - 1 - origin, self.max_horizon)
        carried = self._carried(past)
        fits = {alpha: self._learn(past, alpha) for alpha in {a for a, _ in grid}}
        projected = [self._project(carried, fits[alpha][0], fits[alpha][1], steps, damping)
                     for alpha, damping in grid]
        return projected, self._scales(past, fits[grid[0][0]][1])

    @staticmethod
    def _carried(z: np.ndarray) -> np.ndarray:
        """Trailing missing values carried forward from each series' last value."""
        return pd.DataFrame(z).ffill(axis=1).to_numpy()

    def quantiles(self, horizon: int, interval: float) -> np.ndarray:
        """Lower and upper quantiles of the scaled log errors, one row per step."""
        tail = (1 - interval) / 2
        first = self.errors_.get(1, np.zeros(0))
        if first.size < MIN_ERRORS:
            # Too little to measure: a normal 1.5 times as wide as the series' scale.
            base = np.array([-1.5, 1.5]) * float(stats.norm.ppf(1 - tail))
        else:
            base = np.quantile(first, [tail, 1 - tail])
        rows = []
        for step in range(1, horizon + 1):
            errors = self.errors_.get(step, np.zeros(0))
            rows.append(np.quantile(errors, [tail, 1 - tail]) if errors.size >= MIN_ERRORS
                        else base * np.sqrt(step))
        return np.asarray(rows)

    def predict(self, horizon: int, interval: float = 0.8) -> pd.DataFrame:
        """Point forecasts (the median) and central ``interval`` bounds, long format."""
        if not hasattr(self, "coef_"):
            raise ConfigError("PooledGrowthModel.predict called before fit")
        if int(horizon) != horizon or horizon < 1:
            raise ConfigError(f"horizon must be a whole number >= 1, got {horizon!r}")
        if not 0 < interval < 1:
            raise ConfigError(f"interval must be between 0 and 1, got {interval!r}")
        horizon = int(horizon)
        carried = self._carried(self._z)
        known = ~np.isnan(carried[:, -1])
        projected = self._project(carried, self.coef_.to_numpy(), self._common, horizon,
                                   self.common_damping_)
        bounds = self.quantiles(horizon, interval)
        spread = self.scale_[:, None, None] * bounds[None, :, :]
        low = np.exp(projected + spread[:, :, 0]) - self.offset
        high = np.exp(projected + spread[:, :, 1]) - self.offset
        mean = np.exp(projected) - self.offset
        count = int(known.sum())
        return pd.DataFrame({
            "series_id": np.repeat(self.series_ids_[known], horizon),
            "step": np.tile(np.arange(1, horizon + 1), count),
            "mean": np.maximum(mean[known], 0.0).ravel(),
            "lower": np.maximum(low[known], 0.0).ravel(),
            "upper": np.maximum(high[known], 0.0).ravel(),
        })
