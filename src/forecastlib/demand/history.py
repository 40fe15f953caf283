"""From episodes to the histories demand is learnt from: spells, durations, start counts.

A price change or a new provider closes one episode and opens another, but the person
stays: for demand, consecutive episodes of one client in one line (a gap of at most
``gap_days``) form one **spell**. A spell's start is a *new start*; its length is the
*length of stay*.

The record only holds what the case system held when it was set up: a spell that ended
before the history's first day is missing, and one that was running then is present.
Durations are therefore **left truncated** at ``history_start`` (their *entry* age) as
well as **right censored** at ``as_at`` when still open; the survival models use both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.calendar import financial_year, fy_start
from forecastlib.lines import LINE_KEYS

__all__ = ["default_history_start", "durations", "monthly_starts", "spells"]

_OPEN = np.iinfo(np.int64).max // 4


def spells(placements: pd.DataFrame, *, gap_days: int = 1) -> pd.DataFrame:
    """Join each client's consecutive episodes in a line into spells.

    Returns
    -------
    DataFrame
        One row per spell: ``service``, ``category``, ``client_id``, ``start_date``,
        ``end_date`` (``NaT`` while open), ``planned_end_date`` (of its last episode),
        ``episodes``, and ``last_row`` (position in ``placements`` of the spell's last
        episode).

    Examples
    --------
    >>> import pandas as pd
    >>> book = pd.DataFrame({"service": ["S"] * 3, "category": ["X"] * 3,
    ...     "client_id": ["a", "a", "b"],
    ...     "start_date": pd.to_datetime(["2017-01-01", "2017-02-01", "2017-01-01"]),
    ...     "end_date": pd.to_datetime(["2017-01-31", None, "2017-01-10"]),
    ...     "planned_end_date": pd.to_datetime([None, None, None])})
    >>> spells(book)[["client_id", "start_date", "end_date", "episodes"]]
      client_id start_date   end_date  episodes
    0         a 2017-01-01        NaT         2
    1         b 2017-01-01 2017-01-10         1
    """
    order = np.lexsort((
        placements["start_date"].to_numpy(dtype="datetime64[D]").astype("int64"),
        pd.factorize(placements["client_id"])[0],
        pd.factorize(placements["category"])[0],
        pd.factorize(placements["service"])[0],
    ))
    book = placements.iloc[order]
    start = book["start_date"].to_numpy(dtype="datetime64[D]").astype("int64")
    end_values = book["end_date"].to_numpy(dtype="datetime64[D]")
    end = np.where(np.isnat(end_values), _OPEN, end_values.astype("int64"))
    key = pd.MultiIndex.from_frame(book[[*LINE_KEYS, "client_id"]]).codes
    same_key = np.ones(len(book), dtype=bool)
    for codes in key:
        same_key[1:] &= codes[1:] == codes[:-1]
    same_key[:1] = False  # (an empty record has no first row)
    continues = np.zeros(len(book), dtype=bool)
    continues[1:] = same_key[1:] & (start[1:] <= end[:-1] + gap_days)
    spell = np.cumsum(~continues) - 1
    first = np.flatnonzero(~continues)
    last = np.append(first[1:] - 1, len(book) - 1) if len(book) else first
    spell_end = np.maximum.reduceat(end, first) if len(book) else end
    out = pd.DataFrame({
        "service": book["service"].to_numpy()[first],
        "category": book["category"].to_numpy()[first],
        "client_id": book["client_id"].to_numpy()[first],
        "start_date": start[first].astype("datetime64[D]"),
        "end_date": np.where(spell_end == _OPEN, np.datetime64("NaT"),
                             spell_end.astype("datetime64[D]")),
        "planned_end_date": book["planned_end_date"].to_numpy(dtype="datetime64[D]")[last],
        "episodes": np.bincount(spell, minlength=len(first)) if len(book) else [],
        "last_row": order[last],
    })
    return out.reset_index(drop=True)


def default_history_start(placements: pd.DataFrame) -> np.datetime64:
    """First day of the financial year in which the earliest recorded episode ended.

    A case system migrated at the start of a financial year holds every spell running
    then and none that ended before; the earliest end in the record marks that year.
    """
    ends = placements["end_date"].dropna()
    if ends.empty:
        return np.datetime64(placements["start_date"].min().date(), "D")
    return np.datetime64(fy_start(financial_year(np.datetime64(ends.min().date(), "D"))), "D")


def durations(
    spell_table: pd.DataFrame, as_at: object, history_start: object
) -> pd.DataFrame:
    """Lengths of stay in days, with censoring and left-truncation entry ages.

    Spells starting after ``as_at`` are left out. ``duration`` counts days inclusively
    to the spell's end or to ``as_at``; ``event`` is whether it ended by ``as_at``;
    ``entry`` is the age in days at which the spell came under observation (0 unless it
    began before ``history_start``).
    """
    as_at_day = np.datetime64(pd.Timestamp(as_at).date(), "D").astype("int64")
    first_day = np.datetime64(pd.Timestamp(history_start).date(), "D").astype("int64")
    start = spell_table["start_date"].to_numpy(dtype="datetime64[D]").astype("int64")
    end_values = spell_table["end_date"].to_numpy(dtype="datetime64[D]")
    ended = ~np.isnat(end_values)
    end = np.where(ended, end_values.astype("int64"), _OPEN)
    keep = start <= as_at_day
    event = ended & (end <= as_at_day)
    stop = np.where(event, end, as_at_day)
    out = spell_table.loc[keep, [*LINE_KEYS]].copy()
    out["duration"] = (stop - start + 1)[keep].astype("float64")
    out["event"] = event[keep]
    out["entry"] = np.maximum(first_day - start, 0)[keep].astype("float64")
    return out.reset_index(drop=True)


def monthly_starts(
    spell_table: pd.DataFrame, as_at: object, history_start: object
) -> pd.DataFrame:
    """Count of new spells per line and calendar month, zero-filled.

    Months run from ``history_start``'s month to the last month *completed* by
    ``as_at``; spells that started before ``history_start`` are stock, not starts.

    Returns
    -------
    DataFrame
        Indexed by ``(service, category)`` with one column per month
        (``pandas.Period``, monthly).
    """
    first = pd.Timestamp(history_start).to_period("M")
    as_at_ts = pd.Timestamp(as_at)
    last = as_at_ts.to_period("M")
    if as_at_ts != last.end_time.normalize():
        last = last - 1
    months = pd.period_range(first, last, freq="M")
    starts = spell_table["start_date"].dt.to_period("M")
    inside = (starts >= first) & (starts <= last)
    lines = spell_table[LINE_KEYS].drop_duplicates().sort_values(LINE_KEYS)
    index = pd.MultiIndex.from_frame(lines)
    counts = (spell_table[inside].assign(month=starts[inside])
              .groupby([*LINE_KEYS, "month"]).size()
              .unstack("month", fill_value=0))
    return counts.reindex(index=index, columns=months, fill_value=0).astype("int64")
