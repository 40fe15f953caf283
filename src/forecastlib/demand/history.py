"""From episodes to the histories demand is learnt from: spells, segments, moves, counts.

A price change, a new provider or a move closes one episode and opens another, but the
person stays: the episodes of one client in one **service** whose dates touch (the next
starts on, or the day after, the previous one's end) form one **spell**, a period of
care. A spell's start is a *new start*; its length is the *length of stay*. Inside a
spell, the runs of one category are **segments**: when the next episode (not
overlapping the running one) is in another category, the spell **moves** between lines
(residential to fostering, say) and is not a new entrant. Episodes of one client that
overlap in time (a care package combining homecare and day care) are all costed and
belong to one spell from the earliest start to the latest end; they are counted as
*overlaps*, never treated as moves.

The record only holds what the case system held when it was set up: a spell that ended
before the history's first day is missing, and one that was running then is present.
Durations are therefore **left truncated** at ``history_start`` (their *entry* age) as
well as **right censored** at ``as_at`` when still open. Per line, lengths of stay are
measured on the spell's clock: a segment that a spell entered by a move at spell age
``m`` is at risk of ending from ``m`` on (entry ``m``), and a segment left by a move is
censored there (ending and moving are competing risks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecastlib.calendar import financial_year, fy_start
from forecastlib.demand.record_codes import RecordCodes, packed_lexsort, sorted_line_codes
from forecastlib.lines import LINE_KEYS

__all__ = ["CAP_WINDOW_DAYS", "SpellHistory", "censor_capped_ends", "default_history_start",
           "durations", "episode_spells",
           "line_starts", "monthly_starts", "segments", "spells"]

_OPEN = np.iinfo(np.int64).max // 4
_FAR = 10**6  # a day number later than any real date (year 4700), for open ends
_POSITION_BITS = 23


def _days(values: pd.Series) -> np.ndarray:
    dates = values.to_numpy(dtype="datetime64[D]")
    return np.where(np.isnat(dates), _OPEN, dates.astype("int64"))


def _as_dates(days: np.ndarray) -> np.ndarray:
    return np.where(days >= _FAR, np.datetime64("NaT"), days.astype("datetime64[D]"))


def episode_spells(placements: pd.DataFrame, *, gap_days: int = 1) -> pd.DataFrame:
    """The spell and segment of every episode, aligned with the rows of ``placements``.

    Returns
    -------
    DataFrame
        Same index as ``placements``: ``spell`` and ``segment`` (integer ids, in order of
        service, client and start), ``spell_start`` and ``segment_start`` (dates),
        ``moved_in`` (the episode opens a segment entered by a move), ``overlap`` (it
        starts before an earlier episode of its spell has ended).

    Examples
    --------
    >>> import pandas as pd
    >>> book = pd.DataFrame({"service": ["S"] * 3, "category": ["X", "X", "Y"],
    ...     "client_id": ["a"] * 3,
    ...     "start_date": pd.to_datetime(["2017-01-01", "2017-04-01", "2017-06-01"]),
    ...     "end_date": pd.to_datetime(["2017-03-31", "2017-05-31", None])})
    >>> episode_spells(book)[["spell", "segment", "moved_in"]].values.tolist()
    [[0, 0, False], [0, 0, False], [0, 1, True]]
    """
    return _episode_spells(placements, gap_days)[0]


def _episode_spells(placements: pd.DataFrame, gap_days: int
                    ) -> tuple[pd.DataFrame, RecordCodes]:
    count = len(placements)
    if count >= 1 << _POSITION_BITS:
        raise ValueError(f"too many episodes ({count}) for one record")
    start_all = _days(placements["start_date"])
    end_all = np.minimum(_days(placements["end_date"]), _FAR)
    codes = RecordCodes.of(placements)
    service_codes, client_codes = codes.service, codes.client
    order = packed_lexsort([end_all, start_all, client_codes, service_codes])
    start, end = start_all[order], end_all[order]
    category = codes.category[order]
    same_key = np.zeros(count, dtype=bool)
    same_key[1:] = ((service_codes[order][1:] == service_codes[order][:-1])
                    & (client_codes[order][1:] == client_codes[order][:-1]))
    group = np.cumsum(~same_key)
    # Running "latest end so far" within a client's episodes, with the position of the
    # episode holding it (the running one a next episode may continue or move from).
    code = end.astype(np.int64) * (1 << _POSITION_BITS) + np.arange(count)
    best = pd.Series(code).groupby(group).cummax().to_numpy()
    previous = np.zeros(count, dtype=np.int64)
    previous[1:] = best[:-1]
    previous_end = previous >> _POSITION_BITS
    previous_row = previous & ((1 << _POSITION_BITS) - 1)
    continues = same_key & (start <= previous_end + gap_days)
    overlap = continues & (start < previous_end)
    moved_in = continues & ~overlap & (category != category[previous_row])
    spell = np.cumsum(~continues) - 1
    segment = np.cumsum(~continues | moved_in) - 1
    spell_first = np.flatnonzero(~continues)
    segment_first = np.flatnonzero(~continues | moved_in)
    def unsorted(values: np.ndarray) -> np.ndarray:
        """Values of the sorted episodes put back in the record's order."""
        back = np.empty_like(values)
        back[order] = values
        return back

    out = pd.DataFrame({
        "spell": unsorted(spell), "segment": unsorted(segment),
        "spell_start": unsorted(start[spell_first][spell]).astype("datetime64[D]"),
        "segment_start": unsorted(start[segment_first][segment]).astype("datetime64[D]"),
        "moved_in": unsorted(moved_in), "overlap": unsorted(overlap),
    }, index=placements.index)
    return out, codes


