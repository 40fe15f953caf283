"""Truth-known authorities: simulated records whose real outturn is known.

For calibration studies. Each line has known parameters: a monthly start rate with a
log-linear trend and seasonality,

.. math:: \\log \\lambda_t = \\log \\lambda_0 + \\log(1 + g)\\,\\tau_t
          + A \\cos(2\\pi (m_t - 9) / 12)

(``tau`` years from ``as_at``, ``m`` month of year), log-normal lengths of stay and
log-normal weekly prices inflating at a known yearly rate. An authority's whole history
is simulated to the end of the financial year; the **record** is what was known on
``as_at`` (spells started by then, with an end date only if they had ended), and the
**truth** is each line's accrued net cost over the whole year. The studies in
``tests/simulation/test_calibration.py`` and ``docs/outturn.md`` forecast from the
record and compare with the truth.

A :class:`World` makes the record less tidy, as real ones are (``WORLD_KINDS``):

* ``uplift``: every placement is split into yearly episodes at each 1 April, its price
  uplifted by the line's inflation (one client, touching episodes);
* ``moves``: a share of spells move to another line part-way (a new episode there,
  same client, at that line's price);
* ``shift``: each line's start rate jumps by x1.3-1.6 six to nine months before
  ``as_at`` (with probability one half; at least one line shifts);
* ``wandering_demand``: the log start rate is a random walk (monthly steps);
* ``wandering_prices``: the log price of new placements follows a random walk shared
  by every line (a market), plus a smaller one per line;
* ``common``: one shock a financial year to every line's start rate and prices;
* ``mixed``: all of the above at once.

Random walks are anchored at ``as_at`` (the spec's rate and price are the levels then)
and keep wandering to the year end, unknown to the forecast and to the oracle.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from forecastlib.accrual import accrue
from forecastlib.calendar import financial_year, fy_end, fy_start
from forecastlib.records import read_placements
from forecastlib.streams import stream

__all__ = ["WORLD_KINDS", "TruthAuthority", "TruthSpec", "World", "oracle_models",
           "simulate_authority"]

HISTORY_YEARS = 12
WORLD_KINDS = ("tidy", "uplift", "moves", "shift", "wandering_demand", "wandering_prices",
               "common", "mixed")


@dataclass(frozen=True)
class TruthSpec:
    """Known parameters of one line."""

    category: str
    starts_per_month: float  # at as_at, before seasonality
    growth: float  # yearly growth of the start rate
    seasonality: float  # amplitude A of the log seasonal term
    mean_stay_days: float
    stay_sigma: float
    weekly_price: float  # median at as_at
    price_sigma: float
    inflation: float = 0.025
    service: str = "Children"

    @property
    def stay(self) -> stats.rv_continuous:
        """The true length-of-stay distribution (days)."""
        mu = np.log(self.mean_stay_days) - self.stay_sigma**2 / 2
        return stats.lognorm(self.stay_sigma, scale=np.exp(mu))

    def log_rate(self, months: pd.PeriodIndex, as_at: np.datetime64) -> np.ndarray:
        """Log monthly start rate for ``months``."""
        years = (months.start_time.to_numpy().astype("datetime64[D]") - as_at).astype(
            float) / 365.25
        return (np.log(self.starts_per_month) + np.log1p(self.growth) * years
                + self.seasonality * np.cos(2 * np.pi * (months.month.to_numpy() - 9) / 12))


@dataclass(frozen=True)
class World:
    """How an authority's history departs from the tidy one (module notes)."""

    uplift_episodes: bool = False
    moves: tuple[tuple[str, str, float], ...] = ()  # (from, to category, probability)
    shift_probability: float = 0.0
    shift_factor: tuple[float, float] = (1.3, 1.6)
    shift_months: tuple[int, int] = (6, 9)
    demand_walk: float = 0.0  # monthly sd of the log start rate's random walk
    price_walk: float = 0.0  # monthly sd of the common log price level's random walk
    line_price_walk: float = 0.0  # monthly sd of each line's own log price walk
    common_demand: float = 0.0  # sd of the yearly log shock shared by start rates
    common_price: float = 0.0  # sd of the yearly log shock shared by prices

    @classmethod
    def of(cls, kind: str, categories: tuple[str, ...] = ("Residential", "Fostering",
                                                          "Supported")) -> World:
        """The world of a named kind (``WORLD_KINDS``); moves run between ``categories``
        (first to third: step-down; second to first: placement breakdown)."""
        moves = ((categories[0], categories[2], 0.3), (categories[1], categories[0], 0.1))
        kinds = {
            "tidy": cls(),
            "uplift": cls(uplift_episodes=True),
            "moves": cls(moves=moves),
            "shift": cls(shift_probability=0.5),
            "wandering_demand": cls(demand_walk=0.04),
            "wandering_prices": cls(price_walk=0.012, line_price_walk=0.006),
            "common": cls(common_demand=0.12, common_price=0.04),
            "mixed": cls(True, moves, 0.5, demand_walk=0.04, price_walk=0.012,
                         line_price_walk=0.006, common_demand=0.12, common_price=0.04),
        }
        if kind not in kinds:
            raise ValueError(f"unknown world kind {kind!r}; choose from {WORLD_KINDS}")
        return kinds[kind]


