"""Prices of new starts per line: an empirical, inflation-trended distribution.

The price of a new placement is drawn from the prices of the line's recent starts
(whole price records: unit cost, unit, hours or nights a week, weeks a year and
income, so that their joint shape is kept), brought to a common price base with a
yearly inflation rate and smoothed by a small log-normal jitter. Resampling recent
records keeps the heavy tail that drives overspends: a line whose recent starts
include GBP 10k-a-week placements will draw them at their observed frequency.

Inflation is estimated per service by least squares of log weekly cost on start date
with a fixed effect per line (by the within transformation,
:func:`within_slope`, bounded to [-5%, +15%] a year), or
given. A price drawn for a start on date ``d`` is the record's price at the ``as_at``
base times ``(1 + inflation) ** ((d - as_at) / 365.25)``.

**Uncertainty.** The inflation's standard error comes from the same regression
(``inflation_se_``, on ``log(1 + inflation)``); each simulation draws its own rate.
:meth:`PriceModel.bootstrap` resamples each line's pool ``draws`` times (the parameter
uncertainty of the price distribution). **Prices follow a market**: the residuals of
every start's log weekly cost (after its line's level and its service's trend) are
averaged by quarter into a price index, and a local-level model (``statsmodels``
``UnobservedComponents``: index = level + noise, level a random walk) separates market
movements from noise. The pool records are brought to the current smoothed level, and
new placements share one **common shock** per simulation: the current level's
uncertainty plus the random walk carried forward to their start (``market_``). In a
record whose prices just follow their trend the level's variance is estimated near
zero and nothing changes.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.statespace.mlemodel import MLEModel

from forecastlib.accrual.rates import price_terms
from forecastlib.demand.history import SpellHistory
from forecastlib.demand.record_codes import RecordCodes, group_rows, packed_lexsort
from forecastlib.lines import LINE_KEYS
from forecastlib.streams import stream

__all__ = ["PriceModel"]

_RECORD_COLUMNS = ["unit_cost", "unit", "units_per_week", "weeks_per_year", "income_per_week"]
_INFLATION_BOUNDS = (-0.05, 0.15)
#: Standard error of log(1 + inflation) where it cannot be estimated (too few starts).
_DEFAULT_INFLATION_SE = 0.02
#: Fewest quarters with starts for the market (price index) model, and its span.
_MIN_QUARTERS = 8
_INDEX_YEARS = 10


class _MarketIndex(MLEModel):
    """Local level with known sampling variance: ``index_q = level_q + e_q + u_q``.

    ``e_q`` has the quarter's known sampling variance (residual variance over its
    records), ``u_q`` an estimated extra noise, and the level is a random walk.
    """

    def __init__(self, endog: np.ndarray, sampling: np.ndarray):
        super().__init__(endog, k_states=1, initialization="diffuse")
        self["design", 0, 0] = 1.0
        self["transition", 0, 0] = 1.0
        self["selection", 0, 0] = 1.0
        self._sampling = np.asarray(sampling, dtype=float)
        self["obs_cov"] = np.zeros((1, 1, len(self._sampling)))

    @property
    def param_names(self) -> list[str]:
        return ["sigma2.noise", "sigma2.level"]

    @property
    def start_params(self) -> np.ndarray:
        return np.array([1e-4, 1e-4])

    def transform_params(self, unconstrained: np.ndarray) -> np.ndarray:
        return unconstrained**2

    def untransform_params(self, constrained: np.ndarray) -> np.ndarray:
        return constrained**0.5

    def update(self, params, **kwargs):
        params = super().update(params, **kwargs)
        self["obs_cov"] = (params[0] + self._sampling)[None, None, :]
        self["state_cov", 0, 0] = params[1]


def within_slope(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """Slope of ``y`` on ``x`` with a fixed effect per group, and its standard error.

    The least-squares fit of ``y = b x + a_g`` by the within transformation
    (Frisch-Waugh-Lovell): ``x`` and ``y`` centred in their group, ``b = sum(x y) /
    sum(x x)``, residual variance on ``n - 1 - groups`` degrees of freedom. The same
    numbers as ``statsmodels`` OLS on the trend and one indicator per group (to rounding),
    in memory linear in the rows instead of rows x groups. ``nan`` where ``x`` does not
    vary within any group or no degree of freedom is left.

    Examples
    --------
    >>> x = np.array([0.0, 1.0, 2.0, 0.0, 1.0, 2.0])
    >>> y = 0.05 * x + np.array([1.0, 1.0, 1.0, 3.0, 3.0, 3.0]) + [0, .01, 0, 0, -.01, 0]
    >>> slope, se = within_slope(y, x, np.array([0, 0, 0, 1, 1, 1]))
    >>> round(slope, 6), round(se, 6)
    (0.05, 0.003333)
    """
    counts = np.bincount(groups)
    xc = x - (np.bincount(groups, weights=x) / counts)[groups]
    yc = y - (np.bincount(groups, weights=y) / counts)[groups]
    sxx = float(xc @ xc)
    dof = len(y) - 1 - int((counts > 0).sum())
    if sxx <= 0 or dof <= 0:
        return np.nan, np.nan
    slope = float(xc @ yc) / sxx
    residual = yc - slope * xc
    return slope, float(np.sqrt(float(residual @ residual) / dof / sxx))


class PriceModel:
    """Empirical prices of new starts per line.

    Parameters
    ----------
    window_years : float, default 3
        Starts within this many years before ``as_at`` form a line's price pool; a line
        with fewer than ``min_records`` there uses all its starts, then its open
        placements.
    min_records : int, default 10
    inflation : float or dict, optional
        Yearly price inflation for all lines or per service; estimated when ``None``.
    jitter : float, default 0.05
        Log-normal smoothing of resampled prices (0 for a plain bootstrap).
    draws : int, default 40
        Bootstrap resamples of each pool for parameter uncertainty (0 for none).
    market : bool, default True
        Estimate the common price index (level and shock); ``False`` leaves prices on
        their inflation trend with no common shock.

    Attributes
    ----------
    inflation_ : dict
        Yearly inflation per service.
    inflation_se_ : dict
        Standard error of ``log(1 + inflation)`` per service (0 when given).
    pool_years_ : dict
        Per line, years from each pool record's start to ``as_at``.
    market_ : dict
        ``level`` (current smoothed log index, applied to the pools), ``variance_now``
        (its variance at ``as_at``), ``variance_per_year`` (the random walk's),
        ``quarters`` (of index) and ``noise_variance``.
    index_ : DataFrame
        The quarterly price index: ``years_before``, ``index``, ``records``, ``level``.
    pools_ : dict
        Per line, the price records (at the ``as_at`` price base) drawn from.
    summary_ : DataFrame
        Per line: ``records``, ``source``, weekly-cost quantiles ``p10``, ``p50``,
        ``p90``, ``p99``, ``max`` and ``mean``.

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> sample = load_sample()
    >>> prices = PriceModel().fit(sample.placements, sample.as_at)
    >>> drawn = prices.sample(("LAC Placements", "Residential homes"), 1000,
    ...                       np.random.default_rng(0))
    >>> sorted(drawn.columns) == sorted(["unit_cost", "unit", "units_per_week",
    ...     "weeks_per_year", "income_per_week"])
    True
    >>> prices.bootstrap(("LAC Placements", "Residential homes"), seed=1).shape[0]
    40
    """

    def __init__(self, window_years: float = 3.0, min_records: int = 10,
                 inflation: float | dict[str, float] | None = None, jitter: float = 0.05,
                 draws: int = 40, market: bool = True):
        self.window_years = window_years
        self.min_records = min_records
        self.inflation = inflation
        self.jitter = jitter
        self.draws = draws
        self.market = market

    def __repr__(self) -> str:
        fitted = f", lines={len(self.pools_)}" if hasattr(self, "pools_") else ""
        return (f"PriceModel(window_years={self.window_years}, inflation={self.inflation!r}, "
                f"jitter={self.jitter}, draws={self.draws}, market={self.market}{fitted})")

    def fit(self, placements: pd.DataFrame, as_at: object,
            history: SpellHistory | None = None) -> PriceModel:
        """Build each line's price pool; returns ``self``.

        ``history``: the record's segments built once (:class:`SpellHistory`)."""
        self.as_at_ = np.datetime64(pd.Timestamp(as_at).date(), "D")
        history = SpellHistory.for_record(placements, history)  # strings factorised once
        codes = history.codes
        table = history.segments  # the first rows of line_starts: not entered by a move
        start_rows = table["first_row"].to_numpy()[~table["moved_in"].to_numpy(dtype=bool)]
        columns = [*LINE_KEYS, "start_date", *_RECORD_COLUMNS]  # what the pools need
        first_rows = _first_rows(placements, start_rows, codes)
        del start_rows
        first = placements[["start_date", *_RECORD_COLUMNS]].take(first_rows)  # one copy
        first_line, lines = codes.lines(first_rows)
        first_service, first_category = codes.service[first_rows], codes.category[first_rows]
        del first_rows
        first["weekly_cost"] = price_terms(first).weekly_cost
        first["years_before"] = (
            (self.as_at_ - first["start_date"].to_numpy(dtype="datetime64[D]")).astype(int)
            / 365.25)
        begun = first["years_before"].to_numpy() >= 0
        started = first.loc[begun, ["weekly_cost", "years_before"]]  # what the trend and
        started_line, started_service = first_line[begun], first_service[begun]  # index use
        inflation, inflation_se = self._inflation(started, started_service,
                                                  first_category[begun], codes.services)
        # A service whose placements all start after as_at has no trend to learn.
        later = dict.fromkeys(codes.services[pd.unique(first_service)].tolist(), 0.0)
        self.inflation_ = {**later, **inflation}
        self.inflation_se_ = {**{service: 0.02 for service in later}, **inflation_se}
        level_at = self._market(started, started_line, started_service, codes.services)
        del started  # the line loop below copies blocks of `first`: free this one first
        self.pools_, self.pool_years_, rows = {}, {}, {}
        open_now = _OpenByLine(placements, self.as_at_, columns)
        for line, line_rows in zip(lines, group_rows(first_line, len(lines)), strict=True):
            block = first.iloc[line_rows]
            recent = block[(block["years_before"] >= 0)
                           & (block["years_before"] <= self.window_years)]
            source = "recent starts"
            if len(recent) < self.min_records:
                recent, source = block[block["years_before"] >= 0], "all starts"
            if len(recent) < self.min_records:
                current = open_now.of(line)
                if len(current) > len(recent):
                    current["years_before"] = 0.0
                    recent, source = current, "open placements"
            if recent.empty:
                continue
            years = recent["years_before"].to_numpy()
            growth = (1 + self.inflation_[line[0]]) ** years * level_at(years)
            pool = recent[_RECORD_COLUMNS].reset_index(drop=True)
            self.pool_years_[line] = years.astype(float)
            pool["unit_cost"] = pool["unit_cost"].to_numpy() * growth
            pool["income_per_week"] = pool["income_per_week"].to_numpy() * growth
            self.pools_[line] = pool
            weekly = price_terms(pool).weekly_cost
            rows[line] = {"records": len(pool), "source": source,
                          **{f"p{q}": float(np.quantile(weekly, q / 100))
                             for q in (10, 50, 90, 99)},
                          "max": float(weekly.max()), "mean": float(weekly.mean())}
        self.summary_ = pd.DataFrame.from_dict(rows, orient="index")
        self.summary_.index = pd.MultiIndex.from_tuples(self.summary_.index, names=LINE_KEYS)
        return self

    def _inflation(self, started: pd.DataFrame, service: np.ndarray, category: np.ndarray,
                   names: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
        """Each service's yearly inflation and its standard error; ``service`` and
        ``category`` are the started rows' codes, ``names`` the services they index."""
        services = sorted(names[np.unique(service)].tolist())
        if isinstance(self.inflation, dict):
            return ({s: float(self.inflation.get(s, 0.0)) for s in services},
                    dict.fromkeys(services, 0.0))
        if self.inflation is not None:
            return {s: float(self.inflation) for s in services}, dict.fromkeys(services, 0.0)
        rates, errors = {}, {}
        cost = started["weekly_cost"].to_numpy()
        years = started["years_before"].to_numpy(dtype=float)
        priced = cost > 0
        code_of = {name: code for code, name in enumerate(names)}
        for name in services:  # each service's priced rows, in order (no copy of all)
            rows = np.flatnonzero(priced & (service == code_of[name]))
            if rows.size < 20 or pd.Series(years[rows]).std() == 0:
                rates[name], errors[name] = 0.0, _DEFAULT_INFLATION_SE
                continue
            slope, se = within_slope(np.log(cost[rows]), -years[rows],
                                     pd.factorize(category[rows])[0])
            rates[name] = float(np.clip(np.expm1(slope), *_INFLATION_BOUNDS))
            errors[name] = se if np.isfinite(se) else _DEFAULT_INFLATION_SE
        return rates, errors

    def _market(self, started: pd.DataFrame, line: np.ndarray, service: np.ndarray,
                names: np.ndarray):
        """Fit the quarterly price index; return the level factor at ``years_before``.

        ``line`` and ``service`` are the started rows' codes, ``names`` the services."""
        self.market_ = {"level": 0.0, "variance_now": 0.0, "variance_per_year": 0.0,
                        "quarters": 0, "noise_variance": 0.0}
        self.index_ = pd.DataFrame(columns=["years_before", "index", "records", "level"])
        cost = started["weekly_cost"].to_numpy()
        priced = cost > 0
        if not self.market or not priced.any():
            return lambda years: np.ones(len(years))
        years = started["years_before"].to_numpy()[priced]
        rate = np.array([self.inflation_.get(name, np.nan) for name in names], dtype=float)
        growth = np.log1p(rate[service[priced]])
        detrended = np.log(cost[priced]) + growth * years
        residual = detrended - pd.Series(detrended).groupby(line[priced]).transform(
            "mean").to_numpy()
        quarter = np.floor(years * 4).astype(int)
        recent = quarter < 4 * _INDEX_YEARS
        table = pd.DataFrame({"quarter": quarter[recent], "residual": residual[recent]}).groupby(
            "quarter")["residual"].agg(["mean", "size"])
        if len(table) < _MIN_QUARTERS:
            return lambda years: np.ones(len(years))
        table = table.reindex(range(int(table.index.max()), -1, -1))  # oldest first
        sampling = float(np.var(residual[recent])) / table["size"].fillna(1).to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = _MarketIndex(table["mean"].to_numpy(), sampling).fit(disp=False)
            except (ValueError, np.linalg.LinAlgError):
                return lambda years: np.ones(len(years))
        smoothed = np.asarray(result.smoothed_state[0])
        level = float(result.filtered_state[0, -1])
        per_year = 4 * max(float(result.params[1]), 0.0)
        self.market_ = {
            "level": level,
            # the last quarter's middle is an eighth of a year before as_at
            "variance_now": float(result.filtered_state_cov[0, 0, -1]) + per_year / 8,
            "variance_per_year": per_year, "quarters": int(table["mean"].notna().sum()),
            "noise_variance": float(result.params[0])}
        self.index_ = pd.DataFrame({"years_before": (table.index.to_numpy() + 0.5) / 4,
                                    "index": table["mean"].to_numpy(),
                                    "records": table["size"].fillna(0).to_numpy(dtype=int),
                                    "level": smoothed})
        quarters = table.index.to_numpy()

        def level_at(years: np.ndarray) -> np.ndarray:
            position = np.searchsorted(-quarters, -np.floor(np.asarray(years) * 4).astype(int))
            position = np.clip(position, 0, len(quarters) - 1)
            return np.exp(level - smoothed[position])

        return level_at

    def bootstrap(self, line: tuple[str, str], seed: int | None) -> np.ndarray | None:
        """``draws`` bootstrap resamples of a line's pool (row positions, one row each).

        Reproducible: stream ``(seed, line, "parameters", 1)``. ``None`` when ``draws``
        is 0 or the line has no pool.
        """
        if self.draws <= 0 or line not in self.pools_:
            return None
        size = len(self.pools_[line])
        positions = stream(seed, line, "parameters", 1).integers(0, size, (self.draws, size))
        # kept for the whole simulation: int32 halves it (the same positions)
        return positions.astype(np.int32) if size < 2**31 else positions

    def sample(self, line: tuple[str, str], size: int, rng: np.random.Generator,
               start_dates: np.ndarray | None = None) -> pd.DataFrame:
        """Draw ``size`` price records for new starts in ``line``.

        ``start_dates`` (``datetime64``, length ``size``) trend each price from the
        ``as_at`` base to its start date.
        """
        if not hasattr(self, "pools_"):
            raise RuntimeError("PriceModel is not fitted yet: call fit() first")
        if line not in self.pools_:
            raise KeyError(f"no prices for line {line!r}: it has no placements to learn from")
        pool = self.pools_[line]
        picked = pool.iloc[rng.integers(0, len(pool), size)].reset_index(drop=True)
        factor = np.exp(rng.normal(-self.jitter**2 / 2, self.jitter, size)) if self.jitter else 1
        if start_dates is not None:
            years = (np.asarray(start_dates, dtype="datetime64[D]") - self.as_at_).astype(
                int) / 365.25
            factor = factor * (1 + self.inflation_[line[0]]) ** years
        picked["unit_cost"] = picked["unit_cost"].to_numpy() * factor
        picked["income_per_week"] = picked["income_per_week"].to_numpy() * factor
        return picked


class _OpenByLine:
    """The placements open at ``as_at``, by line: grouped once, when first asked for."""

    def __init__(self, placements: pd.DataFrame, as_at: np.datetime64, columns: list[str]):
        self.placements, self.as_at, self.columns = placements, as_at, columns
        self.rows: dict | None = None

    def of(self, line: tuple[str, str]) -> pd.DataFrame:
        """The open placements of ``line``, in the record's order (a copy)."""
        if self.rows is None:
            end = self.placements["end_date"]
            is_open = (end.isna() | (end >= pd.Timestamp(self.as_at))).to_numpy(dtype=bool)
            positions = np.flatnonzero(is_open)
            keys = self.placements[LINE_KEYS].iloc[positions]
            self.rows = {key: positions[rows] for key, rows in
                         keys.groupby(LINE_KEYS, sort=False).indices.items()}
        rows = self.rows.get(line, np.zeros(0, dtype=np.int64))
        return self.placements[self.columns].iloc[rows].copy()


def _first_rows(placements: pd.DataFrame, start_rows: np.ndarray,
                codes: RecordCodes | None = None) -> np.ndarray:
    """Row position of the first episode of each start (the price it started at).

    ``start_rows`` are the starts' first episodes (:func:`line_starts`'s ``first_row``);
    two episodes of one client starting on the same day in one line are one start, and
    its first row is the earlier in the file (the order :func:`spells` keeps).
    ``codes``: the record's (:attr:`SpellHistory.codes`), factorised here if not given.
    """
    codes = codes if codes is not None else RecordCodes.of(placements)
    day = placements["start_date"].to_numpy(dtype="datetime64[D]").view(np.int64)
    # rows sorted by (service, category, client, start day), ties in file order: the
    # first row of each run of equal keys is its earliest
    order = packed_lexsort([day, codes.client, codes.category, codes.service])
    if not order.size:
        return np.zeros(0, dtype=np.int64)
    changes = np.zeros(order.size, dtype=bool)
    changes[0] = True
    for key in (codes.service, codes.category, codes.client, day):
        ordered = key[order]
        changes[1:] |= ordered[1:] != ordered[:-1]
    heads = np.flatnonzero(changes)
    first = np.empty(order.size, dtype=np.int64)
    first[order] = np.repeat(order[heads], np.diff(np.append(heads, order.size)))
    return first[np.asarray(start_rows, dtype=np.int64)]