def segments(placements: pd.DataFrame, *, gap_days: int = 1,
             history: SpellHistory | None = None) -> pd.DataFrame:
    """One row per segment: a spell's run of episodes in one line.

    ``history``, the record's :class:`SpellHistory`, gives the table built once
    (a shallow copy of it) instead of building it again.

    Returns
    -------
    DataFrame
        ``service``, ``category`` (the segment's line), ``client_id``, ``spell``,
        ``spell_start``, ``start_date`` (of the segment), ``end_date`` (the day before
        the next segment starts if the spell moved on, else the spell's end; ``NaT``
        while open), ``moved`` (the spell moved on to another line), ``to_category``
        (that line, ``""`` if none), ``moved_in`` and ``first_row`` (position in
        ``placements`` of the segment's first episode). Overlapping episodes in
        another line than their segment's follow, one row per spell and line.

    Examples
    --------
    >>> import pandas as pd
    >>> book = pd.DataFrame({"service": ["S"] * 2, "category": ["X", "Y"],
    ...     "client_id": ["a"] * 2,
    ...     "start_date": pd.to_datetime(["2017-01-01", "2017-06-01"]),
    ...     "end_date": pd.to_datetime(["2017-06-01", None])})
    >>> segments(book)[["category", "end_date", "moved", "to_category"]]
      category   end_date  moved to_category
    0        X 2017-05-31   True           Y
    1        Y        NaT  False
    """
    if history is not None:
        return history.of(placements, gap_days).segments.copy(deep=False)
    return _segments(placements, episode_spells(placements, gap_days=gap_days))


