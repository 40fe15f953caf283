"""The prices of a line's new starts, as the simulation and the moments need them.

:class:`StartPrices` is the price side of :class:`~forecastlib.simulation.NewStarts`
(which inherits it): the pool records' net daily prices, each bootstrap resample's mean,
the moments of a re-trended price under a drawn inflation shift (a series in the shift,
or summed record by record), and each simulation's drawn inflation and common price
shock. It reads the ``pool``, ``bootstrap``, ``pool_years``, ``inflation``,
``inflation_sd`` and ``shock_variance`` of the object it is mixed into.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

import numpy as np

from forecastlib.accrual.rates import PriceTerms, price_terms

__all__ = ["StartPrices"]


class StartPrices:
    """Price tables of new starts (mixed into :class:`~forecastlib.simulation.NewStarts`)."""

    def market_terms(self, market: np.ndarray | None, simulations: int, days: np.ndarray,
                     parameters: bool = True, dtype: type = np.float64
                     ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Each simulation's log price growth a day, its drawn shift of the yearly
        inflation (``None`` without parameter draws) and its common log price shock on
        each of ``days`` (``None`` without one; in ``dtype``), from the block's market
        draws (``market[0]`` inflation, ``market[1]`` shock; standard normals)."""
        slope = np.full(simulations, np.log1p(self.inflation) / 365.25)
        drawn = shock = None
        if parameters and market is not None:
            drawn = market[0, :simulations] * self.inflation_sd
            slope = slope + drawn / 365.25
            v0, v1 = self.shock_variance
            if v0 > 0 or v1 > 0:
                root = np.sqrt(v0 + v1 * days / 365.25).astype(dtype, copy=False)
                shock = np.multiply.outer(market[1, :simulations].astype(dtype, copy=False),
                                          root)
        return slope, drawn, shock

    def _resample_chunks(self) -> Iterator[np.ndarray]:
        """The bootstrap resamples (rows of pool records; the pool itself, one row,
        without a bootstrap), a few at a time: about a million records a chunk."""
        resamples = (self.bootstrap if self.bootstrap is not None
                     else np.arange(len(self.pool))[None])
        step = max(1, 2**20 // max(resamples.shape[1], 1))
        for low in range(0, len(resamples), step):  # a loop over chunks of resamples
            yield resamples[low:low + step]

    @cached_property
    def _price_moments(self) -> np.ndarray:
        """``mean(price y^j) / j!`` over each bootstrap resample's records (rows; one row,
        the pool, without a bootstrap), ``j = 0 .. 5``, ``y`` the records' years before
        ``as_at``: ``E[price exp(x y)] = sum_j moment_j x^j`` for a drawn inflation shift
        ``x``, used while ``|x y| <= 0.05`` (the remainder is then below 1e-10)."""
        order = np.arange(6)
        factorial = np.cumprod(np.maximum(order, 1))
        parts = [np.empty((0, len(order)))]
        for rows in self._resample_chunks():
            net, years = self._net[rows], self.pool_years[rows]
            parts.append(np.stack([(net * years**j).mean(axis=1) / factorial[j]
                                   for j in order], axis=1))
        return np.concatenate(parts)

    @cached_property
    def _pool_mean(self) -> float:
        """Mean net daily price of the pool's records (0 without records)."""
        return float(self._net.mean()) if len(self.pool) else 0.0

    @cached_property
    def _net(self) -> np.ndarray:
        """Net daily price of each pool record (cost less income)."""
        terms = self._terms
        return (terms.cost_numerator / terms.cost_denominator
                - terms.income_per_week / 7.0)

    @cached_property
    def _bootstrap_mean(self) -> np.ndarray:
        """Mean net daily price of each bootstrap resample's records (one per resample),
        a chunk of resamples at a time."""
        return np.concatenate([np.empty(0)] + [self._net[rows].mean(axis=1)
                                               for rows in self._resample_chunks()])

    def summed_price_power(self, power: int, rows: np.ndarray | None, drawn: np.ndarray
                           ) -> np.ndarray:
        """``mean(net^p exp(p x y))`` over each simulation's records (bootstrap resample
        ``rows[s]``, or the whole pool with ``None``), ``x = drawn[s]`` the simulation's
        inflation shift and ``y`` the records' years before ``as_at``, summed record by
        record a chunk of simulations at a time (memory: a chunk x pool, not
        simulations x pool). The exact form where a series in ``p x`` would not converge
        fast enough."""
        shift = power * drawn
        out = np.empty(len(drawn))
        step = max(1, (1 << 22) // max(len(self.pool), 1))
        for low in range(0, len(drawn), step):  # a loop over chunks of simulations
            part = slice(low, low + step)
            pool = (self.bootstrap[rows[part]] if rows is not None
                    else np.arange(len(self.pool))[None])
            out[part] = ((self._net[pool] ** power)
                         * np.exp(shift[part, None] * self.pool_years[pool])).mean(axis=1)
        return out

    @cached_property
    def _terms(self) -> PriceTerms:
        return price_terms(self.pool)

