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
budget nothing. Pass ``prices`` to use your own, and ``mapping`` to map codes your way.

Dates: an episode's ``DEC`` is the day it *ceased*, which is the next episode's
``DECOM`` (or the day the child left care): the child is not in that placement on that
day. The placement's inclusive ``end_date`` is therefore the day before ``DEC`` (the
day itself for an episode that began and ceased on one day), so a child whose episode
ceased on 31 March is not counted in care on 31 March, as in the DfE's statistics.

Episodes of one child that touch form one spell (the period of care): a change of
placement type inside it is a move between lines, not a new start (see
:mod:`forecastlib.demand.history`). With the header files (``CHILD``, ``DOB``), care
ends by the 18th birthday: each episode carries a ``latest_end_date``, the day before
it, that the simulation will not draw an end beyond, unless the child's history
already shows care continuing past 18 (an episode running on or after the birthday).
:func:`read_ssda903_folder` reads a folder of yearly ``YYYY-episodes.csv`` and
``YYYY-header.csv`` files as published; a return may be part-year.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from forecastlib.errors import DataValidationError, Problem
from forecastlib.records.readers import Source, read_placements, read_table
from forecastlib.records.schema import RowRule, after, register_rules
from forecastlib.records.validate import validate_table

__all__ = ["DEFAULT_PRICES", "Ssda903Episode", "Ssda903Header", "place_category",
           "read_ssda903", "read_ssda903_folder"]

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


class Ssda903Header(BaseModel):
    """One row of an SSDA903 header file (the columns forecastlib uses)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    child: str = Field(min_length=1, description="CHILD: the child's identifier")
    dob: dt.date = Field(description="DOB: date of birth")


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


def _read_all(sources: list[Source], model: type[BaseModel], columns: list[str]
              ) -> pd.DataFrame:
    frames, problems = [], []
    for order, source in enumerate(sources):
        raw, label = read_table(source, None if not isinstance(source, (str, os.PathLike))
                                else os.path.basename(os.fspath(source)))
        try:
            frame = validate_table(raw, model, label)
        except DataValidationError as error:
            problems.extend(error.problems)
            continue
        frames.append(frame[columns].assign(return_order=order))
    if problems:
        raise DataValidationError(problems)
    return pd.concat(frames, ignore_index=True)


def _close_vanished(table: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """End, on its return's 31 March, an episode left open by one yearly return that the
    next return does not list (each return lists every episode open during its year)."""
    table = table.copy()
    latest_start = table.groupby("return_order")["decom"].max()
    year_end = {order: pd.Timestamp(f"{day.year + (day.month > 3)}-03-31")
                for order, day in latest_start.items()}
    ordered = sorted(year_end, key=lambda order: (year_end[order], order))
    keys = pd.MultiIndex.from_frame(table[["child", "decom"]])
    closed = 0
    for earlier, later in zip(ordered[:-1], ordered[1:]):
        end = year_end[earlier]
        if year_end[later] <= end:
            continue
        mine = (table["return_order"] == earlier).to_numpy()
        open_then = mine & (table["dec"].isna() | (table["dec"] > end)).to_numpy()
        listed = keys.isin(keys[(table["return_order"] == later).to_numpy()])
        vanished = open_then & ~listed
        table.loc[vanished, "dec"] = end + pd.Timedelta(days=1)
        closed += int(vanished.sum())
    return table, closed


def _mapped(latest: pd.DataFrame, mapping: dict[str, str] | None) -> np.ndarray:
    """Categories by the default rules, then the user's ``mapping`` (``PLACE`` or
    ``PLACE/PLACE_PROVIDER`` codes, case-insensitive, to category)."""
    categories = place_category(latest["place"], latest["place_provider"])
    if not mapping:
        return categories
    place = latest["place"].str.upper()
    both = place + "/" + latest["place_provider"].fillna("").str.upper()
    wanted = {key.strip().upper(): value for key, value in mapping.items()}
    by_place = place.map(wanted)
    by_both = both.map(wanted)
    chosen = by_both.fillna(by_place)
    return np.where(chosen.notna(), chosen, categories).astype(object)


def _age_out(latest: pd.DataFrame, headers: list[Source]) -> pd.Series:
    """The day before each episode's child turns 18, unless care already ran past it."""
    births = _read_all(headers, Ssda903Header, ["child", "dob"])
    dob = births.sort_values("return_order").groupby("child")["dob"].last()
    birthday = pd.to_datetime(latest["child"].map(dob))
    eighteen = birthday + pd.DateOffset(years=18)
    # born on 29 February: of age on 1 March in a year with no 29 February
    leap_day = (birthday.dt.month == 2) & (birthday.dt.day == 29) & (eighteen.dt.day == 28)
    eighteen = eighteen.where(~leap_day, eighteen + pd.Timedelta(days=1))
    cap = eighteen - pd.Timedelta(days=1)
    end = latest["end"]
    beyond = (end.notna() & (end >= eighteen)).groupby(latest["child"]).transform("any")
    return cap.where(~beyond)


