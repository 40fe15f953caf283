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

**Partial pooling.** Every line's parameters are shrunk toward its service's fit (of
every line, when the service itself is sparse) by empirical Bayes: in the line's family,
with log parameters ``theta``, the line's estimate maximises

.. math:: \\ell(\\theta) - \\tfrac12 \\sum_p (\\theta_p - \\theta^{\\text{service}}_p)^2 / \\tau_p^2

where the between-line spread ``tau`` is estimated from the lines with enough ended
spells (their spread around their service beyond their own sampling error). A line
with thousands of spells keeps its own fit; one with a handful sits near its service's,
between the two in proportion to its information (``credibility`` in ``fits_``), never
all-or-nothing. Lines with fewer than ``min_events`` ended spells take their service's
family (so a heavy-tailed service keeps its tail) and say so in ``fits_``.

**Parameter uncertainty.** The curvature of the same objective at its maximum gives
the approximate posterior ``N(theta_hat, H^{-1})`` (Laplace); :meth:`parameter_draws`
draws ``draws`` parameter sets from it (:class:`~forecastlib.demand.stay_draws.StayDraws`),
which the simulation spreads over its simulations (simulation ``s`` uses draw ``s mod K``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.tools.numdiff import approx_hess3

from forecastlib.demand.history import (
    SpellHistory,
    censor_capped_ends,
    durations,
    resolve_history_start,
    segments,
)
from forecastlib.demand.record_codes import group_rows
from forecastlib.demand.stay_draws import StayDraws
from forecastlib.demand.stay_likelihood import StayLikelihood
from forecastlib.lines import LINE_KEYS
from forecastlib.streams import stream

__all__ = ["FAMILIES", "LengthOfStayModel"]

#: Parametric families: name -> scipy.stats distribution (location fixed at 0).
FAMILIES: dict[str, stats.rv_continuous] = {
    "exponential": stats.expon,
    "weibull": stats.weibull_min,
    "lognormal": stats.lognorm,
    "loglogistic": stats.fisk,
}


#: Default between-line spread of [log shape, log scale] and its floor.
_DEFAULT_TAU = np.array([0.3, 0.5])
_TAU_FLOOR = np.array([0.05, 0.1])
#: Bounds of every log parameter in the searches.
_BOUNDS = (-12.0, 14.0)


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


def _fit_family(family: str, spells: StayLikelihood) -> _Fit | None:
    """Maximum likelihood in one family (``None`` where it cannot be fitted).

    The exponential's maximum is in closed form: ``scale`` = time at risk after entry
    over ended spells (within the bounds the other families are searched in).
    """
    time, event, weight = spells.time, spells.event, spells.weight
    if family == "exponential":
        at_risk = weight @ (time - np.where(spells.entry > 0, spells.entry, 0.0))
        ended = weight @ event
        with np.errstate(divide="ignore", invalid="ignore"):
            log_scale = np.log(at_risk / ended) if ended > 0 else _BOUNDS[1]
        log_scale = float(np.clip(np.nan_to_num(log_scale, nan=_BOUNDS[0]), *_BOUNDS))
        value = spells(family, np.array([log_scale]))[0]
        if value >= 1e299:
            return None
        return _Fit(family, None, float(np.exp(log_scale)), -value, 2 + 2 * value)
    log_time = np.log(time)
    mean_log = float(np.average(log_time, weights=weight))
    sd_log = float(max(np.sqrt(np.average((log_time - mean_log) ** 2, weights=weight)), 0.1))
    crude_mean = (weight * time).sum() / max((weight * event).sum(), 0.5)
    starts = {
        "exponential": [np.log(crude_mean)],
        "weibull": [0.0, np.log(crude_mean)],
        "lognormal": [np.log(sd_log), mean_log + sd_log],
        "loglogistic": [np.log(1.5), mean_log + 0.5],
    }[family]
    result = optimize.minimize(
        lambda log_params: spells(family, log_params), np.asarray(starts, dtype=float),
        method="TNC", jac=True, bounds=[_BOUNDS] * len(starts))
    if not np.isfinite(result.fun) or result.fun >= 1e299:
        return None
    params = np.exp(result.x)
    shape = None if family == "exponential" else float(params[0])
    loglik = -float(result.fun)
    return _Fit(family, shape, float(params[-1]), loglik, 2 * len(params) - 2 * loglik)


def _best_fit(spells: StayLikelihood, families: tuple[str, ...]) -> tuple[_Fit, list[_Fit]]:
    fits = [fit for family in families if (fit := _fit_family(family, spells)) is not None]
    if not fits:
        raise RuntimeError("no length-of-stay family could be fitted")
    return min(fits, key=lambda fit: fit.aic), fits


def _log_params(fit: _Fit) -> np.ndarray:
    """A fit's parameters on the log scale: ``[log shape, log scale]`` (or ``[log scale]``)."""
    if fit.shape is None:
        return np.array([np.log(fit.scale)])
    return np.array([np.log(fit.shape), np.log(fit.scale)])


def _spells(frame: pd.DataFrame) -> StayLikelihood:
    """The likelihood of a frame's spells over its distinct ``(duration, event, entry)``
    rows, each weighted by how many spells share it (durations are whole days, so a large
    record has far fewer distinct rows than spells and each evaluation costs the distinct
    rows). Rows in ascending order (a sort on the three columns, as ``np.unique``)."""
    columns = [frame[name].to_numpy(dtype=float) for name in ("duration", "event", "entry")]
    order = np.lexsort(columns[::-1])
    rows = np.column_stack(columns)[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = np.any(rows[1:] != rows[:-1], axis=1)
    counts = np.diff(np.append(np.flatnonzero(first), len(rows))).astype(float)
    distinct = rows[first]
    return StayLikelihood(distinct[:, 0], distinct[:, 1].astype(bool), distinct[:, 2], counts)


def _covariance(objective, theta: np.ndarray) -> np.ndarray:
    """Inverse of the objective's numerical Hessian at ``theta`` (made positive definite)."""
    hessian = np.atleast_2d(approx_hess3(theta, objective))
    hessian = (hessian + hessian.T) / 2
    if not np.all(np.isfinite(hessian)):
        return np.eye(len(theta)) * 4.0
    values, vectors = np.linalg.eigh(hessian)
    values = np.maximum(values, 1.0 / 16.0)  # no parameter less certain than sd 4 (log)
    return (vectors / values) @ vectors.T


def _mle_covariance(family: str, spells: StayLikelihood, theta: np.ndarray) -> np.ndarray:
    """Inverse observed information of the log parameters at the likelihood's maximum."""
    return _covariance(lambda t: spells(family, t)[0], theta)


def _posterior(family: str, spells: StayLikelihood, prior_mean: np.ndarray,
               prior_sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum a posteriori log parameters under a normal prior, and their covariance."""

    def with_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        penalty = 0.5 * float((((theta - prior_mean) / prior_sd) ** 2).sum())
        gradient = (theta - prior_mean) / prior_sd**2
        if not len(spells):
            return penalty, gradient
        value, data_gradient = spells(family, theta)
        return value + penalty, data_gradient + gradient

    def objective(theta: np.ndarray) -> float:
        return with_gradient(theta)[0]

    result = optimize.minimize(with_gradient, prior_mean, method="TNC", jac=True,
                               bounds=[_BOUNDS] * len(prior_mean))
    theta = result.x if np.isfinite(result.fun) and result.fun < 1e299 else prior_mean
    return theta, _covariance(objective, theta)


def _heterogeneity(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """Between-line spread ``tau`` of ``[log shape, log scale]`` by the method of moments.

    ``rows`` hold each well-observed line's own estimate, its sampling variances and its
    service's estimate (in the line's family); ``tau^2`` is the mean squared deviation
    less the mean sampling variance, floored, with defaults when fewer than three lines
    inform it.
    """
    tau = _DEFAULT_TAU.copy()
    for p, (floor, default) in enumerate(zip(_TAU_FLOOR, _DEFAULT_TAU, strict=True)):
        usable = [(own[-2 + p], var[-2 + p], prior[-2 + p]) for own, var, prior in rows
                  if len(own) > 1 or p == 1]
        if len(usable) < 3:
            tau[p] = default
            continue
        own, var, prior = (np.asarray(column) for column in zip(*usable, strict=True))
        spread = float(np.mean((own - prior) ** 2) - np.mean(var))
        tau[p] = float(np.clip(np.sqrt(max(spread, 0.0)), floor, 3.0))
    return tau


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
        Lines with fewer ended spells take their service's (or everyone's) family; every
        line's parameters are partially pooled toward its service's (module notes).
    history_start : date-like, optional
        First day of the record's history (spells running then are left truncated);
        default :func:`~forecastlib.demand.history.default_history_start`.
    level : float, default 0.95
        Coverage of the Kaplan-Meier bands.
    draws : int, default 40
        Parameter draws per line for the simulation (0: parameters held at their
        estimates).
    pooling : bool, default True
        Shrink each line toward its service by empirical Bayes (``False``: every line
        with ``min_events`` ended spells keeps its own maximum-likelihood fit, the others
        take their service's).

    Attributes
    ----------
    fits_ : DataFrame
        Per line: ``family``, ``shape``, ``scale``, ``aic``, ``mean_days``,
        ``median_days``, ``spells``, ``ended``, ``source`` (where the family comes from:
        ``"line"``, ``"service"`` or ``"all"``), ``credibility`` (the weight of the
        line's own data in its log scale, 0 to 1), ``scale_sd`` (posterior standard
        deviation of the log scale) and the AIC of every family tried (``aic_<family>``).
    survival_ : dict
        Per line, the Kaplan-Meier table: ``days``, ``survival``, ``lower``, ``upper``,
        ``at_risk``, ``ended``.
    tau_ : ndarray
        Estimated between-line spread of ``[log shape, log scale]`` (the pooling prior).
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
    >>> len(model.parameter_draws(("LAC Placements", "Residential homes"), seed=1))
    40
    """

    def __init__(
        self,
        families: tuple[str, ...] = ("exponential", "weibull", "lognormal", "loglogistic"),
        min_events: int = 10,
        history_start: object | None = None,
        level: float = 0.95,
        draws: int = 40,
        pooling: bool = True,
    ):
        self.families = families
        self.min_events = min_events
        self.history_start = history_start
        self.level = level
        self.draws = draws
        self.pooling = pooling

    def __repr__(self) -> str:
        fitted = f", lines={len(self.fits_)}" if hasattr(self, "fits_") else ""
        return (f"LengthOfStayModel(families={self.families}, min_events={self.min_events}, "
                f"draws={self.draws}, pooling={self.pooling}{fitted})")

    def fit(self, placements: pd.DataFrame, as_at: object,
            history: SpellHistory | None = None) -> LengthOfStayModel:
        """Fit every line of ``placements`` as at ``as_at``; returns ``self``.

        ``history``: the record's segments built once (:class:`SpellHistory`)."""
        unknown = set(self.families) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown families {sorted(unknown)}; choose from {list(FAMILIES)}")
        self.as_at_ = np.datetime64(pd.Timestamp(as_at).date(), "D")
        self.history_start_ = resolve_history_start(placements, self.as_at_,
                                                    self.history_start)
        history = SpellHistory.for_record(placements, history)  # lines coded as integers
        table = censor_capped_ends(segments(placements, history=history), placements)
        table["line"] = history.codes.lines(table["first_row"].to_numpy())[0]
        table = durations(table, self.as_at_, self.history_start_, carry=("line",))
        # A line whose spells all start after as_at borrows its service's (or the
        # record's) fit, so its future placements can be costed from their start.
        lines = history.codes.lines()[1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self._fit_table(table, lines)
        return self

    def _fit_table(self, table: pd.DataFrame, lines: list[tuple[str, str]]) -> None:
        """Fit each line of ``table`` (durations, its ``line`` column coding ``lines``)."""
        code = table.pop("line").to_numpy()
        event = table["event"].to_numpy()
        groups = {line: table.iloc[rows]
                  for line, rows in zip(lines, group_rows(code, len(lines)), strict=True)
                  if rows.size}
        services = sorted({line[0] for line in groups})
        of_service = np.array([services.index(line[0]) if line[0] in services else -1
                               for line in lines], dtype=np.int64)
        row_service = of_service[code] if len(code) else code
        events = np.bincount(row_service, weights=event, minlength=len(services))
        group_of = {service: service if events[i] >= self.min_events else "*"
                    for i, service in enumerate(services)}
        best_of: dict[str, _Fit] = {}
        fitted: dict[tuple[str, str], _Fit | None] = {}

        by_service = {service: table.iloc[np.flatnonzero(row_service == i)]
                      for i, service in enumerate(services)}
        group_spells: dict[str, StayLikelihood] = {}

        def spells_of(group: str) -> StayLikelihood:
            if group not in group_spells:
                group_spells[group] = _spells(
                    table if group == "*" else by_service.get(group, table.iloc[:0]))
            return group_spells[group]

        def group_fit(group: str, family: str | None) -> _Fit:
            """A service's (``"*"``: everyone's) fit, best or in ``family``; cached."""
            if family is None:
                if group not in best_of:
                    best_of[group], tried = _best_fit(spells_of(group), self.families)
                    fitted.update({(group, fit.family): fit for fit in tried})
                return best_of[group]
            if (group, family) not in fitted:
                fitted[(group, family)] = _fit_family(family, spells_of(group))
            return fitted[(group, family)] or group_fit(group, None)

        chosen, informed, self.survival_ = {}, [], {}
        for line in lines:
            frame = groups.get(line, table.iloc[:0])
            ended = int(frame["event"].sum())
            group = group_of.get(line[0], "*")
            spells = _spells(frame)
            if ended >= self.min_events:
                best, tried = _best_fit(spells, self.families)
                source, own = "line", _log_params(best)
                cov = _mle_covariance(best.family, spells, own)
                prior = _log_params(group_fit(group, best.family))
                if len(prior) == len(own):
                    informed.append((own, np.diag(cov), prior))
                else:
                    prior = own
            else:
                if table.empty:  # no spell started by as_at anywhere: nothing to fit
                    continue
                best, tried = group_fit(group, None), []
                source, own, cov = ("service" if group != "*" else "all"), None, None
                prior = _log_params(best)
            if len(frame) and ended:
                self.survival_[line] = _kaplan_meier(frame, self.level)
            chosen[line] = (best, tried, source, frame, spells, ended, own, cov, prior)
        self.tau_ = _heterogeneity(informed)
        rows, self._posterior, self._frozen = {}, {}, {}
        for line, (best, tried, source, frame, spells, ended, own, cov, prior) in chosen.items():
            prior_sd = self.tau_[-len(prior):]
            if own is not None and not self.pooling:
                theta = own
            elif own is not None:  # normal approximation: precision-weighted combination
                information = np.linalg.inv(cov)
                cov = np.linalg.inv(information + np.diag(1 / prior_sd**2))
                theta = cov @ (information @ own + prior / prior_sd**2)
            elif self.pooling:
                theta, cov = _posterior(best.family, spells, prior, prior_sd)
            else:
                theta, cov = prior, np.diag(prior_sd**2)
            self._posterior[line] = (best.family, theta, cov)
            fit = _Fit(best.family, float(np.exp(theta[0])) if len(theta) > 1 else None,
                       float(np.exp(theta[-1])), best.loglik, best.aic)
            frozen = self._frozen[line] = fit.frozen()
            rows[line] = {
                "family": fit.family, "shape": fit.shape, "scale": fit.scale,
                "aic": best.aic, "mean_days": float(frozen.mean()),
                "median_days": float(frozen.median()), "spells": len(frame),
                "ended": ended, "source": source,
                "credibility": float(np.clip(1 - cov[-1, -1] / prior_sd[-1] ** 2, 0, 1)),
                "scale_sd": float(np.sqrt(cov[-1, -1])),
                **{f"aic_{fit.family}": fit.aic for fit in tried},
            }
        self.fits_ = pd.DataFrame.from_dict(rows, orient="index")
        self.fits_.index = (pd.MultiIndex.from_tuples(self.fits_.index, names=LINE_KEYS)
                            if rows else pd.MultiIndex.from_arrays([[], []], names=LINE_KEYS))

    def parameter_draws(self, line: tuple[str, str], seed: int | None) -> StayDraws | None:
        """``draws`` parameter sets of a line's stay from its approximate posterior.

        Reproducible: stream ``(seed, line, "stays")``. ``None`` when ``draws`` is 0.
        """
        self._check_fitted()
        if self.draws <= 0 or line not in self._posterior:
            return None
        family, theta, cov = self._posterior[line]
        rng = stream(seed, line, "stays")
        values, vectors = np.linalg.eigh(cov)
        root = vectors * np.sqrt(np.maximum(values, 0.0))
        sampled = theta[None, :] + rng.standard_normal((self.draws, len(theta))) @ root.T
        sampled = np.clip(sampled, -12.0, 14.0)
        shape = np.exp(sampled[:, 0]) if len(theta) > 1 else np.ones(self.draws)
        return StayDraws(family, shape, np.exp(sampled[:, -1]))

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
