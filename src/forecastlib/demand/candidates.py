"""Candidate forecasting methods for :func:`~forecastlib.demand.series.project_series`.

Each candidate maps a clean history ``y`` (no gaps, ``float``), a horizon ``h`` and a
season length ``m`` to ``h`` point forecasts, or ``None`` when it does not apply to
that history (too short, not positive, ...). The ETS and Theta families come from
``statsmodels``; the rest are the classic benchmarks and a count regression.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from statsmodels.discrete.discrete_model import Poisson

# statsmodels' time-series and robust modules are imported where used: a forecast that
# never projects a series (the demo, the outturn pipeline) does not pay for them.

__all__ = ["CANDIDATES", "Candidate", "panel_ar", "panel_growth", "panel_growth_ar",
           "pooled_drift"]

Candidate = Callable[[np.ndarray, int, int], np.ndarray | None]


def naive(y: np.ndarray, h: int, m: int) -> np.ndarray:
    """The last value, repeated."""
    return np.full(h, y[-1])


def seasonal_naive(y: np.ndarray, h: int, m: int) -> np.ndarray | None:
    """The value one season earlier."""
    if m <= 1 or len(y) < m:
        return None
    return np.resize(y[-m:], h)


def drift(y: np.ndarray, h: int, m: int) -> np.ndarray | None:
    """Random walk with drift: the average change, continued."""
    if len(y) < 3:
        return None
    slope = (y[-1] - y[0]) / (len(y) - 1)
    return y[-1] + slope * np.arange(1, h + 1)


def recent_mean(y: np.ndarray, h: int, m: int) -> np.ndarray | None:
    """Mean of the last season (or last five values): robust for noisy flat series."""
    window = max(m, 5) if m > 1 else 5
    if len(y) < 3:
        return None
    return np.full(h, y[-window:].mean())


def _quiet(function: Callable[[], np.ndarray]) -> np.ndarray | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            forecast = np.asarray(function(), dtype=float)
        except (ValueError, np.linalg.LinAlgError, IndexError, ZeroDivisionError):
            return None
    return forecast if np.all(np.isfinite(forecast)) else None


def theta(y: np.ndarray, h: int, m: int) -> np.ndarray | None:
    """The classic Theta method (``statsmodels`` ``ThetaModel``), deseasonalised if tested."""
    if len(y) < 4 or np.ptp(y) == 0:
        return None
    from statsmodels.tsa.forecasting.theta import ThetaModel

    seasonal = m > 1 and len(y) >= 2 * m
    return _quiet(lambda: ThetaModel(y, period=m if seasonal else 1,
                                     deseasonalize=seasonal).fit().forecast(h))


def ses(y: np.ndarray, h: int, m: int) -> np.ndarray | None:
    """Simple exponential smoothing (ETS(A,N,N))."""
    if len(y) < 4 or np.ptp(y) == 0:
        return None
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    return _quiet(lambda: ExponentialSmoothing(y, initialization_method="estimated")
                  .fit().forecast(h))


def damped(y: np.ndarray, h: int, m: int) -> np.ndarray | None:
    """Additive damped trend (ETS(A,Ad,N), with additive seasons when long enough)."""
    if len(y) < 6 or np.ptp(y) == 0:
        return None
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    seasonal = "add" if m > 1 and len(y) >= 2 * m + 2 else None
    return _quiet(lambda: ExponentialSmoothing(
        y, trend="add", damped_trend=True, seasonal=seasonal,
        seasonal_periods=m if seasonal else None,
        initialization_method="estimated").fit().forecast(h))


def combination(y: np.ndarray, h: int, m: int) -> np.ndarray | None:
    """Mean of SES, damped trend and Theta (the M3-winning style of combination)."""
    parts = [f(y, h, m) for f in (ses, damped, theta)]
    parts = [p for p in parts if p is not None]
    return np.mean(parts, axis=0) if len(parts) >= 2 else None


def count_trend(y: np.ndarray, h: int, m: int) -> np.ndarray | None:
    """Poisson regression on time (and month when seasonal) for small integer counts."""
    if len(y) < 8 or np.any(y != np.round(y)) or y.mean() > 50 or y.sum() == 0:
        return None
    time = np.arange(len(y) + h, dtype=float) / max(m, 1)
    columns = [np.ones(len(time)), time - time[len(y) - 1]]
    if m > 1 and len(y) >= 2 * m:
        angle = 2 * np.pi * np.arange(len(time)) / m
        columns += [np.sin(angle), np.cos(angle)]
    design = np.column_stack(columns)
    return _quiet(lambda: np.exp(design[len(y):] @ Poisson(y, design[:len(y)])
                                 .fit(disp=0).params))


def panel_growth(histories: list[np.ndarray]) -> tuple[float, float]:
    """Median yearly log growth across a panel and its between-series variance."""
    growth = []
    for y in histories:
        recent = y[-6:]
        if len(recent) >= 3 and np.all(recent > 0):
            growth.append((np.log(recent[-1]) - np.log(recent[0])) / (len(recent) - 1))
    if len(growth) < 5:
        return 0.0, np.inf
    growth = np.asarray(growth)
    centre = float(np.median(growth))
    spread = 1.4826 * float(np.median(np.abs(growth - centre)))
    return centre, spread**2


def pooled_drift(y: np.ndarray, h: int, m: int, panel: tuple[float, float]) -> np.ndarray | None:
    """Drift in logs, shrunk toward the panel's growth (empirical Bayes weights)."""
    recent = y[-6:]
    centre, between = panel
    if len(recent) < 3 or np.any(recent <= 0) or not np.isfinite(between):
        return None
    steps = np.diff(np.log(recent))
    own = float(steps.mean())
    within = float(steps.var(ddof=1)) / len(steps) if len(steps) > 1 else np.inf
    weight = between / (between + within) if np.isfinite(within) else 0.0
    growth = centre + weight * (own - centre)
    return y[-1] * np.exp(growth * np.arange(1, h + 1))