def read_ssda903(
    episodes: Source | Sequence[Source],
    *,
    headers: Source | Sequence[Source] | None = None,
    prices: dict[str, float] | None = None,
    mapping: dict[str, str] | None = None,
    service: str = "LAC Placements",
) -> pd.DataFrame:
    """Read SSDA903 episode files (one per year, any order) into validated placements.

    Parameters
    ----------
    episodes : path, DataFrame, or a list of them
        Episode tables with at least ``CHILD``, ``DECOM``, ``PLACE``, ``PLACE_PROVIDER``
        and ``DEC`` (other columns are ignored). Dates are UK ``DD/MM/YYYY`` or ISO.
    headers : path, DataFrame, or a list of them, optional
        Header tables with ``CHILD`` and ``DOB``: care ends by the 18th birthday
        (column ``latest_end_date``).
    prices : dict, optional
        Weekly price per category; default :data:`DEFAULT_PRICES`. A category missing
        from ``prices`` is an error naming it.
    mapping : dict, optional
        ``PLACE`` code (``"K2"``) or code and provider (``"K2/PR4"``) to category,
        overriding the default mapping for those codes.
    service : str
        The budget line's service name.

    Returns
    -------
    DataFrame
        Validated placements (see :func:`~forecastlib.records.read_placements`),
        ``placement_id`` = ``CHILD-DECOM``, weekly prices, funding ``GF``, ``end_date``
        the day before ``DEC``, sorted by start date; with ``headers``, a
        ``latest_end_date`` column too.

    Examples
    --------
    >>> episodes = pd.DataFrame({"CHILD": ["7", "7"], "DECOM": ["01/04/2017", "01/06/2017"],
    ...     "DEC": ["01/06/2017", ""], "PLACE": ["K2", "U4"],
    ...     "PLACE_PROVIDER": ["PR4", "PR1"]})
    >>> header = pd.DataFrame({"CHILD": ["7"], "DOB": ["15/09/2001"]})
    >>> table = read_ssda903(episodes, headers=header)
    >>> table[["category", "start_date", "end_date", "latest_end_date"]]
                 category start_date   end_date latest_end_date
    0   Residential homes 2017-04-01 2017-05-31      2019-09-14
    1  In-house fostering 2017-06-01        NaT      2019-09-14
    """
    sources = list(episodes) if isinstance(episodes, (list, tuple)) else [episodes]
    table = _read_all(sources, Ssda903Episode,
                      ["child", "decom", "dec", "place", "place_provider"])
    table, closed = _close_vanished(table)
    table = table.sort_values(["child", "decom", "return_order"])
    # The latest return's row of an episode wins, but a known end date is never lost.
    ends = table.groupby(["child", "decom"])["dec"].max()
    latest = table.drop_duplicates(["child", "decom"], keep="last").set_index(["child", "decom"])
    latest["dec"] = ends
    latest = latest.reset_index()
    categories = _mapped(latest, mapping)
    price_table = DEFAULT_PRICES if prices is None else prices
    unknown = sorted(map(str, set(categories) - set(price_table)))
    if unknown:
        raise DataValidationError(f"prices: no weekly price for categories {unknown}; "
                                  f"prices given for {sorted(price_table)}")
    # DEC is the day the episode ceased: the last day in that placement is the day before.
    latest["end"] = (latest["dec"] - pd.Timedelta(days=1)).where(
        latest["dec"] > latest["decom"], latest["dec"])
    placements = pd.DataFrame({
        "placement_id": latest["child"] + "-" + latest["decom"].dt.strftime("%Y%m%d"),
        "client_id": latest["child"],
        "service": service,
        "category": categories,
        "start_date": latest["decom"].dt.strftime("%Y-%m-%d"),
        "end_date": latest["end"].dt.strftime("%Y-%m-%d").fillna(""),
        "unit_cost": pd.Series(categories).map(price_table).astype(float).to_numpy(),
        "unit": "week",
        "funding": "GF",
    })
    placements = placements.sort_values(["start_date", "placement_id"])
    validated = read_placements(placements.reset_index(drop=True), name="SSDA903 episodes")
    validated.attrs["notes"] = [] if not closed else [
        f"SSDA903: {closed} episodes open at the end of one return are not in the next "
        "return; they are taken to have ended on that return's 31 March."]
    if headers is not None:
        header_sources = list(headers) if isinstance(headers, (list, tuple)) else [headers]
        cap = _age_out(latest, header_sources).loc[placements.index]
        validated["latest_end_date"] = pd.to_datetime(cap.to_numpy())
    return validated


_YEARLY = re.compile(r"^(\d{4})-(episodes|header)\.(csv|xlsx)$", re.IGNORECASE)


def read_ssda903_folder(
    folder: str | os.PathLike[str],
    *,
    prices: dict[str, float] | None = None,
    mapping: dict[str, str] | None = None,
    service: str = "LAC Placements",
) -> pd.DataFrame:
    """Read a folder of yearly SSDA903 returns (``YYYY-episodes.csv``, ``YYYY-header.csv``).

    Every ``YYYY-episodes`` file is read (a return may be part-year); the header files,
    when present, give dates of birth (care ends by the 18th birthday). Other files are
    ignored. See :func:`read_ssda903` for the rest.
    """
    path = Path(folder)
    if not path.is_dir():
        raise DataValidationError(Problem(path.name or str(path), None, None, str(path),
                                          "a folder of YYYY-episodes.csv files"))
    found: dict[str, list[Path]] = {"episodes": [], "header": []}
    for item in sorted(path.iterdir()):
        match = _YEARLY.match(item.name)
        if match and item.is_file():
            found[match.group(2).lower()].append(item)
    if not found["episodes"]:
        raise DataValidationError(Problem(path.name, None, None, str(path),
                                          "at least one YYYY-episodes.csv file"))
    return read_ssda903(found["episodes"], headers=found["header"] or None, prices=prices,
                        mapping=mapping, service=service)