def _segments(placements: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    spell = episodes["spell"].to_numpy()
    segment = episodes["segment"].to_numpy()
    end = np.minimum(_days(placements["end_date"]), _FAR)
    count = int(segment.max()) + 1 if len(segment) else 0
    # first episode of each segment: the one that opened it (earliest start, by id order)
    order = np.lexsort((_days(placements["start_date"]), segment))
    first_row = order[np.flatnonzero(np.r_[True, segment[order][1:] != segment[order][:-1]])] \
        if count else np.zeros(0, dtype=np.int64)
    spell_of = spell[first_row]
    spell_end = np.full(int(spell.max()) + 1 if len(spell) else 0, -1, dtype=np.int64)
    np.maximum.at(spell_end, spell, end)
    start = _days(episodes["segment_start"])[first_row]
    category = placements["category"].to_numpy()[first_row]
    moved = np.zeros(count, dtype=bool)
    moved[:-1] = spell_of[1:] == spell_of[:-1]
    next_start = np.r_[start[1:], _FAR]
    stop = np.where(moved, next_start - 1, spell_end[spell_of])
    out = pd.DataFrame({
        "service": placements["service"].to_numpy()[first_row],
        "category": category,
        "client_id": placements["client_id"].to_numpy()[first_row],
        "spell": spell_of,
        "spell_start": episodes["spell_start"].to_numpy()[first_row],
        "start_date": start.astype("datetime64[D]"),
        "end_date": _as_dates(stop),
        "moved": moved,
        "to_category": np.where(moved, np.append(category[1:], ""), "").astype(object),
        "moved_in": episodes["moved_in"].to_numpy()[first_row],
        "first_row": first_row,
    })
    add_ons = _add_ons(placements, episodes, category[segment], spell, end)
    return pd.concat([out, add_ons], ignore_index=True) if len(add_ons) else out


def _add_ons(placements: pd.DataFrame, episodes: pd.DataFrame, segment_category: np.ndarray,
             spell: np.ndarray, end: np.ndarray) -> pd.DataFrame:
    """Overlapping episodes in another line than their segment's (a 1:1 support or a day
    care beside homecare): one row per spell and line, from their first start to their
    last end, never moving."""
    category = placements["category"].to_numpy()
    extra = np.flatnonzero(category != segment_category)
    if extra.size == 0:
        return pd.DataFrame()
    frame = pd.DataFrame({"spell": spell[extra], "category": category[extra],
                          "start": _days(placements["start_date"])[extra], "end": end[extra],
                          "row": extra})
    grouped = frame.sort_values(["spell", "category", "start"]).groupby(
        ["spell", "category"], sort=True)
    first = grouped["row"].first().to_numpy()
    stop = grouped["end"].max().to_numpy()
    return pd.DataFrame({
        "service": placements["service"].to_numpy()[first],
        "category": category[first],
        "client_id": placements["client_id"].to_numpy()[first],
        "spell": spell[first],
        "spell_start": episodes["spell_start"].to_numpy()[first],
        "start_date": grouped["start"].min().to_numpy().astype("datetime64[D]"),
        "end_date": _as_dates(stop),
        "moved": False, "to_category": "", "moved_in": False, "first_row": first,
    })


def line_starts(placements: pd.DataFrame, *, gap_days: int = 1,
                history: SpellHistory | None = None) -> pd.DataFrame:
    """The starts of each line: every spell's first line, and every line a spell adds by
    an overlapping episode (a second package beside the first); a move is not a start.

    One row per start (the rows of :func:`segments` not entered by a move), with
    ``service``, ``category``, ``client_id`` and ``start_date``: what
    :func:`monthly_starts` counts and the price model's first prices come from.
    ``history`` as for :func:`segments`.
    """
    table = segments(placements, gap_days=gap_days, history=history)
    return table[~table["moved_in"].to_numpy(dtype=bool)].reset_index(drop=True)


def spells(placements: pd.DataFrame, *, gap_days: int = 1) -> pd.DataFrame:
    """Join each client's touching episodes in a service into spells.

    Returns
    -------
    DataFrame
        One row per spell: ``service``, ``category`` (of its first episode: the line
        it started in), ``client_id``, ``start_date``, ``end_date`` (``NaT`` while
        open), ``planned_end_date`` (of its last episode), ``episodes``, ``moves``
        (changes of category inside it), ``overlaps`` (episodes starting before an
        earlier one ended) and ``last_row`` (position in ``placements`` of its last
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
    episodes = episode_spells(placements, gap_days=gap_days)
    spell = episodes["spell"].to_numpy()
    count = int(spell.max()) + 1 if len(spell) else 0
    start = _days(placements["start_date"])
    end = np.minimum(_days(placements["end_date"]), _FAR)
    order = np.lexsort((end, start, spell))
    boundary = np.r_[True, spell[order][1:] != spell[order][:-1]] if count else []
    first = order[np.flatnonzero(boundary)] if count else np.zeros(0, dtype=np.int64)
    last = (order[np.r_[np.flatnonzero(boundary)[1:] - 1, len(order) - 1]] if count
            else np.zeros(0, dtype=np.int64))
    spell_end = np.full(count, -1, dtype=np.int64)
    np.maximum.at(spell_end, spell, end)
    planned = (placements["planned_end_date"].to_numpy(dtype="datetime64[D]")[last]
               if "planned_end_date" in placements
               else np.full(count, np.datetime64("NaT"), dtype="datetime64[D]"))
    out = pd.DataFrame({
        "service": placements["service"].to_numpy()[first],
        "category": placements["category"].to_numpy()[first],
        "client_id": placements["client_id"].to_numpy()[first],
        "start_date": start[first].astype("datetime64[D]"),
        "end_date": _as_dates(spell_end),
        "planned_end_date": planned,
        "episodes": np.bincount(spell, minlength=count),
        "moves": np.bincount(spell, weights=episodes["moved_in"], minlength=count).astype(int),
        "overlaps": np.bincount(spell, weights=episodes["overlap"], minlength=count).astype(int),
        "last_row": last,
    })
    return out.sort_values([*LINE_KEYS, "client_id", "start_date"]).reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class SpellHistory:
    """A record's episodes joined into spells and segments once, for every fit to share.

    The length-of-stay, move, starts and price fits all learn from the segments of the
    same record; :meth:`build` makes them once and each fit takes ``history=`` (a fit
    given the history of another frame, or another ``gap_days``, refuses it).

    Attributes
    ----------
    placements : DataFrame
        The record (the very object the history was built from).
    gap_days : int
    episodes : DataFrame
        :func:`episode_spells` of the record.
    segments : DataFrame
        :func:`segments` of the record.
    codes : RecordCodes
        The record's service, category and client codes, factorised once (here if
        not given).

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> book = load_sample().placements
    >>> history = SpellHistory.build(book)
    >>> segments(book, history=history).equals(segments(book))
    True
    """

    placements: pd.DataFrame
    gap_days: int
    episodes: pd.DataFrame
    segments: pd.DataFrame
    codes: RecordCodes | None = None

    def __post_init__(self) -> None:
        if self.codes is None:  # built by hand: factorise the record's strings here
            object.__setattr__(self, "codes", RecordCodes.of(self.placements))

    @classmethod
    def build(cls, placements: pd.DataFrame, *, gap_days: int = 1) -> SpellHistory:
        """Join the episodes of ``placements`` into spells and segments."""
        episodes, codes = _episode_spells(placements, gap_days)
        return cls(placements, gap_days, episodes, _segments(placements, episodes), codes)

    @classmethod
    def for_record(cls, placements: pd.DataFrame, history: SpellHistory | None = None
                   ) -> SpellHistory:
        """``history`` checked to be that of ``placements`` (:meth:`of`), or built now:
        what a fit given an optional history works from."""
        return history.of(placements) if history is not None else cls.build(placements)

    def of(self, placements: pd.DataFrame, gap_days: int = 1) -> SpellHistory:
        """``self``, if it is the history of ``placements`` with ``gap_days``."""
        if placements is not self.placements or gap_days != self.gap_days:
            raise ValueError("this SpellHistory was built from another record (or another "
                             "gap_days): build one with SpellHistory.build(placements)")
        return self

    def __repr__(self) -> str:
        return (f"SpellHistory(episodes={len(self.episodes)}, segments={len(self.segments)},"
                f" gap_days={self.gap_days})")


def default_history_start(placements: pd.DataFrame) -> np.datetime64:
    """First day of the financial year in which the earliest recorded episode ended.

    A case system migrated at the start of a financial year holds every spell running
    then and none that ended before; the earliest end in the record marks that year.
    """
    ends = placements["end_date"].dropna()
    if ends.empty:
        return np.datetime64(placements["start_date"].min().date(), "D")
    return np.datetime64(fy_start(financial_year(np.datetime64(ends.min().date(), "D"))), "D")


def resolve_history_start(placements: pd.DataFrame, as_at: np.datetime64,
                          history_start: object | None = None) -> np.datetime64:
    """The first day the record is complete from: ``history_start`` when given, else
    :func:`default_history_start`; an empty record has no history, so ``as_at``."""
    if history_start is not None:
        return np.datetime64(pd.Timestamp(history_start).date(), "D")
    if placements.empty:
        return as_at
    return default_history_start(placements)


def durations(
    spell_table: pd.DataFrame, as_at: object, history_start: object,
    carry: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Lengths of stay in days on the spell's clock, with censoring and entry ages.

    ``spell_table`` is :func:`spells` (one row per spell) or :func:`segments` (one row
    per segment, each at risk from the spell age at which it began and censored where
    the spell moved on). Rows starting after ``as_at`` are left out. ``duration``
    counts days inclusively from the spell's start to the row's end or to ``as_at``;
    ``event`` is whether the spell ended there by ``as_at``; ``entry`` is the spell age
    in days at which the row came under observation (its segment's start, or
    ``history_start``). Columns named in ``carry`` are kept beside the line's.
    """
    as_at_day = np.datetime64(pd.Timestamp(as_at).date(), "D").astype("int64")
    first_day = np.datetime64(pd.Timestamp(history_start).date(), "D").astype("int64")
    begin = _days(spell_table["start_date"])
    spell_start = (_days(spell_table["spell_start"]) if "spell_start" in spell_table
                   else begin)
    end = _days(spell_table["end_date"])
    moved = (spell_table["moved"].to_numpy(dtype=bool) if "moved" in spell_table
             else np.zeros(len(spell_table), dtype=bool))
    ended = end <= as_at_day
    event = ended & ~moved
    stop = np.where(ended, end, as_at_day)
    entry = np.maximum(np.maximum(first_day, begin) - spell_start, 0)
    duration = stop - spell_start + 1
    keep = (begin <= as_at_day) & (duration > entry)
    out = spell_table.loc[keep, [*LINE_KEYS, *carry]].copy()
    out["duration"] = duration[keep].astype("float64")
    out["event"] = event[keep]
    out["entry"] = entry[keep].astype("float64")
    return out.reset_index(drop=True)
