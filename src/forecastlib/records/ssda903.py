"""Read statutory SSDA903 (children looked after) episode returns as placements.

A local authority's SSDA903 return lists episodes of care: ``CHILD``, ``DECOM`` (start),
``DEC`` (end, blank while open), ``PLACE`` (placement type) and ``PLACE_PROVIDER``,
with UK dates. :func:`read_ssda903` validates one or more yearly episode files like
any other input (every problem named by file, row, column and value), joins the years
(an episode open at one year-end reappears in the next return, with its end date once
it has one), maps placement codes to budget categories and prices them from a weekly
price table, and returns a validated placements frame.

Default category mapping (``PLACE`` / ``PLACE_PROVIDER``):

============================  =====================================================
category                      codes
============================  =====================================================
Kinship fostering             U1, U2, U3 (placed with relatives or friends)
In-house fostering            U4, U5, U6 with provider PR1, PR2 or PR3 (council or
                              other public provision)
Independent Fostering         U4, U5, U6 with provider PR4 or PR5 (private or
                              voluntary agency)
In-house residential          K2 (children's homes) with provider PR1, PR2 or PR3
Residential homes             K2 with provider PR4 or PR5; R1 residential care home
Secure accommodation          K1
Supported Accommodation       H5 (semi-independent), P2 (independent living)
Residential schools           S1
Placed with parents           P1
Placed for adoption           A3, A4, A5, A6
Other                         anything else (R2, R3, R5, T0-T4, Z1, ...)
============================  =====================================================

Default weekly prices are the ``cs-demand-model`` standard configuration's cost per day
(fostering in-house 150, agency 250, with relatives 100; residential, supported and
secure 1,000) times seven; placements with parents and for adoption cost the placements
budget nothing. Pass ``prices`` to use your own.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from forecastlib.errors import DataValidationError
from forecastlib.records.readers import Source, read_placements, read_table
from forecastlib.records.schema import RowRule, after, register_rules
from forecastlib.records.validate import validate_table

__all__ = ["DEFAULT_PRICES", "Ssda903Episode", "place_category", "read_ssda903"]

PlaceCode = Literal["a3", "a4", "a5", "a6", "h5", "k1", "k2", "p1", "p2", "p3", "r1", "r2",
                    "r3", "r5", "s1", "t0", "t1", "t2", "t3", "t4", "u1", "u2", "u3", "u4",
                    "u5", "u6", "z1"]
ProviderCode = Literal["pr0", "pr1", "pr2", "pr3", "pr4", "pr5"]

#: Weekly price per category (GBP), from cs-demand-model's cost per day times seven.
DEFAULT_PRICES: dict[str, float] = {
    "Kinship fostering": 700.0,
    "In-house fostering": 1050.0,
    "Independent Fostering": 1750.0,
    "In-house residential": 7000.0,
    "Residential homes": 7000.0,
    "Secure accommodation": 7000.0,
    "Supported Accommodation": 7000.0,
    "Residential schools": 7000.0,
    "Placed with parents": 0.0,
    "Placed for adoption": 0.0,
    "Other": 7000.0,
}


class Ssda903Episode(BaseModel):
    """One row of an SSDA903 episodes file (the columns forecastlib uses)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    child: str = Field(min_length=1, description="CHILD: the child's identifier")
    decom: dt.date = Field(description="DECOM: date the episode commenced")
    dec: dt.date | None = Field(None, description="DEC: date the episode ceased")
    place: PlaceCode = Field(description="PLACE: placement type code")
    place_provider: ProviderCode | None = Field(None, description="PLACE_PROVIDER code")


register_rules(Ssda903Episode, (RowRule("dec", "a date on or after DECOM", after("dec", "decom")),),
               unique=("child", "decom"))


