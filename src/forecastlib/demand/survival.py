"""Lengths of stay: Kaplan-Meier and parametric survival per line, and remaining stays.

For each line the model fits, to spells that are right censored at ``as_at`` and left
truncated at the history's start (see :mod:`forecastlib.demand.history`):

* the **Kaplan-Meier** estimate with delayed entry (``statsmodels`` ``SurvfuncRight``)
  and pointwise confidence bands (Greenwood's variance on the log-log scale);
* **parametric** fits by maximum likelihood of the exponential, Weibull, log-normal and
  log-logistic (``scipy.stats`` ``expon``, ``weibull_min``, ``lognorm``, ``fisk``), with
  log-likelihood

  .. math:: \\ell = \\sum_{\\text{ended}} \\log f(t_i) + \\sum_{\\text{open}} \\log S(t_i)
            - \\sum_i \\log S(e_i)

  (``e_i`` the entry age), the family chosen by AIC.

An open placement that has lasted ``a`` days has conditional survival
``S(a + s) / S(a)``; :meth:`LengthOfStayModel.sample_remaining` draws its remaining stay
by inverse CDF, ``T = S^{-1}(u S(a))``, for many placements at once.

Lines with fewer than ``min_events`` ended spells borrow the fit of their whole service
(and, failing that, of every line), and say so in ``fits_``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.duration.survfunc import SurvfuncRight

from forecastlib.demand.history import default_history_start, durations, segments
from forecastlib.lines import LINE_KEYS

__all__ = ["FAMILIES", "LengthOfStayModel"]

#: Parametric families: name -> scipy.stats distribution (location fixed at 0).
FAMILIES: dict[str, stats.rv_continuous] = {
    "exponential": stats.expon,
    "weibull": stats.weibull_min,
    "lognormal": stats.lognorm,
    "loglogistic": stats.fisk,
}


@dataclass(frozen=True)
class _Fit:
    family: str
    shape: float | None
    scale: float
    loglik: float
    aic: float

    def frozen(self) -> stats.rv_continuous:
        distribution = FAMILIES[self.family]
        if self.shape is None:
            return distribution(scale=self.scale)
        return distribution(self.shape, scale=self.scale)


def _negative_loglik(family: str, log_params: np.ndarray, time: np.ndarray,
                     event: np.ndarray, entry: np.ndarray) -> float:
    distribution = FAMILIES[family]
    params = np.exp(log_params)
    shape = () if family == "exponential" else (params[0],)
    scale = params[-1]
    # Unfrozen calls: freezing a scipy distribution costs more than evaluating it here.
    value = (distribution.logpdf(time[event], *shape, scale=scale).sum()
             + distribution.logsf(time[~event], *shape, scale=scale).sum()
             - distribution.logsf(entry[entry > 0], *shape, scale=scale).sum())
    return float(-value) if np.isfinite(value) else 1e300


def _fit_family(family: str, time: np.ndarray, event: np.ndarray,
                entry: np.ndarray) -> _Fit | None:
    log_time = np.log(time)
    mean_log, sd_log = float(log_time.mean()), float(max(log_time.std(), 0.1))
    crude_mean = time.sum() / max(event.sum(), 0.5)
    starts = {
        "exponential": [np.log(crude_mean)],
        "weibull": [0.0, np.log(crude_mean)],
        "lognormal": [np.log(sd_log), mean_log + sd_log],
        "loglogistic": [np.log(1.5), mean_log + 0.5],
    }[family]
    result = optimize.minimize(
        lambda log_params: _negative_loglik(family, log_params, time, event, entry),
        np.asarray(starts, dtype=float), method="L-BFGS-B",
        bounds=[(-12.0, 14.0)] * len(starts))
    if not np.isfinite(result.fun) or result.fun >= 1e299:
        return None
    params = np.exp(result.x)
    shape = None if family == "exponential" else float(params[0])
    loglik = -float(result.fun)
    return _Fit(family, shape, float(params[-1]), loglik, 2 * len(params) - 2 * loglik)


def _best_fit(frame: pd.DataFrame, families: tuple[str, ...]) -> tuple[_Fit, list[_Fit]]:
    time = frame["duration"].to_numpy()
    event = frame["event"].to_numpy(dtype=bool)
    entry = frame["entry"].to_numpy()
    fits = [fit for family in families
            if (fit := _fit_family(family, time, event, entry)) is not None]
    if not fits:
        raise RuntimeError("no length-of-stay family could be fitted")
    return min(fits, key=lambda fit: fit.aic), fits


def _kaplan_meier(frame: pd.DataFrame, level: float) -> pd.DataFrame:
    fitted = SurvfuncRight(frame["duration"].to_numpy(), frame["event"].to_numpy(dtype=int),
                           entry=frame["entry"].to_numpy())
    prob = np.asarray(fitted.surv_prob)
    se = np.asarray(fitted.surv_prob_se)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_log = np.log(-np.log(prob))
        spread = z * se / (prob * np.abs(np.log(prob)))
        lower = np.exp(-np.exp(log_log + spread))
        upper = np.exp(-np.exp(log_log - spread))
    lower = np.where(np.isfinite(lower), lower, prob)
    upper = np.where(np.isfinite(upper), upper, prob)
    return pd.DataFrame({"days": fitted.surv_times, "survival": prob, "lower": lower,
                         "upper": upper, "at_risk": fitted.n_risk,
                         "ended": fitted.n_events})


class LengthOfStayModel:
    """Per-line lengths of stay from closed and open spells.

    Parameters
    ----------
    families : tuple of str
        Candidate parametric families (see :data:`FAMILIES`); chosen per line by AIC.
    min_events : int, default 10
        Lines with fewer ended spells use their service's (or everyone's) fit.
    history_start : date-like, optional
        First day of the record's history (spells running then are left truncated);
        default :func:`~forecastlib.demand.history.default_history_start`.
    level : float, default 0.95
        Coverage of the Kaplan-Meier bands.

    Attributes
    ----------
    fits_ : DataFrame
        Per line: ``family``, ``shape``, ``scale``, ``aic``, ``mean_days``,
        ``median_days``, ``spells``, ``ended``, ``source`` (``"line"``, ``"service"``
        or ``"all"``) and the AIC of every family tried (``aic_<family>``).
    survival_ : dict
        Per line, the Kaplan-Meier table: ``days``, ``survival``, ``lower``, ``upper``,
        ``at_risk``, ``ended``.
    history_start_ : numpy.datetime64
    as_at_ : numpy.datetime64

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> sample = load_sample()
    >>> model = LengthOfStayModel().fit(sample.placements, sample.as_at)
    >>> model.fits_.loc[("LAC Placements", "Residential homes"), "family"] in FAMILIES
    True
    >>> remaining = model.sample_remaining(
    ...     [("LAC Placements", "Residential homes")] * 3, [10, 200, 900],
    ...     np.random.default_rng(1))
    >>> remaining.shape, bool((remaining >= 1).all())
    ((3,), True)
    """

    def __init__(
        self,
        families: tuple[str, ...] = ("exponential", "weibull", "lognormal", "loglogistic"),
        min_events: int = 10,
        history_start: object | None = None,
        level: float = 0.95,
    ):
        self.families = families
        self.min_events = min_events
        self.history_start = history_start
        self.level = level

    def __repr__(self) -> str:
        fitted = f", lines={len(self.fits_)}" if hasattr(self, "fits_") else ""
        return (f"LengthOfStayModel(families={self.families}, min_events={self.min_events}"
                f"{fitted})")

    def fit(self, placements: pd.DataFrame, as_at: object) -> LengthOfStayModel:
        """Fit every line of ``placements`` as at ``as_at``; returns ``self``."""
        unknown = set(self.families) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown families {sorted(unknown)}; choose from {list(FAMILIES)}")
        self.as_at_ = np.datetime64(pd.Timestamp(as_at).date(), "D")
        if self.history_start is not None:
            self.history_start_ = np.datetime64(pd.Timestamp(self.history_start).date(), "D")
        elif placements.empty:  # an empty record: no history at all
            self.history_start_ = self.as_at_
        else:
            self.history_start_ = default_history_start(placements)
        table = durations(segments(placements), self.as_at_, self.history_start_)
        pooled: dict[object, _Fit] = {}
        rows, self.survival_ = {}, {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            groups = dict(list(table.groupby(LINE_KEYS, sort=True)))
            # A line whose spells all start after as_at borrows its service's (or the
            # record's) fit, so its future placements can be costed from their start.
            later = placements[LINE_KEYS].drop_duplicates().itertuples(index=False, name=None)
            for line in sorted(set(groups) | set(later)):
                frame = groups.get(line, table.iloc[:0])
                ended = int(frame["event"].sum())
                if ended >= self.min_events:
                    best, tried = _best_fit(frame, self.families)
                    source = "line"
                else:
                    service = line[0]
                    source = "service"
                    group = table[table["service"] == service]
                    if int(group["event"].sum()) < self.min_events:
                        service, group, source = "*", table, "all"
                    if group.empty:  # no spell started by as_at anywhere: nothing to fit
                        continue
                    if service not in pooled:
                        pooled[service] = _best_fit(group, self.families)[0]
                    best, tried = pooled[service], []
                if len(frame) and ended:
                    self.survival_[line] = _kaplan_meier(frame, self.level)
                frozen = best.frozen()
                rows[line] = {
                    "family": best.family, "shape": best.shape, "scale": best.scale,
                    "aic": best.aic, "mean_days": float(frozen.mean()),
                    "median_days": float(frozen.median()), "spells": len(frame),
                    "ended": ended, "source": source,
                    **{f"aic_{fit.family}": fit.aic for fit in tried},
                }
        self.fits_ = pd.DataFrame.from_dict(rows, orient="index")
        self.fits_.index = (pd.MultiIndex.from_tuples(self.fits_.index, names=LINE_KEYS)
                            if rows else pd.MultiIndex.from_arrays([[], []], names=LINE_KEYS))
        self._frozen = {line: _Fit(r["family"], r["shape"], r["scale"], np.nan, r["aic"]).frozen()
                        for line, r in rows.items()}
        return self

    def distribution(self, line: tuple[str, str]) -> stats.rv_continuous:
        """The fitted (frozen) scipy distribution of a line's length of stay in days."""
        self._check_fitted()
        if line not in self._frozen:
            raise KeyError(f"no length of stay fitted for line {line!r}; fitted lines: "
                           f"{list(self._frozen)[:5]}...")
        return self._frozen[line]

    def survival_function(self, line: tuple[str, str], days: np.ndarray) -> np.ndarray:
        """Parametric ``S(days)`` for a line."""
        return self.distribution(line).sf(np.asarray(days, dtype=float))

    def sample_remaining(
        self,
        lines: list[tuple[str, str]] | pd.MultiIndex,
        elapsed_days: np.ndarray,
        rng: np.random.Generator,
        size: int | None = None,
    ) -> np.ndarray:
        """Remaining days (>= 1) of open spells that have lasted ``elapsed_days``.

        Draws from ``S(a + s) / S(a)`` by inverse CDF, vectorised: one call per line
        present, never per placement. With ``size``, returns ``(len(lines), size)``.
        """
        self._check_fitted()
        keys = pd.MultiIndex.from_tuples(list(lines), names=LINE_KEYS)
        elapsed = np.asarray(elapsed_days, dtype=float)
        shape = (len(keys),) if size is None else (len(keys), size)
        uniform = rng.random(shape)
        remaining = np.empty(shape)
        codes, uniques = keys.factorize()
        for code, line in enumerate(uniques):
            rows = codes == code
            frozen = self.distribution(tuple(line))
            age = elapsed[rows] if size is None else elapsed[rows][:, None]
            survived = np.maximum(frozen.sf(age), 1e-300)
            total = frozen.isf(uniform[rows] * survived)
            remaining[rows] = np.maximum(np.ceil(total - age), 1)
        return remaining

    def _check_fitted(self) -> None:
        if not hasattr(self, "fits_"):
            raise RuntimeError("LengthOfStayModel is not fitted yet: call fit() first")