def monthly_starts(
    spell_table: pd.DataFrame, as_at: object, history_start: object,
    codes: RecordCodes | None = None,
) -> pd.DataFrame:
    """Count of new spells per line and calendar month, zero-filled.

    Months run from ``history_start``'s month to the last month *completed* by
    ``as_at``; spells that started before ``history_start`` are stock, not starts.
    ``codes``: the record's (:attr:`SpellHistory.codes`), when ``spell_table`` is a
    table of its segments (with ``first_row``): lines found from integers.

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
    if codes is not None:
        line, lines = codes.lines(spell_table["first_row"].to_numpy())
    else:
        service, services = pd.factorize(spell_table["service"])
        category, categories = pd.factorize(spell_table["category"])
        line, lines = sorted_line_codes(service, category, np.asarray(services, dtype=object),
                                    np.asarray(categories, dtype=object))
    month = (spell_table["start_date"].to_numpy(dtype="datetime64[M]").astype(np.int64)
             - np.datetime64(first.start_time, "M").astype(np.int64))
    inside = (month >= 0) & (month < len(months))
    counts = np.bincount(line[inside] * len(months) + month[inside],
                         minlength=len(lines) * len(months)).reshape(len(lines), len(months))
    index = (pd.MultiIndex.from_tuples(lines, names=LINE_KEYS) if lines
             else pd.MultiIndex.from_frame(spell_table[LINE_KEYS].iloc[:0]))
    return pd.DataFrame(counts.astype("int64"), index=index, columns=months)


#: Days before its cap (``latest_end_date``, an 18th birthday) within which an end is
#: taken to be the cap's doing: returns record the end on, or a few days before, it.
CAP_WINDOW_DAYS = 14


def censor_capped_ends(table: pd.DataFrame, placements: pd.DataFrame,
                       window: int = CAP_WINDOW_DAYS) -> pd.DataFrame:
    """Segments ending at their cap (an 18th birthday), marked censored there.

    The cap is a known end the simulation applies to each open placement
    (``latest_end_date``), so the stay model must learn the hazard of the *other*
    ends: an end within ``window`` days before the segment's ``latest_end_date`` is a
    competing risk already accounted for, and counted as censoring (``moved`` set, as
    :func:`~forecastlib.demand.history.durations` censors moves). Counting it as an end
    would raise every child's hazard by the share of care leavers ageing out and
    shorten the stays of the younger children, whom the cap does not reach this year.
    Without a ``latest_end_date`` column the table is returned unchanged.

    Examples
    --------
    >>> book = pd.DataFrame({"service": ["S"] * 2, "category": ["X"] * 2,
    ...     "client_id": ["a", "b"],
    ...     "start_date": pd.to_datetime(["2017-01-01", "2017-01-01"]),
    ...     "end_date": pd.to_datetime(["2018-05-26", "2018-01-31"]),
    ...     "latest_end_date": pd.to_datetime(["2018-05-31", "2020-01-01"])})
    >>> censor_capped_ends(segments(book), book)["moved"].tolist()
    [True, False]
    """
    if "latest_end_date" not in placements or table.empty:
        return table
    cap = placements["latest_end_date"].to_numpy(dtype="datetime64[D]")[
        table["first_row"].to_numpy()]
    end = table["end_date"].to_numpy(dtype="datetime64[D]")
    with np.errstate(invalid="ignore"):
        before = (cap - end).astype("int64")
    capped = ~np.isnat(cap) & ~np.isnat(end) & (before >= 0) & (before <= window)
    if not capped.any():
        return table
    table = table.copy()
    table["moved"] = table["moved"].to_numpy(dtype=bool) | capped
    return table