def panel_growth_ar(histories: list[np.ndarray], drop_last: int = 0) -> np.ndarray | None:
    """Pooled robust regression of next log change on last log change, across a panel.

    ``g[t+1] = a + b g[t]`` fitted with Huber's M-estimator (``statsmodels`` ``RLM``) to
    every positive series with ``drop_last`` values held back. ``None`` when the panel
    has fewer than 10 usable series.
    """
    current, following = [], []
    usable = 0
    for y in histories:
        y = y[: len(y) - drop_last] if drop_last else y
        if len(y) < 3 or np.any(y <= 0):
            continue
        changes = np.diff(np.log(y))
        current.append(changes[:-1])
        following.append(changes[1:])
        usable += 1
    if usable < 10:
        return None
    from statsmodels.robust.norms import HuberT
    from statsmodels.robust.robust_linear_model import RLM

    x, target = np.concatenate(current), np.concatenate(following)
    design = np.column_stack([np.ones_like(x), x])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = RLM(target, design, M=HuberT()).fit().params
    return np.asarray(params, dtype=float)


def panel_ar(y: np.ndarray, h: int, m: int, params: np.ndarray | None) -> np.ndarray | None:
    """Project log growth with the panel's pooled AR(1) on changes, iterated ``h`` steps."""
    if params is None or m > 1 or len(y) < 2 or np.any(y[-2:] <= 0):
        return None
    growth = np.log(y[-1]) - np.log(y[-2])
    level, out = np.log(y[-1]), []
    for _ in range(h):
        growth = params[0] + params[1] * growth
        level += growth
        out.append(level)
    return np.exp(np.asarray(out))


#: Candidates that need only the series itself, by name.
CANDIDATES: dict[str, Candidate] = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "drift": drift,
    "mean": recent_mean,
    "theta": theta,
    "ses": ses,
    "damped": damped,
    "combination": combination,
    "count": count_trend,
}
