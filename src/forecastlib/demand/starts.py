"""New starts per line: count regressions and a local level, stacked, with honest uncertainty.

Monthly counts of new spells per line are projected by a mixture of candidates:

- count regressions (Poisson or negative binomial NB2, with or without a trend)
  ``log mu_t = log E_t + b0 + b1 tau_t + seasonal harmonics (+ d 1[t >= t0])`` where
  ``tau`` is time in years, ``E`` an optional exposure, and the step ``d`` from month
  ``t0`` enters only when :func:`~forecastlib.demand.level.step_change` finds a sustained
  shift in the last 3-12 months;
- ``"level"``: the Poisson-gamma local level of :mod:`forecastlib.demand.level` times the
  line's seasonal shape, which follows a level that wanders.

Each candidate is refitted at several rolling origins (``origins``, every
``validation_months`` months, at least three when the line has ``min_months`` of history)
and scored on the following months by log score; the candidates are **stacked**: mixture
weights maximising the held-out log score of the mixture (Yao et al. 2018), learnt by EM.
Each simulation draws one candidate by its weight.

Simulations carry the uncertainty a finance user should see: the regressions'
coefficients drawn from their sampling distribution, the level's current value and its
moves until the horizon (state innovations carried forward), and a **common shock**
shared by lines (:class:`~forecastlib.demand.shocks.CommonShock`, estimated from the
cross-line covariance of the residuals) drawn once per simulation. Its current value,
filtered from the lines' summed recent residuals, moves every line of the service: when
lines move together, their sum tells the shared movement better than each line's own few
starts.

Short and lumpy histories fall back to something bounded, with a note in ``notes_``:
single days whose starts are far above the line's usual month are bulk loads (a
migration or re-coding, not demand) and are left out; months before a new code's first
start are not its history; a line with under ``min_starts`` starts follows its own
level at the pace of its service's (the local level's discount fitted to the service's
summed starts), one with under ``min_months`` months gets the local level alone (no
trend), under a year a flat rate; and every projected rate is capped at
``cap_multiple`` times the largest monthly count seen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.demand.history import (
    SpellHistory,
    default_history_start,
    line_starts,
    monthly_starts,
)
from forecastlib.demand.level import fit_local_level
from forecastlib.demand.service_pace import service_discounts, service_seasons
from forecastlib.demand.shocks import CommonShock, shift_levels
from forecastlib.demand.stacking import Stacker, drift_variance
from forecastlib.demand.start_candidates import (
    CANDIDATES,
    CandidateFit,
    CandidateFitter,
    month_index,
    summarise_fits,
)
from forecastlib.demand.start_checks import bulk_loads, history_begins
from forecastlib.demand.start_exposure import exposure_table, log_offset
from forecastlib.demand.start_projection import StartsProjection
from forecastlib.lines import LINE_KEYS

__all__ = ["StartsModel"]

_LineFit = CandidateFit  # the name datasets.truth builds oracle fits with

class StartsModel(StartsProjection):
    """Monthly new starts per line, stacked over candidates, with honest uncertainty.

    Parameters
    ----------
    harmonics : int, default 1
        Pairs of sine / cosine terms of the month-of-year seasonality (0 for none).
    candidates : tuple of str
        From ``"negbin_trend"``, ``"negbin"``, ``"poisson_trend"``, ``"poisson"`` and
        ``"level"``.
    origins : int, default 4
        Rolling origins of the backtest, ``validation_months`` apart, each with at least
        ``min_train`` months before it.
    validation_months, min_train : int, default 6 and 18
        Months scored after each origin; months of history before the first origin.
    min_starts, min_months : int, default 24 and 36
        Below ``min_starts`` starts a line uses its own level, filtered at the discount
        of its service's summed starts (flat if the service is steady), and the
        service's seasonal shape; below ``min_months`` months the local level alone (no
        trend); below 12 months a flat rate.
    cap_multiple : float, default 3
        Projected rates never exceed this multiple of the line's largest monthly count.
    step_threshold : float, default 10
        Score statistic a recent step must reach to enter a regression.
    common : bool, default True
        Estimate the shock shared by lines (zero where residuals do not co-move), and
        move each service's lines by its current value (``level_shift_``).
    bulk_min, bulk_ratio : float, default 10 and 4
        A day with at least ``bulk_min`` starts and more than ``bulk_ratio`` times the
        line's mean month (without that day) is a bulk load, not demand.
    growth : float or dict, optional
        Override of the fitted trend: yearly growth (``0.22`` for +22%) of the start
        rate from the last month of data, for every line or per line.
    history_start : date-like, optional
        First month of the history (default: from the record, see
        :func:`~forecastlib.demand.history.default_history_start`).

    Attributes
    ----------
    counts_ : DataFrame
        Monthly start counts per line (columns are months), bulk loads left out.
    fits_ : DataFrame
        Per line: ``model`` (the candidate of largest weight, ``"pooled"`` or ``"zero"``),
        ``starts``, ``months``, ``rate_per_month`` (next 12 months), ``trend_per_year``,
        ``dispersion``, ``step_months``, ``level_discount``, ``cap``, ``weight_<c>`` and
        ``score_<c>`` (mean held-out log score) per candidate, and ``note``.
    common_ : CommonShock
        The estimated shared shock.
    level_shift_ : dict
        Per service, the log factor its lines' projected rates were multiplied by: the
        shared shock's current value filtered from their summed residuals
        (:meth:`~forecastlib.demand.shocks.CommonShock.current`; 0 with ``common``
        off or where lines do not move together).
    drift_ : float
        Monthly variance of the random walk in every line's log level that the
        rolling-origin totals show beyond the model's own (0 on steady lines).
    bulk_loads_ : DataFrame
        Days left out as bulk loads (``service``, ``category``, ``date``, ``starts``).
    notes_ : list of str
        What was done to short or lumpy lines, in words.

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
        origins: int = 4,
        validation_months: int = 6,
        min_train: int = 18,
        min_starts: int = 24,
        min_months: int = 36,
        cap_multiple: float = 3.0,
        step_threshold: float = 10.0,
        common: bool = True,
        bulk_min: float = 10,
        bulk_ratio: float = 4.0,
        growth: float | dict[tuple[str, str], float] | None = None,
        history_start: object | None = None,
    ):
        self.harmonics = harmonics
        self.candidates = candidates
        self.origins = origins
        self.validation_months = validation_months
        self.min_train = min_train
        self.min_starts = min_starts
        self.min_months = min_months
        self.cap_multiple = cap_multiple
        self.step_threshold = step_threshold
        self.common = common
        self.bulk_min = bulk_min
        self.bulk_ratio = bulk_ratio
        self.growth = growth
        self.history_start = history_start

    def __repr__(self) -> str:
        fitted = f", lines={len(self.fits_)}" if hasattr(self, "fits_") else ""
        return (f"StartsModel(harmonics={self.harmonics}, candidates={self.candidates}, "
                f"origins={self.origins}, growth={self.growth!r}{fitted})")

    # ------------------------------------------------------------------ fitting
    def fit(self, placements: pd.DataFrame, as_at: object,
            exposure: pd.DataFrame | None = None,
            history: SpellHistory | None = None) -> StartsModel:
        """Fit every line from the spells in ``placements``; returns ``self``.

        ``exposure``, if given, is indexed like :attr:`counts_` (lines x months, and
        may run beyond the data to give future exposure) or by service only.
        ``history``: the record's segments built once (:class:`SpellHistory`).
        """
        history_start = (default_history_start(placements) if self.history_start is None
                         else self.history_start)
        spell_table = line_starts(placements, history=history)
        counts = monthly_starts(spell_table, as_at, history_start,
                                codes=None if history is None else history.of(placements).codes)
        bulk = bulk_loads(spell_table, counts.columns, self.bulk_min, self.bulk_ratio)
        return self._fit_table(counts, exposure, bulk)

    def fit_counts(self, counts: pd.DataFrame, exposure: pd.DataFrame | None = None
                   ) -> StartsModel:
        """Fit from a lines x months table of start counts (columns: monthly periods)."""
        return self._fit_table(counts, exposure, bulk_loads(None, counts.columns))

    def _fit_table(self, counts: pd.DataFrame, exposure: pd.DataFrame | None,
                   bulk: pd.DataFrame) -> StartsModel:
        unknown = set(self.candidates) - set(CANDIDATES)
        if unknown or not self.candidates:
            raise ValueError(f"unknown candidates {sorted(unknown)}; choose from {CANDIDATES}")
        counts = counts.copy()
        months = pd.PeriodIndex(counts.columns, freq="M")
        if len(months) == 0:
            raise ValueError("no complete month of start history before as_at: new starts "
                             "cannot be learnt (give an earlier history_start or a later "
                             "as_at)")
        bulk_notes: dict[tuple[str, str], str] = {}
        for (service, category), days in bulk.groupby(LINE_KEYS, sort=False):
            removed = days.groupby("month")["starts"].sum()
            for month, starts in removed.items():
                counts.loc[(service, category), month] -= starts
            bulk_notes[(service, category)] = (
                f"{int(days['starts'].sum())} starts on "
                f"{', '.join(str(d) for d in days['date'][:3])} look like a bulk load "
                "(migration or re-coding), not demand: left out of the start rate.")
        self.bulk_loads_ = bulk.drop(columns="month").reset_index(drop=True)
        self.counts_ = counts
        self.months_ = months
        self.origin_ = months[-1] if len(months) else None
        self.exposure_ = exposure_table(exposure, counts.index, months)
        self._fitter = CandidateFitter(self.origin_, self.harmonics, self.step_threshold)
        self._stacker = Stacker(self._fitter, tuple(self.candidates), self.origins,
                                self.validation_months, self.min_train)
        pooled = service_seasons(counts, months, self.origin_, self.harmonics,
                                 self.min_starts)
        discounts = service_discounts(counts, months, pooled, self.min_starts)
        self._fits: dict[tuple[str, str], CandidateFit] = {}
        for line in counts.index:
            fit = self._fit_line(line, counts.loc[line].to_numpy(dtype=float),
                                 pooled.get(line[0], np.ones(12)), discounts.get(line[0]))
            fit.note = " ".join(filter(None, [bulk_notes.get(line, ""), fit.note]))
            self._fits[line] = fit
        self._note_caps()
        self.common_ = self._common_shock(counts) if self.common else CommonShock()
        self.level_shift_ = self.common_.current(*self._fitted_means(counts),
                                                 [line[0] for line in self._fits])
        shift_levels(self._fits, self.level_shift_)
        self.drift_ = drift_variance([fit.backtest for fit in self._fits.values()
                                      if fit.backtest is not None], self.validation_months)
        self.fits_ = summarise_fits(self._fits, self.candidates, self.months_,
                                    self.origin_, self.expected(12))
        self.notes_ = [f"{line[0]} / {line[1]}: {fit.note}"
                       for line, fit in self._fits.items() if fit.note]
        return self

    def _fit_line(self, line: tuple[str, str], counts: np.ndarray, pooled_season: np.ndarray,
                  discount: float | None = None) -> CandidateFit:
        months, offset = self.months_.asi8, log_offset(self.exposure_, line, self.months_)
        first, trimmed = history_begins(counts)
        notes = []
        if trimmed:
            notes.append(f"no start before {self.months_[first]}: a new line, its history taken "
                         "from then.")
        counts, months, offset = counts[first:], months[first:], offset[first:]
        events, size = float(counts.sum()), len(counts)
        if events == 0:
            return CandidateFit("zero", exposure_months=float(size), note=" ".join(notes))
        cap = self.cap_multiple * max(float(counts.max()), 1.0)
        common = dict(events=events, exposure_months=float(np.exp(offset).sum()), cap=cap,
                      shared=True, first=self.months_[first])
        if events < self.min_starts or size < 12:
            if size < 12:
                notes.append(f"only {size} months of history: a flat rate, no trend or level.")
            fit = CandidateFit("pooled", pooled_season=pooled_season, **common)
            scale = pooled_season[month_index(months)] * np.exp(offset)
            if size >= 12 and discount is not None and discount < 1.0:
                # too few starts to learn its own dynamics: the line's level filtered
                # at the service's discount, so it follows a drop or a rise as the
                # service's demand does (a steady service keeps the flat rate)
                fit.level, fit.fitted = fit_local_level(counts, scale,
                                                        discounts=np.array([discount]))
            else:
                fit.fitted = events / common["exposure_months"] * scale
        elif size < self.min_months or self.candidates == ("level",):
            if size < self.min_months:
                notes.append(f"{size} months of history: the local level alone, no trend.")
            season = self._fitter.season(counts, months, offset, pooled_season)
            fit = self._fitter.local_level(counts, months, offset, season)
            fit.__dict__.update(common)
        else:
            fit = self._stacker.fit(counts, months, offset, pooled_season, common)
        fit.note = " ".join(notes + ([fit.note] if fit.note else []))
        return fit

    def _note_caps(self) -> None:
        """Say where the next year's projected rate reaches the line's cap."""
        if self.origin_ is None:
            return
        months = self.future_months(12)
        for line, fit in self._fits.items():
            raw = sum(item.weight * self._component_mean(line, item, months)
                      for item in fit.components)
            if np.max(raw) > fit.cap:
                fit.note = " ".join(filter(None, [
                    fit.note, f"projected rate up to {np.max(raw):.3g} a month capped at "
                    f"{fit.cap:g} ({self.cap_multiple:g} x the largest month seen)."]))

    def _fitted_means(self, counts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Counts and the lines' fitted means (``NaN`` where a line has none)."""
        values = counts.to_numpy(dtype=float)
        means = np.full(values.shape, np.nan)
        for row, fit in enumerate(self._fits.values()):
            if fit.fitted is not None and fit.shared and len(fit.fitted) >= 24:
                means[row, len(self.months_) - len(fit.fitted):] = fit.fitted
        return values, means

    def _common_shock(self, counts: pd.DataFrame) -> CommonShock:
        return CommonShock.estimate(*self._fitted_means(counts),
                                    [line[0] for line in self._fits])

    # --------------------------------------------------------------- projection