@dataclass(frozen=True)
class TruthAuthority:
    """A simulated authority: its record at ``as_at`` and its true outturn.

    ``shifted`` names the lines whose start rate shifted; ``oracle`` holds, per line,
    what an oracle knows at ``as_at``: ``log_rate_shift`` (the start rate's log level
    against the spec's, moves in included; ``log_moves_in``, where there are any, their
    part of it), ``log_price`` (the price level's) and
    ``stay`` (the line's true length of stay, moves out included); ``world`` the
    generator's parameters (the parameter oracle's dynamics).
    """

    placements: pd.DataFrame
    truth: pd.Series  # true full-year net cost per (service, category)
    as_at: np.datetime64
    specs: tuple[TruthSpec, ...]
    kind: str = "tidy"
    shifted: tuple[tuple[str, str], ...] = ()
    oracle: dict = field(default_factory=dict)
    world: World = field(default_factory=World)


def _walk(rng: np.random.Generator, sd: float, size: int, anchor: int) -> np.ndarray:
    """A random walk of monthly steps with sd ``sd``, zero at position ``anchor``."""
    if sd <= 0:
        return np.zeros(size)
    path = np.cumsum(rng.normal(0.0, sd, size))
    return path - path[anchor]


def _uplift_split(history: pd.DataFrame, inflation: dict[str, float]) -> pd.DataFrame:
    """Split every episode at each 1 April after its start; uplift each piece's price."""
    start = history["start"].to_numpy(dtype="datetime64[D]")
    end = history["end"].to_numpy(dtype="datetime64[D]")
    first_year, last_year = financial_year(start), financial_year(end)
    pieces = (last_year - first_year + 1).astype(int)
    row = np.repeat(np.arange(len(history)), pieces)
    k = np.arange(row.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    year = first_year[row] + k
    piece_start = np.where(k == 0, start[row], np.asarray(fy_start(year)))
    piece_end = np.minimum(end[row], np.asarray(fy_end(year)))
    out = history.iloc[row].reset_index(drop=True)
    rate = out["category"].map(inflation).to_numpy(dtype=float)
    out["start"], out["end"] = piece_start, piece_end
    out["unit_cost"] = np.round(out["unit_cost"].to_numpy() * (1 + rate) ** k, 2)
    return out


def simulate_authority(specs: tuple[TruthSpec, ...], as_at: str, seed: int,
                       world: World | str = "tidy") -> TruthAuthority:
    """Simulate an authority's history with known parameters (see module notes)."""
    kind = world if isinstance(world, str) else "custom"
    world = World.of(world, tuple(s.category for s in specs)) if isinstance(world, str) else world
    rng = np.random.default_rng(seed)
    as_at_day = np.datetime64(as_at, "D")
    year_end = np.datetime64(fy_end(financial_year(as_at_day)), "D")
    first = (as_at_day - np.timedelta64(365 * HISTORY_YEARS, "D")).astype("datetime64[M]")
    months = pd.period_range(pd.Period(str(first), freq="M"),
                             pd.Period(str(year_end), freq="M"), freq="M")
    now = months.get_loc(pd.Period(str(as_at_day), freq="M"))
    fiscal = np.asarray(financial_year(months.start_time.to_numpy().astype("datetime64[D]")))
    fiscal = fiscal - fiscal.min()
    world_rng = stream(seed, ("*", "world"), "extra")
    common_demand = world_rng.normal(0, world.common_demand, fiscal.max() + 1)[fiscal]
    common_price = (world_rng.normal(0, world.common_price, fiscal.max() + 1)[fiscal]
                    + _walk(world_rng, world.price_walk, len(months), now))
    shifted = [spec for spec in specs if world_rng.random() < world.shift_probability]
    if world.shift_probability > 0 and not shifted:
        shifted = [specs[int(world_rng.integers(len(specs)))]]
    frames, oracle, price_level = [], {}, {}
    for spec in specs:
        log_rate = spec.log_rate(months, as_at_day) + common_demand
        log_rate = log_rate + _walk(rng, world.demand_walk, len(months), now)
        if spec in shifted:
            factor = world_rng.uniform(*world.shift_factor)
            lag = int(world_rng.integers(world.shift_months[0], world.shift_months[1] + 1))
            log_rate[now - lag + 1:] += np.log(factor)
        price_level[spec.category] = common_price + _walk(
            world_rng, world.line_price_walk, len(months), now)
        oracle[(spec.service, spec.category)] = {
            "log_rate_shift": float(log_rate[now] - spec.log_rate(months[now:now + 1],
                                                                  as_at_day)[0]),
            "log_price": float(price_level[spec.category][now]), "stay": spec.stay}
        counts = rng.poisson(np.exp(log_rate))
        month = np.repeat(np.arange(len(months)), counts)
        month_start = months.start_time.to_numpy().astype("datetime64[D]")[month]
        days = months.days_in_month.to_numpy()[month]
        start = month_start + np.floor(rng.random(month.size) * days).astype("timedelta64[D]")
        stay = np.maximum(np.ceil(spec.stay.rvs(size=month.size, random_state=rng)), 1)
        end = start + (stay.astype(int) - 1).astype("timedelta64[D]")
        frames.append(pd.DataFrame({"service": spec.service, "category": spec.category,
                                    "start": start, "end": end, "month": month,
                                    "unit_cost": _price(spec, start, month, as_at_day,
                                                        price_level, rng)}))
    history = pd.concat(frames, ignore_index=True)
    history["client"] = np.arange(len(history))
    by_category = {spec.category: spec for spec in specs}
    for source, target, probability in world.moves:
        history = _move(history, by_category, source, target, probability, as_at_day,
                        price_level, months, rng, oracle)
    if world.uplift_episodes:
        history = _uplift_split(history, {s.category: s.inflation for s in specs})
    history_start = np.datetime64(str(first), "D") + np.timedelta64(365 * 2, "D")
    history = history[history["end"] >= history_start].reset_index(drop=True)
    ids = np.char.add("P", np.arange(len(history)).astype(str))
    full = read_placements(pd.DataFrame({
        "placement_id": ids, "client_id": np.char.add("C", history["client"].to_numpy(
            ).astype(str)), "service": history["service"], "category": history["category"],
        "start_date": np.datetime_as_string(history["start"].to_numpy(dtype="datetime64[D]")),
        "end_date": np.datetime_as_string(history["end"].to_numpy(dtype="datetime64[D]")),
        "unit_cost": history["unit_cost"]}))
    truth = accrue(full, as_at_day).groupby(["service", "category"])["net_year"].sum()
    known = (full["start_date"] <= pd.Timestamp(as_at_day)).to_numpy()
    record = full[known].copy()
    still_open = record["end_date"] > pd.Timestamp(as_at_day)
    record.loc[still_open, "end_date"] = pd.NaT
    return TruthAuthority(record.reset_index(drop=True), truth, as_at_day, tuple(specs),
                          kind, tuple((s.service, s.category) for s in shifted), oracle,
                          world)


def _price(spec: TruthSpec, start: np.ndarray, month: np.ndarray, as_at: np.datetime64,
           price_level: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    years = (start - as_at).astype(float) / 365.25
    return np.round(spec.weekly_price * (1 + spec.inflation) ** years
                    * np.exp(price_level[spec.category][month])
                    * rng.lognormal(0, spec.price_sigma, len(start)), 2)


def _move(history: pd.DataFrame, specs: dict[str, TruthSpec], source: str, target: str,
          probability: float, as_at: np.datetime64, price_level: dict[str, np.ndarray],
          months: pd.PeriodIndex, rng: np.random.Generator, oracle: dict) -> pd.DataFrame:
    """Move a share of ``source``'s spells to ``target`` part-way through their stay."""
    if source not in specs or target not in specs:
        return history
    rows = np.flatnonzero((history["category"] == source).to_numpy())
    length = (history["end"].to_numpy(dtype="datetime64[D]")[rows]
              - history["start"].to_numpy(dtype="datetime64[D]")[rows]).astype(int) + 1
    moving = rows[(rng.random(len(rows)) < probability) & (length >= 2)]
    fraction = rng.uniform(0.2, 0.8, len(moving))
    start = history["start"].to_numpy(dtype="datetime64[D]")[moving]
    end = history["end"].to_numpy(dtype="datetime64[D]")[moving]
    days = (end - start).astype(int) + 1
    kept = np.maximum(np.floor(fraction * days).astype(int), 1)
    move_day = start + kept.astype("timedelta64[D]")
    month = np.clip(np.searchsorted(months.start_time.to_numpy().astype("datetime64[D]"),
                                    move_day, side="right") - 1, 0, len(months) - 1)
    moved = history.iloc[moving].copy()
    moved["category"] = target
    moved["service"] = specs[target].service
    moved["start"], moved["month"] = move_day, month
    moved["unit_cost"] = _price(specs[target], move_day, month, as_at, price_level, rng)
    history = history.copy()
    history.loc[history.index[moving], "end"] = move_day - np.timedelta64(1, "D")
    # What the oracle knows: source stays end at the move for a share of spells (its stay
    # is a mixture, summarised by a log-normal of the same log moments), and the target
    # receives the moved spells as starts.
    spec = specs[source]
    sample = spec.stay.rvs(size=20_000, random_state=np.random.default_rng(0))
    sample = np.where(np.random.default_rng(1).random(sample.size) < probability,
                      sample * np.random.default_rng(2).uniform(0.2, 0.8, sample.size), sample)
    log = np.log(np.maximum(sample, 1))
    oracle[(spec.service, source)]["stay"] = stats.lognorm(log.std(), scale=np.exp(log.mean()))
    target_key = (specs[target].service, target)
    source_rate = np.exp(spec.log_rate(months[-13:-12], as_at)[0]
                         + oracle[(spec.service, source)]["log_rate_shift"])
    target_rate = np.exp(specs[target].log_rate(months[-13:-12], as_at)[0]
                         + oracle[target_key]["log_rate_shift"])
    moves_in = float(np.log1p(probability * source_rate / target_rate))
    oracle[target_key]["log_rate_shift"] += moves_in
    oracle[target_key]["log_moves_in"] = oracle[target_key].get("log_moves_in", 0.0) + moves_in
    return pd.concat([history, moved], ignore_index=True)


class _OracleStarts:
    """Start counts at the true rates (no parameter uncertainty); everything else is
    the fitted starts model's. ``moves_in=False``: new spells only (the rate without the
    moves in, ``log_moves_in``), for forecasts that keep a fitted move model."""

    def __init__(self, fitted: object, authority: TruthAuthority, moves_in: bool = True):
        self._fitted = fitted
        self._authority = authority
        self._moves_in = moves_in

    def __getattr__(self, name: str) -> object:
        return getattr(self._fitted, name)

    def simulate(self, horizon: int, simulations: int, seed: int | None = None,
                 parameter_uncertainty: bool = True,
                 rate_factors: dict | None = None, **_: object) -> np.ndarray:
        months = self._fitted.future_months(horizon)
        specs = {(s.service, s.category): s for s in self._authority.specs}
        lines = list(self._fitted.fits_.index)
        out = np.zeros((len(lines), simulations, horizon), dtype=np.int64)
        for position, line in enumerate(lines):
            if line not in specs:
                continue
            known = self._authority.oracle.get(line, {})
            shift = known.get("log_rate_shift", 0.0)
            if not self._moves_in:
                shift -= known.get("log_moves_in", 0.0)
            mean = np.exp(specs[line].log_rate(months, self._authority.as_at) + shift)
            if rate_factors is not None and line in rate_factors:
                mean = mean * np.asarray(rate_factors[line], dtype=float)
            out[position] = stream(seed, line, "counts").poisson(
                np.broadcast_to(mean, (simulations, horizon)))
        return out


def oracle_models(authority: TruthAuthority, fitted: object, price_draws: int = 20_000,
                  seed: int = 0) -> object:
    """Demand models that know the true parameters (the oracle of a calibration study).

    ``fitted`` is a :class:`~forecastlib.simulation.DemandModels` fitted to the
    authority's record; a copy is returned with every line's length of stay, start rate
    (its level at ``as_at``, trend and seasonality; no parameter uncertainty) and price
    distribution (at its level at ``as_at``, true inflation, no market shock) replaced
    by the truth. Future wandering and shocks are unknown to it too. In a world with
    moves the oracle's stays end at a move and its target lines' starts include the
    moves in, so the fitted move model is left out (keeping it would count every move
    twice: once as the oracle's start, once as a simulated move).
    """
    oracle = copy.copy(fitted)
    if authority.world.moves:
        oracle.moves = None
    oracle.stays = copy.deepcopy(fitted.stays)
    oracle.stays.draws = 0
    oracle.prices = copy.deepcopy(fitted.prices)
    oracle.starts = _OracleStarts(fitted.starts, authority)
    rng = np.random.default_rng(seed)
    prices = oracle.prices
    prices.jitter, prices.draws = 0.0, 0
    prices.market_ = {key: 0.0 for key in getattr(prices, "market_", {})}
    for spec in authority.specs:
        line = (spec.service, spec.category)
        known = authority.oracle.get(line, {"stay": spec.stay, "log_price": 0.0})
        oracle.stays._frozen[line] = known["stay"]
        sample = spec.weekly_price * np.exp(known["log_price"]) * rng.lognormal(
            0, spec.price_sigma, price_draws)
        prices.pools_[line] = pd.DataFrame({
            "unit_cost": sample, "unit": "week", "units_per_week": 1.0,
            "weeks_per_year": 52.0, "income_per_week": 0.0})
        prices.inflation_[spec.service] = spec.inflation
        if hasattr(prices, "inflation_se_"):
            prices.inflation_se_[spec.service] = 0.0
        if hasattr(prices, "pool_years_"):
            prices.pool_years_.pop(line, None)
    return oracle
