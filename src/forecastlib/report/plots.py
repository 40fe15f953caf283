"""Charts a finance team shows (matplotlib, from the ``plot`` extra).

Every function draws on the Axes it is given (or a new one) and returns it, so charts
compose in notebooks and reports. Money axes are in GBP thousands (``£1,234k``).

* :func:`plot_fan_chart`: cumulative spend, actual month by month from April to the
  as-at month, then the simulated fan to March with the **mean** path (the table's
  forecast) and the year-end interval (the table's lower and upper) marked;
* :func:`plot_tornado`: the sensitivity table with readable labels;
* :func:`plot_waterfall`: last month's forecast, the movement's components, this
  month's forecast;
* :func:`plot_variance`: forecast variance by service (or line), coloured by RAG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecastlib.accrual import line_costs_by_period
from forecastlib.accrual.engine import resolve_year
from forecastlib.calendar import month_ends
from forecastlib.outturn.result import OutturnResult

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from forecastlib.outturn.movement import Movement

__all__ = ["assumption_label", "cumulative_actuals", "plot_fan_chart", "plot_tornado",
           "plot_variance", "plot_waterfall"]

RAG_COLOURS = {"red": "#c0392b", "amber": "#e6a118", "green": "#2e8b57"}
_KINDS = {"price": "unit prices", "starts": "rate of new starts", "stay": "length of stay"}


def _axes(ax: Axes | None, size: tuple[float, float] = (8, 4)) -> Axes:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'forecastlib[plot]'"
                          ) from error
    return plt.subplots(figsize=size, layout="constrained")[1]


def _thousands(value: float, _position: object = None) -> str:
    thousands = value / 1000
    text = f"£{abs(thousands):,.0f}k"
    return f"-{text}" if round(thousands) < 0 else text


def _money_axis(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(_thousands))


def cumulative_actuals(placements: pd.DataFrame, as_at: object, *,
                       actuals: pd.DataFrame | None = None,
                       line: tuple[str, str] | None = None,
                       use_planned_ends: bool = True) -> pd.Series:
    """Actual spend to each month-end from April to the last month closed by ``as_at``,
    cumulative (ledger actuals when given, else the record's accrued net cost).

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> sample = load_sample()
    >>> spend = cumulative_actuals(sample.placements, sample.as_at, actuals=sample.actuals)
    >>> len(spend), str(spend.index[-1].date())
    (7, '2017-10-31')
    """
    as_at_day, year = resolve_year(as_at)
    ends = month_ends(year)
    closed = ends[ends <= as_at_day]
    if actuals is not None:
        frame = actuals
        if line is not None:
            frame = frame[(frame["service"] == line[0]) & (frame["category"] == line[1])]
        by_period = frame.groupby("period")["amount"].sum()
    else:
        costs = line_costs_by_period(placements, as_at_day, year=year,
                                     use_planned_ends=use_planned_ends)
        by_period = (costs.sum(axis=0) if line is None
                     else costs.loc[line] if line in costs.index else costs.sum(axis=0) * 0)
    monthly = by_period.reindex(range(1, len(closed) + 1)).fillna(0.0)
    return pd.Series(monthly.cumsum().to_numpy(), index=pd.to_datetime(closed),
                     name="actual")


def plot_fan_chart(result: OutturnResult, line: tuple[str, str] | None = None, *,
                   history: pd.Series | None = None, ax: Axes | None = None,
                   budget: bool = True, inset: bool | None = None, **style: Any) -> Axes:
    """Cumulative spend: actual to date, then the simulated fan to year-end.

    Bands are the central ``result.interval`` (the table's lower..upper at March) and
    the central 50% of simulated cumulative spend at each month-end; the dashed line is
    the **mean** path, ending at the table's forecast. ``history`` (from
    :func:`cumulative_actuals`) draws the actual spend month by month from April;
    ``budget`` draws the budget profiled flat over the year; ``inset`` adds the
    distribution of the year-end outturn against the budget (by default when the
    interval is narrower than 5% of the forecast, so the fan alone would be a line).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    tail = (1 - result.interval) / 2
    levels = (tail, 0.25, 0.75, 1 - tail)
    figures = result.total if line is None else result.lines.loc[line]
    if result.paths is None:  # exact forecast: one path, actual to date then the record
        paths = pd.DataFrame({level: [figures["actual_to_date"], figures["mean"]]
                              for level in levels},
                             index=pd.to_datetime([str(result.as_at), f"{result.year + 1}-03-31"]))
        draws = np.array([[figures["mean"]]])
    else:
        paths = result.spend_paths(levels, line=line)
        draws = (result.paths.sum(axis=0) if line is None
                 else result.paths[result.lines.index.get_loc(line)])
    mean = np.concatenate([[paths.iloc[0, 0]], draws.mean(axis=0)])
    dates = paths.index
    colour = style.pop("color", "tab:blue")
    ax.fill_between(dates, paths[levels[0]], paths[levels[-1]], color=colour, alpha=0.18,
                    label=f"central {result.interval:.0%}")
    ax.fill_between(dates, paths[0.25], paths[0.75], color=colour, alpha=0.35,
                    label="central 50%")
    ax.plot(dates, mean, color=colour, linestyle="--", label="forecast (mean)", **style)
    start = pd.Timestamp(f"{result.year}-04-01")
    if history is not None and len(history):
        points = pd.concat([pd.Series([0.0], index=[start]), history.astype(float)])
        if points.index[-1] != dates[0]:
            points = pd.concat([points, pd.Series([paths.iloc[0, 0]], index=[dates[0]])])
        ax.plot(points.index, points.to_numpy(), color="black", marker="o", markersize=3,
                label="actual to date")
    else:
        ax.plot([dates[0]], [paths.iloc[0, 0]], "ko", markersize=4, label="actual to date")
    year_end = dates[-1]
    ax.errorbar([year_end], [figures["mean"]],
                yerr=[[figures["mean"] - figures["lower"]], [figures["upper"] - figures["mean"]]],
                fmt="o", color=colour, capsize=4)
    ax.annotate(f"{_thousands(figures['mean'])}\n({_thousands(figures['lower'])} to "
                f"{_thousands(figures['upper'])})", (year_end, figures["mean"]),
                xytext=(-8, 0), textcoords="offset points", ha="right", va="center",
                fontsize=8)
    if budget:
        ax.plot([start, year_end], [0.0, figures["budget"]], color="0.35", linestyle=":",
                linewidth=1.2, label="budget (flat profile)")
    ax.set_xlim(start - pd.Timedelta(days=5), year_end + pd.Timedelta(days=10))
    _money_axis(ax.yaxis)
    ends = pd.to_datetime(month_ends(result.year))
    ax.set_xticks(ends, [f"{d:%b}" for d in ends])
    ax.set_xlabel("month end")
    if inset is None:
        inset = (figures["upper"] - figures["lower"]) < 0.05 * abs(figures["mean"])
    if inset and result.outturns is not None:
        outturns = (result.outturns.sum(axis=0) if line is None
                    else result.outturns[result.lines.index.get_loc(line)])
        _outturn_inset(ax, outturns, figures, result.interval, colour)
    name = "All lines" if line is None else f"{line[1] or '(lump line)'} ({line[0]})"
    ax.set_title(f"{name}: cumulative spend, as at {result.as_at}")
    ax.set_ylabel("cumulative net spend")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return ax


def _outturn_inset(ax: Axes, outturns: np.ndarray, figures: pd.Series, interval: float,
                   colour: str) -> None:
    from matplotlib.ticker import MaxNLocator

    inner = ax.inset_axes([0.6, 0.08, 0.37, 0.36])
    inner.hist(outturns, bins=40, color=colour, alpha=0.45)
    for value, style in ((figures["lower"], ":"), (figures["upper"], ":"),
                         (figures["mean"], "--")):
        inner.axvline(value, color=colour, linestyle=style, linewidth=1)
    inner.axvline(figures["budget"], color="0.25", linewidth=1.2)
    inner.set_yticks([])
    _money_axis(inner.xaxis)
    inner.tick_params(labelsize=6)
    inner.xaxis.set_major_locator(MaxNLocator(4))
    inner.set_title(f"Year-end outturn: mean, central {interval:.0%} (dotted), "
                    "budget (solid)", fontsize=6)


def assumption_label(name: str, low: float, high: float) -> str:
    """A readable label for a sensitivity assumption key.

    Examples
    --------
    >>> assumption_label("price|LAC Placements / Residential homes", 0.9, 1.1)
    'Residential homes (LAC Placements): unit prices -10% to +10%'
    >>> assumption_label("inflation", -0.02, 0.02)
    'Price inflation of new placements: -2.0 to +2.0 points a year'
    """
    if name == "inflation":
        return (f"Price inflation of new placements: {low * 100:+.1f} to {high * 100:+.1f} "
                "points a year")
    kind, _, where = name.partition("|")
    service, _, category = where.partition(" / ")
    place = "All lines" if where in ("", "*") else (
        f"{category} ({service})" if category else service)
    what = _KINDS.get(kind, kind)
    return f"{place}: {what} {(low - 1) * 100:+.0f}% to {(high - 1) * 100:+.0f}%"


def plot_tornado(table: pd.DataFrame, *, ax: Axes | None = None,
                 labels: dict[str, str] | None = None, **style: Any) -> Axes:
    """A tornado chart of :func:`forecastlib.tornado`'s table: each assumption's low and
    high expected total outturn around the base, largest swing on top.

    ``labels`` maps assumption keys to labels (default :func:`assumption_label`).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, (9, 0.5 * len(table) + 1.5))
    base = table.attrs.get("base", float((table["outturn_low"] + table["outturn_high"]).mean()
                                         / 2))
    ordered = table.iloc[::-1]
    positions = np.arange(len(ordered))
    low = (ordered["outturn_low"] - base).to_numpy()
    high = (ordered["outturn_high"] - base).to_numpy()
    ax.barh(positions, low, color=style.pop("low_color", "tab:blue"), label="low value")
    ax.barh(positions, high, color=style.pop("high_color", "tab:red"), label="high value")
    names = [(labels or {}).get(str(name)) or assumption_label(str(name), row["low"],
                                                                 row["high"])
             for name, row in ordered.iterrows()]
    ax.set_yticks(positions, names, fontsize=8)
    ax.axvline(0, color="0.3", linewidth=1)
    _money_axis(ax.xaxis)
    ax.set_xlabel(f"change in expected total outturn (base {_thousands(base)})")
    ax.set_title("Sensitivity of the outturn (one assumption at a time)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_waterfall(moved: Movement, line: tuple[str, str] | None = None, *,
                   ax: Axes | None = None) -> Axes:
    """Last month's forecast, each component of the movement, this month's forecast.

    Increases are red (more spend), decreases green; the bars end exactly at this
    month's forecast because the components sum to the change.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from forecastlib.outturn.movement import MOVEMENT_COMPONENTS
    from forecastlib.report.movement import COMPONENT_LABELS

    ax = _axes(ax, (9, 4.5))
    row = moved.total if line is None else moved.lines.loc[line]
    steps = [float(row[name]) for name in MOVEMENT_COMPONENTS]
    names = ["Last month", *[COMPONENT_LABELS[name] for name in MOVEMENT_COMPONENTS], "This month"]
    bottoms, heights, colours = [0.0], [float(row["previous"])], ["0.55"]
    level = float(row["previous"])
    for step in steps:
        bottoms.append(level if step >= 0 else level + step)
        heights.append(abs(step))
        colours.append(RAG_COLOURS["red"] if step > 0 else RAG_COLOURS["green"])
        level += step
    bottoms.append(0.0)
    heights.append(float(row["current"]))
    colours.append("0.35")
    positions = np.arange(len(names))
    ax.bar(positions, heights, bottom=bottoms, color=colours, width=0.6)
    running = np.cumsum([float(row["previous"]), *steps])
    for k, top in enumerate(running):  # connectors at the running level
        ax.plot([k + 0.3, k + 0.7], [top, top], color="0.5", linewidth=0.8)
    values = [float(row["previous"]), *steps, float(row["current"])]
    for k, value in enumerate(values):
        ax.annotate(_thousands(value) if k in (0, len(values) - 1)
                    else ("+" if value > 0 else "") + _thousands(value),
                    (k, bottoms[k] + heights[k]), xytext=(0, 3), textcoords="offset points",
                    ha="center", fontsize=8)
    low = min(min(bottoms[1:-1]), level) if len(steps) else level
    high = max(b + h for b, h in zip(bottoms[1:-1], heights[1:-1], strict=True))
    span = max(high - low, abs(level) * 0.002, 1.0)
    ax.set_ylim(max(0.0, low - 0.6 * span) if low >= 0 else low - 0.6 * span,
                high + 0.6 * span)
    ax.set_xticks(positions, names, rotation=20, ha="right", fontsize=8)
    _money_axis(ax.yaxis)
    name = "All lines" if line is None else f"{line[1] or '(lump line)'} ({line[0]})"
    ax.set_title(f"{name}: movement in the forecast, {moved.previous.as_at} to "
                 f"{moved.current.as_at}")
    ax.grid(axis="y", alpha=0.3)
    return ax


def plot_variance(result: OutturnResult, *, by: str = "service", ax: Axes | None = None,
                  policy: Any = None) -> Axes:
    """Forecast variance (mean minus budget) by service or by line, with its interval
    and coloured by RAG (rated on the service's own budget when ``by="service"``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    from forecastlib.outturn.rag import RagPolicy

    policy = policy or RagPolicy()
    lines = result.lines
    if by == "service":
        groups = lines.index.get_level_values("service")
        names = sorted(set(groups))
        budget = np.array([lines.loc[groups == n, "budget"].sum() for n in names])
        if result.outturns is not None:
            draws = np.vstack([result.outturns[np.asarray(groups == n)].sum(axis=0)
                               for n in names])
        else:
            draws = np.array([[lines.loc[groups == n, "mean"].sum()] for n in names])
        tail = (1 - result.interval) / 2
        mean = draws.mean(axis=1)
        lower, upper = np.quantile(draws, tail, axis=1), np.quantile(draws, 1 - tail, axis=1)
        rag = policy.assess(budget, mean)["rag"]
    elif by == "line":
        names = [f"{c or '(lump)'} ({s})" for s, c in lines.index]
        budget, mean = lines["budget"].to_numpy(), lines["mean"].to_numpy()
        lower, upper = lines["lower"].to_numpy(), lines["upper"].to_numpy()
        rag = lines["rag"].to_numpy()
    else:
        raise ValueError(f"by must be 'service' or 'line', got {by!r}")
    ax = _axes(ax, (9, 0.32 * len(names) + 1.5))
    positions = np.arange(len(names))[::-1]
    variance = mean - budget
    ax.barh(positions, variance, color=[RAG_COLOURS[str(r)] for r in rag],
            xerr=[variance - (lower - budget), (upper - budget) - variance],
            error_kw={"ecolor": "0.3", "capsize": 3, "linewidth": 0.8})
    ax.set_yticks(positions, names, fontsize=8)
    ax.axvline(0, color="0.3", linewidth=1)
    _money_axis(ax.xaxis)
    ax.set_xlabel(f"forecast variance against budget (bars: mean; whiskers: central "
                  f"{result.interval:.0%})")
    ax.set_title(f"Forecast variance by {by}, as at {result.as_at}")
    ax.grid(axis="x", alpha=0.3)
    return ax
