"""The prices of a line's new starts, as the simulation and the moments need them.

:class:`StartPrices` is the price side of :class:`~forecastlib.simulation.NewStarts`
(which inherits it): the pool records' net daily prices, each bootstrap resample's mean,
the moments of a re-trended price under a drawn inflation shift (a series in the shift,
or summed record by record), and each simulation's drawn inflation and common price
shock. It reads the ``pool``, ``bootstrap``, ``pool_years``, ``inflation``,
``inflation_sd`` and ``shock_variance`` of the object it is mixed into.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from forecastlib.accrual.rates import PriceTerms, price_terms

__all__ = ["StartPrices"]


class StartPrices:
    """Price tables of new starts (mixed into :class:`~forecastlib.simulation.NewStarts`)."""

    def market_terms(self, market: np.ndarray | None, simulations: int, days: np.ndarray,
                     parameters: bool = True
                     ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Each simulation's log price growth a day, its drawn shift of the yearly
        inflation (``None`` without parameter draws) and its common log price shock on
        each of ``days`` (``None`` without one), from the block's market draws
        (``market[0]`` inflation, ``market[1]`` shock; standard normals)."""
        slope = np.full(simulations, np.log1p(self.inflation) / 365.25)
        drawn = shock = None
        if parameters and market is not None:
            drawn = market[0, :simulations] * self.inflation_sd
            slope = slope + drawn / 365.25
            v0, v1 = self.shock_variance
            if v0 > 0 or v1 > 0:
                shock = (np.sqrt(v0 + v1 * days / 365.25)[None, :]
                         * market[1, :simulations, None])
        return slope, drawn, shock

    @cached_property
    def _price_moments(self) -> np.ndarray:
        """``mean(price y^j) / j!`` over each bootstrap resample's records (rows; one row,
        the pool, without a bootstrap), ``j = 0 .. 5``, ``y`` the records' years before
        ``as_at``: ``E[price exp(x y)] = sum_j moment_j x^j`` for a drawn inflation shift
        ``x``, used while ``|x y| <= 0.05`` (the remainder is then below 1e-10)."""
        resamples = (self.bootstrap if self.bootstrap is not None
                     else np.arange(len(self.pool))[None])
        order = np.arange(6)
        factorial = np.cumprod(np.maximum(order, 1))
        moments = np.empty((len(resamples), len(order)))
        for k, rows in enumerate(resamples):  # a loop over the resamples: memory in the pool
            net, years = self._net[rows], self.pool_years[rows]
            moments[k] = [(net * years**j).mean() / factorial[j] for j in order]
        return moments

    @cached_property
    def _net(self) -> np.ndarray:
        """Net daily price of each pool record (cost less income)."""
        terms = self._terms
        return (terms.cost_numerator / terms.cost_denominator
                - terms.income_per_week / 7.0)

    @cached_property
    def _bootstrap_mean(self) -> np.ndarray:
        """Mean net daily price of each bootstrap resample's records (one per resample;
        the resamples x pool prices are not kept)."""
        net = self._net
        return np.array([net[rows].mean() for rows in self.bootstrap])  # per resample

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