def place_category(place: pd.Series, provider: pd.Series) -> np.ndarray:
    """Budget category of each episode from its placement and provider codes (upper case).

    Examples
    --------
    >>> place_category(pd.Series(["U4", "U4", "K2", "H5"]),
    ...                pd.Series(["PR1", "PR4", "PR4", ""])).tolist()
    ['In-house fostering', 'Independent Fostering', 'Residential homes', \
'Supported Accommodation']
    """
    place = place.str.upper().to_numpy(dtype=object)
    provider = provider.fillna("").str.upper().to_numpy(dtype=object)
    public = np.isin(provider, ["PR1", "PR2", "PR3"])
    fostering = np.isin(place, ["U4", "U5", "U6"])
    choices = [
        (np.isin(place, ["U1", "U2", "U3"]), "Kinship fostering"),
        (fostering & public, "In-house fostering"),
        (fostering, "Independent Fostering"),
        ((place == "K2") & public, "In-house residential"),
        ((place == "K2") | (place == "R1"), "Residential homes"),
        (place == "K1", "Secure accommodation"),
        (np.isin(place, ["H5", "P2"]), "Supported Accommodation"),
        (place == "S1", "Residential schools"),
        (place == "P1", "Placed with parents"),
        (np.isin(place, ["A3", "A4", "A5", "A6"]), "Placed for adoption"),
    ]
    return np.select([c for c, _ in choices], [name for _, name in choices], "Other")


def read_ssda903(
    episodes: Source | Sequence[Source],
    *,
    prices: dict[str, float] | None = None,
    service: str = "LAC Placements",
) -> pd.DataFrame:
    """Read SSDA903 episode files (one per year, any order) into validated placements.

    Parameters
    ----------
    episodes : path, DataFrame, or a list of them
        Episode tables with at least ``CHILD``, ``DECOM``, ``PLACE``, ``PLACE_PROVIDER``
        and ``DEC`` (other columns are ignored). Dates are UK ``DD/MM/YYYY`` or ISO.
    prices : dict, optional
        Weekly price per category; default :data:`DEFAULT_PRICES`. A category missing
        from ``prices`` is an error naming it.
    service : str
        The budget line's service name.

    Returns
    -------
    DataFrame
        Validated placements (see :func:`~forecastlib.records.read_placements`),
        ``placement_id`` = ``CHILD-DECOM``, weekly prices, funding ``GF``, sorted by
        start date.
    """
    sources = list(episodes) if isinstance(episodes, (list, tuple)) else [episodes]
    frames, problems = [], []
    for order, source in enumerate(sources):
        raw, label = read_table(source, None if not isinstance(source, (str, os.PathLike))
                                else os.path.basename(os.fspath(source)))
        try:
            frame = validate_table(raw, Ssda903Episode, label)
        except DataValidationError as error:
            problems.extend(error.problems)
            continue
        frames.append(frame[["child", "decom", "dec", "place", "place_provider"]]
                      .assign(return_order=order))
    if problems:
        raise DataValidationError(problems)
    table = pd.concat(frames, ignore_index=True).sort_values(["child", "decom", "return_order"])
    # The latest return's row of an episode wins, but a known end date is never lost.
    ends = table.groupby(["child", "decom"])["dec"].max()
    latest = table.drop_duplicates(["child", "decom"], keep="last").set_index(["child", "decom"])
    latest["dec"] = ends
    latest = latest.reset_index()
    categories = place_category(latest["place"], latest["place_provider"])
    price_table = DEFAULT_PRICES if prices is None else prices
    unknown = sorted(set(categories) - set(price_table))
    if unknown:
        raise DataValidationError(f"prices: no weekly price for categories {unknown}; "
                                  f"prices given for {sorted(price_table)}")
    starts = latest["decom"].dt.strftime("%Y-%m-%d")
    placements = pd.DataFrame({
        "placement_id": latest["child"] + "-" + latest["decom"].dt.strftime("%Y%m%d"),
        "client_id": latest["child"],
        "service": service,
        "category": categories,
        "start_date": starts,
        "end_date": latest["dec"].dt.strftime("%Y-%m-%d").fillna(""),
        "unit_cost": pd.Series(categories).map(price_table).astype(float).to_numpy(),
        "unit": "week",
        "funding": "GF",
    }).sort_values(["start_date", "placement_id"]).reset_index(drop=True)
    return read_placements(placements, name="SSDA903 episodes")
