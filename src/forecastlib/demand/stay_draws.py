"""Draws of a line's length-of-stay parameters: K distributions of one family.

Parameter uncertainty of the stays enters the simulation as ``K`` draws of a line's
parameters from their approximate posterior (:class:`~forecastlib.demand.LengthOfStayModel`);
simulation ``s`` uses draw ``s mod K``. All draws share the line's family, so survival
and inverse survival are closed forms evaluated with per-element parameters, for every
placement and simulation at once:

=============  ===========================  ===============================
family         ``S(t)``                     ``S^{-1}(q)``
=============  ===========================  ===============================
exponential    ``exp(-t / b)``              ``-b log q``
weibull        ``exp(-(t / b)^c)``          ``b (-log q)^(1/c)``
lognormal      ``Phi(-log(t / b) / c)``     ``b exp(-c Phi^{-1}(q))``
loglogistic    ``1 / (1 + (t / b)^c)``      ``b ((1 - q) / q)^(1/c)``
=============  ===========================  ===============================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

__all__ = ["StayDraws"]

_SCIPY = {"exponential": stats.expon, "weibull": stats.weibull_min,
          "lognormal": stats.lognorm, "loglogistic": stats.fisk}


@dataclass(frozen=True)
class StayDraws:
    """``K`` parameter draws of one line's length-of-stay distribution.

    Attributes
    ----------
    family : str
        One of ``exponential``, ``weibull``, ``lognormal``, ``loglogistic``.
    shape : ndarray, shape (K,)
        Shape parameter of each draw (ignored by the exponential).
    scale : ndarray, shape (K,)
        Scale parameter (days) of each draw.

    Examples
    --------
    >>> draws = StayDraws("lognormal", np.array([0.8, 1.0]), np.array([300.0, 350.0]))
    >>> len(draws), round(float(draws.sf(np.array([300.0]), np.array([0]))[0]), 3)
    (2, 0.5)
    >>> bool(np.allclose(draws.isf(draws.sf(np.array([500.0, 500.0]), np.arange(2)),
    ...                            np.arange(2)), 500.0))
    True
    """

    family: str
    shape: np.ndarray
    scale: np.ndarray

    def __len__(self) -> int:
        return len(self.scale)

    def sf(self, days: np.ndarray, draw: np.ndarray | int) -> np.ndarray:
        """Survival ``S(days)`` under draw(s) ``draw`` (broadcast with ``days``)."""
        shape, scale = self.shape[draw], self.scale[draw]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            ratio = np.maximum(np.asarray(days, dtype=float), 0.0) / scale
            if self.family == "exponential":
                return np.exp(-ratio)
            if self.family == "weibull":
                return np.exp(-ratio**shape)
            if self.family == "lognormal":
                return special.ndtr(-np.log(ratio) / shape)
            return 1.0 / (1.0 + ratio**shape)

    def isf(self, q: np.ndarray, draw: np.ndarray | int) -> np.ndarray:
        """Inverse survival: the stay ``t`` with ``S(t) = q`` under draw(s) ``draw``."""
        shape, scale = self.shape[draw], self.scale[draw]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if self.family == "exponential":
                return -scale * np.log(q)
            if self.family == "weibull":
                return scale * (-np.log(q)) ** (1.0 / shape)
            if self.family == "lognormal":
                return scale * np.exp(-shape * special.ndtri(q))
            return scale * ((1.0 - q) / q) ** (1.0 / shape)

    def frozen(self, draw: int) -> stats.rv_continuous:
        """Draw ``draw`` as a frozen scipy distribution."""
        if self.family == "exponential":
            return _SCIPY[self.family](scale=float(self.scale[draw]))
        return _SCIPY[self.family](float(self.shape[draw]), scale=float(self.scale[draw]))
