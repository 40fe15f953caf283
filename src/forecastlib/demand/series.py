"""``project_series``: the stable entry point for projecting many count series at once.

For each series the candidates of :mod:`forecastlib.demand.candidates` (naive,
seasonal naive, drift, recent mean, Theta, SES, damped trend, their combination, a
Poisson trend regression, and a drift shrunk toward the panel's growth; for yearly panels
of 20+ series also the global :class:`~forecastlib.demand.pooled.PooledGrowthModel`) are
scored on
rolling origins inside the series' own history, and the best by mean absolute error is
used. Intervals are **empirical**: the scaled errors every series made at each step
ahead on those rolling origins are pooled across the panel (errors divided by the
series' mean absolute one-step naive change, as in MASE), and their quantiles, times
the series' own scale, are added to its forecast. Pooling gives a calibrated interval
even for short series, and the coverage is measured in the tests and the benchmarks.

Degenerate inputs never fail: gaps are interpolated for fitting, short series fall
back to the naive forecast, flat and all-zero series are projected flat, and a
:class:`ProjectionWarning` says which and how many.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from forecastlib.demand.candidates import (
    CANDIDATES,
    panel_ar,
    panel_growth,
    panel_growth_ar,
    pooled_drift,
)
from forecastlib.demand.pooled import PooledGrowthModel, check_panel
from forecastlib.errors import ConfigError

__all__ = ["ProjectionWarning", "project_series"]

_COMBINED = ("ses", "damped", "theta")
MIN_POOLED_ERRORS = 30
#: Held-out errors a series needs for its own record to weigh as much as the panel's.
PRIOR_ERRORS = 30
#: Panels with fewer series than this are validated on six origins instead of three.
SMALL_PANEL = 20
#: The scale of a series is its mean absolute change over this many latest periods.
RECENT_CHANGES = 6
PANEL_NAMES = ("pooled_drift", "panel_ar", "panel_blend", "pooled_growth")


@dataclass
class _Panel:
    """What the panel teaches each series, with ``drop`` values held back."""

    growth: tuple[float, float]
    ar: dict[int, np.ndarray | None]
    #: ``PooledGrowthModel`` forecasts by drop and series id (yearly panels only).
    pooled: dict[int, dict[object, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def learn(cls, histories: list[np.ndarray], drops: list[int]) -> _Panel:
        return cls(panel_growth(histories),
                   {drop: panel_growth_ar(histories, drop) for drop in drops})

    def add_pooled(self, prepared: list[_Series], drops: list[int], steps: int) -> None:
        """Fit the global :class:`PooledGrowthModel` with each ``drop`` periods held back.

        Only for panels of at least :data:`SMALL_PANEL` non-seasonal series with integer
        (or yearly) periods that end in the panel's last period; the model is fitted on
        every series' cleaned history up to that period minus ``drop``.
        """
        ends = [s.last_period for s in prepared if len(s.values) and s.season_length == 1]
        if not ends or None in ends:
            return
        last = max(ends)
        current = [s for s in prepared if len(s.values) and s.last_period == last
                   and not s.extra_steps and s.season_length == 1]
        if len(current) < SMALL_PANEL:
            return
        frame = pd.concat([pd.DataFrame({
            "series_id": s.series_id, "value": s.values,
            "period": np.arange(s.last_period - len(s.values) + 1, s.last_period + 1)})
            for s in prepared if len(s.values) and s.last_period is not None],
            ignore_index=True)
        wanted = {s.series_id for s in current}
        for drop in drops:
            train = frame[frame["period"] <= last - drop]
            if train["period"].nunique() < 3:
                continue
            out = PooledGrowthModel().fit(train).predict(steps)
            out = out[out["series_id"].isin(wanted)]
            self.pooled[drop] = {key: block["mean"].to_numpy()
                                 for key, block in out.groupby("series_id", sort=False)}


class ProjectionWarning(UserWarning):
    """Some series were too short, flat, zero or gappy for the full method."""


@dataclass
class _Series:
    series_id: object
    values: np.ndarray  # cleaned (interpolated) history, float
    extra_steps: int  # trailing missing periods to forecast through
    season_length: int
    note: str | None = None
    last_period: int | None = None  # last observed period, for integer and yearly periods


def _frequency_and_index(periods: pd.Series) -> tuple[str, int]:
    if pd.api.types.is_integer_dtype(periods) or pd.api.types.is_float_dtype(periods):
        return "integer", 1
    dates = pd.to_datetime(periods)
    gaps = np.diff(np.sort(dates.unique())).astype("timedelta64[D]").astype(int)
    typical = int(np.median(gaps)) if len(gaps) else 365
    if typical <= 31:
        return "M", 12
    if typical <= 92:
        return "Q", 4
    return "Y", 1


def _regular(block: pd.DataFrame, frequency: str) -> np.ndarray:
    if frequency == "integer":
        periods = block["period"].astype("int64")
        full = np.arange(periods.min(), periods.max() + 1)
        return block.set_index(periods)["value"].reindex(full).to_numpy(dtype=float)
    stamps = pd.to_datetime(block["period"]).dt.to_period(frequency)
    full = pd.period_range(stamps.min(), stamps.max(), freq=frequency)
    return block.set_index(stamps)["value"].groupby(level=0).last().reindex(full).to_numpy(
        dtype=float)


def _last_period(block: pd.DataFrame, frequency: str) -> int | None:
    """The last period with a value, as an integer (a year for yearly dates)."""
    observed = block.loc[block["value"].notna(), "period"]
    if frequency == "integer":
        return int(observed.max())
    if frequency == "Y":
        return int(pd.to_datetime(observed).max().year)
    return None


def _prepare(history: pd.DataFrame, season_length: int | None) -> list[_Series]:
    values = check_panel(history)
    frame = history.assign(value=values)
    frequency, default_season = _frequency_and_index(frame["period"])
    season = default_season if season_length is None else int(season_length)
    prepared = []
    for series_id, block in frame.groupby("series_id", sort=False):
        raw = _regular(block.sort_values("period"), frequency)
        observed = np.flatnonzero(~np.isnan(raw))
        if observed.size == 0:
            prepared.append(_Series(series_id, np.zeros(0), 0, season, "empty"))
            continue
        last_period = _last_period(block, frequency)
        raw = raw[observed[0]:]
        extra = len(raw) - 1 - (observed[-1] - observed[0])
        raw = raw[: len(raw) - extra]
        note = None
        if np.isnan(raw).any():
            index = np.arange(len(raw))
            known = ~np.isnan(raw)
            raw = np.interp(index, index[known], raw[known])
            note = "gaps"
        prepared.append(_Series(series_id, raw, extra, season, note, last_period))
    return prepared


def _forecasts(y: np.ndarray, h: int, m: int, panel: _Panel, drop: int,
               names: list[str], key: object = None) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    wanted = set(names)
    if "panel_blend" in wanted:
        wanted |= {"naive", "panel_ar"}
    if "combination" in wanted:
        wanted |= set(_COMBINED)
    for name in wanted - {"combination", "panel_blend"}:
        if name == "pooled_drift":
            forecast = pooled_drift(y, h, m, panel.growth)
        elif name == "panel_ar":
            forecast = panel_ar(y, h, m, panel.ar.get(drop))
        elif name == "pooled_growth":
            pooled = panel.pooled.get(drop, {}).get(key)
            forecast = pooled[:h] if pooled is not None and len(pooled) >= h else None
        else:
            forecast = CANDIDATES[name](y, h, m)
        if forecast is not None:
            out[name] = np.maximum(np.asarray(forecast, dtype=float), 0.0)
    if "combination" in wanted:
        parts = [out[n] for n in _COMBINED if n in out]
        if len(parts) >= 2:
            out["combination"] = np.mean(parts, axis=0)
    if "panel_blend" in wanted and "panel_ar" in out:
        out["panel_blend"] = (out["naive"] + out["panel_ar"]) / 2
    return {name: forecast for name, forecast in out.items() if name in names}


def _scale(y: np.ndarray, m: int) -> float:
    lag = m if m > 1 and len(y) > 2 * m else 1
    changes = np.abs(y[lag:] - y[:-lag])[-RECENT_CHANGES:]
    scale = float(changes.mean()) if changes.size else 0.0
    if scale == 0:
        scale = max(0.1 * float(np.abs(y).mean()), 1e-9) if y.size else 1e-9
    return scale


def _min_train(n: int, m: int) -> int:
    return max(4, min(2 * m, n // 2) if m > 1 else 4)


def _origins(n: int, h: int, m: int, windows: int) -> list[int]:
    stride = h if n - h * windows >= _min_train(n, m) else 1
    return [n - stride * k for k in range(1, windows + 1) if n - stride * k >= _min_train(n, m)]


@dataclass
class _Validation:
    """Scaled held-out errors of every method at each rolling origin (latest first)."""

    errors: dict[str, list[list[tuple[int, float]]]]

    def losses(self, skip: int = 0) -> dict[str, float]:
        """Mean absolute scaled error per method, leaving out the ``skip`` latest origins."""
        out = {}
        for name, windows in self.errors.items():
            kept = [abs(e) for window in windows[skip:] for _, e in window]
            if kept:
                out[name] = float(np.mean(kept))
        return out

    def count(self, skip: int = 0) -> int:
        return max((sum(len(w) for w in windows[skip:]) for windows in self.errors.values()),
                   default=0)


def _validate(series: _Series, h: int, panel: _Panel, names: list[str],
              windows: int) -> _Validation:
    y, m = series.values, series.season_length
    n = len(y)
    errors: dict[str, list[list[tuple[int, float]]]] = defaultdict(list)
    for origin in _origins(n, h, m, windows):
        train, steps = y[:origin], min(h, n - origin)
        scale = _scale(train, m)
        for name, forecast in _forecasts(train, steps, m, panel, n - origin, names,
                                         series.series_id).items():
            scaled = (y[origin: origin + steps] - forecast) / scale
            errors[name].append([(j + 1, float(e)) for j, e in enumerate(scaled)])
    return _Validation(dict(errors))


def project_series(history: pd.DataFrame, horizon: int, interval: float = 0.8,
                   season_length: int | None = None, seed: int | None = None
                   ) -> pd.DataFrame:
    """Project many non-negative series ``horizon`` steps ahead with intervals.

    Parameters
    ----------
    history : DataFrame
        Long: ``series_id``, ``period`` (consecutive integers, or dates at a regular
        monthly, quarterly or yearly frequency) and ``value`` (>= 0, NaN if missing).
    horizon : int
        Steps ahead (>= 1) after each series' last period.
    interval : float, default 0.8
        Coverage of the central prediction interval.
    season_length : int, optional
        Periods per season (default 12 monthly, 4 quarterly, 1 otherwise).
    seed : int, optional
        Accepted for the stable signature; the method is deterministic.

    Returns
    -------
    DataFrame
        Long: ``series_id``, ``step`` (1..horizon), ``mean``, ``lower``, ``upper``.
        ``attrs["models"]`` names the method chosen per series.

    Examples
    --------
    >>> history = pd.DataFrame({"series_id": ["A"] * 8 + ["B"] * 2,
    ...     "period": list(range(2010, 2018)) + [2016, 2017],
    ...     "value": [50, 52, 55, 57, 60, 61, 65, 66, 3, 0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", ProjectionWarning)
    ...     out = project_series(history, horizon=2)
    >>> out.columns.tolist(), len(out), bool((out["lower"] <= out["mean"]).all())
    (['series_id', 'step', 'mean', 'lower', 'upper'], 4, True)
    """
    if int(horizon) != horizon or horizon < 1:
        raise ConfigError(f"horizon must be a whole number >= 1, got {horizon!r}")
    if not 0 < interval < 1:
        raise ConfigError(f"interval must be between 0 and 1 (exclusive), got {interval!r}")
    horizon = int(horizon)
    prepared = _prepare(history, season_length)
    histories = [s.values for s in prepared if len(s.values)]
    # Small panels have few errors to pool: validate them on more origins.
    windows = 3 if len(prepared) >= SMALL_PANEL else 6
    drops = sorted({0, *(k * stride for stride in (1, horizon) for k in range(1, windows + 1))})
    panel = _Panel.learn(histories, drops)
    panel.add_pooled(prepared, drops, horizon)
    names = [*CANDIDATES, *PANEL_NAMES]
    tail = (1 - interval) / 2
    notes: dict[str, list] = defaultdict(list)
    validated = {}
    for position, series in enumerate(prepared):
        y = series.values
        if series.note:
            notes[series.note].append(series.series_id)
        if len(y) == 0 or not np.any(y):
            notes["all zero" if len(y) else "empty"].append(series.series_id)
        elif len(y) < 5 or np.ptp(y) == 0:
            notes["short" if len(y) < 5 else "flat"].append(series.series_id)
        else:
            validated[position] = _validate(series, horizon + series.extra_steps, panel,
                                            names, windows)
    panel_losses = _panel_losses([v.losses() for v in validated.values()])
    # Interval errors are honest out-of-sample errors of the whole procedure: at each
    # series' latest origin, the method is chosen from the earlier origins only.
    earlier_losses = _panel_losses([v.losses(skip=1) for v in validated.values()])

    chosen, pooled = {}, defaultdict(list)
    fits = []
    for position, series in enumerate(prepared):
        y, m, steps = series.values, series.season_length, horizon + series.extra_steps
        if len(y) == 0 or not np.any(y):
            fits.append((series, "zero", np.zeros(steps), 0.0))
            continue
        name = "naive"
        if position in validated:
            check = validated[position]
            name = _series_choice(check.losses(), check.count(), panel_losses)
            earlier = _series_choice(check.losses(skip=1), check.count(skip=1), earlier_losses)
            if earlier not in check.errors or len(check.errors[earlier]) < 2:
                earlier = name
            for step, error in check.errors.get(earlier, [[]])[0]:
                pooled[step].append(error)
        forecast = _forecasts(y, steps, m, panel, 0, [name], series.series_id).get(name)
        if forecast is None:
            name, forecast = "naive", CANDIDATES["naive"](y, steps, m)
        fits.append((series, name, forecast, _scale(y, m)))
    quantiles = _pooled_quantiles(pooled, horizon + max(
        (s.extra_steps for s in prepared), default=0), tail)

    rows = []
    for series, name, forecast, scale in fits:
        chosen[series.series_id] = name
        steps = np.arange(1, len(forecast) + 1)
        low = np.asarray([quantiles[j][0] for j in steps]) * scale
        high = np.asarray([quantiles[j][1] for j in steps]) * scale
        keep = slice(series.extra_steps, None)
        rows.append(pd.DataFrame({
            "series_id": series.series_id, "step": np.arange(1, horizon + 1),
            "mean": forecast[keep],
            "lower": np.maximum(forecast + low, 0.0)[keep],
            "upper": np.maximum(forecast + high, 0.0)[keep],
        }))
    if notes:
        described = "; ".join(f"{len(ids)} {kind} ({', '.join(map(str, ids[:3]))}"
                              f"{', ...' if len(ids) > 3 else ''})" for kind, ids in notes.items())
        warnings.warn(f"simpler handling for some series: {described}. Gaps are "
                      "interpolated; short and flat series use the naive forecast; "
                      "all-zero series are projected at zero.", ProjectionWarning, stacklevel=2)
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["series_id", "step", "mean", "lower", "upper"])
    out.attrs["models"] = chosen
    return out


def _panel_losses(all_losses: list[dict[str, float]]) -> dict[str, float]:
    """Mean validation loss of each method across the panel.

    Only methods available for at least half of the validated series are kept.
    """
    totals: dict[str, list[float]] = defaultdict(list)
    for losses in all_losses:
        for name, loss in losses.items():
            totals[name].append(loss)
    return {name: float(np.mean(v)) for name, v in totals.items()
            if len(v) >= 0.5 * len(all_losses)}


def _series_choice(losses: dict[str, float], errors: int, panel: dict[str, float]) -> str:
    """The method with the lowest validation loss shrunk toward the panel's.

    A series' own mean loss over ``errors`` held-out errors is noisy when they are few;
    it is weighted ``errors / (errors + PRIOR_ERRORS)`` against the panel's mean loss for
    the same method, so short series follow the panel and long ones their own record.
    """
    if not losses:
        return "naive"
    weight = errors / (errors + PRIOR_ERRORS)
    shrunk = {name: weight * loss + (1 - weight) * panel.get(name, loss)
              for name, loss in losses.items()}
    return min(shrunk, key=shrunk.get)


def _step_power(pooled: dict[int, list[float]]) -> float:
    """How errors grow with the step ahead: ``|e_j|`` is about ``|e_1| * j ** power``.

    Estimated from the median absolute pooled error at each step (least squares on the
    log-log scale, steps with at least five errors), bounded to [0.5, 1.5]; 0.5 (a
    random walk's growth) when there is too little to estimate it.
    """
    steps = [j for j, errors in pooled.items() if len(errors) >= 5]
    if len(steps) < 3:
        return 0.5
    medians = [np.median(np.abs(pooled[j])) for j in steps]
    if min(medians) <= 0:
        return 0.5
    slope = np.polyfit(np.log(steps), np.log(medians), 1)[0]
    return float(np.clip(slope, 0.5, 1.5))


def _pooled_quantiles(pooled: dict[int, list[float]], steps: int, tail: float
                      ) -> dict[int, tuple[float, float]]:
    """Empirical quantiles of the pooled scaled errors at each step ahead.

    A step with fewer than :data:`MIN_POOLED_ERRORS` errors uses all steps' errors,
    each divided by ``step ** power`` (see :func:`_step_power`), times this step's
    ``step ** power``; with too few errors altogether, a normal approximation to a
    naive forecast's scaled errors.
    """
    power = _step_power(pooled)
    quantiles = {}
    normalised = np.asarray([e / step**power for step, errors in pooled.items()
                             for e in errors])
    if normalised.size >= MIN_POOLED_ERRORS:
        base = (float(np.quantile(normalised, tail)), float(np.quantile(normalised, 1 - tail)))
    else:
        z = float(stats.norm.ppf(1 - tail)) * 1.25
        base = (-z, z)
    for step in range(1, steps + 1):
        errors = np.asarray(pooled.get(step, []))
        if errors.size >= MIN_POOLED_ERRORS:
            quantiles[step] = (float(np.quantile(errors, tail)),
                               float(np.quantile(errors, 1 - tail)))
        else:
            quantiles[step] = (base[0] * step**power, base[1] * step**power)
    return quantiles
