"""Charts for outturn results (matplotlib, from the ``plot`` extra).

Every function draws on the Axes it is given (or a new one) and returns it, so charts
compose in notebooks and reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forecastlib.outturn.result import OutturnResult

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_fan_chart", "plot_tornado"]


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'forecastlib[plot]'"
                          ) from error
    return plt.subplots(figsize=(8, 4))[1]


def plot_fan_chart(result: OutturnResult, line: tuple[str, str] | None = None, *,
                   ax: Axes | None = None, budget: bool = True, **style: Any) -> Axes:
    """Cumulative spend to date and its simulated path to year-end, as a fan chart.

    Bands are the central 80% and 50% of simulated cumulative spend at each month-end,
    with the median; ``budget`` draws the budget as a horizontal line.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    paths = result.spend_paths((0.1, 0.25, 0.5, 0.75, 0.9), line=line)
    dates = paths.index
    colour = style.pop("color", "tab:blue")
    ax.fill_between(dates, paths[0.1], paths[0.9], color=colour, alpha=0.2, label="80%")
    ax.fill_between(dates, paths[0.25], paths[0.75], color=colour, alpha=0.35, label="50%")
    ax.plot(dates, paths[0.5], color=colour, label="median", **style)
    if budget:
        amount = (result.total["budget"] if line is None
                  else result.lines.loc[line, "budget"])
        ax.axhline(amount, color="0.3", linestyle="--", linewidth=1, label="budget")
    ax.set_title(("Total" if line is None else " / ".join(line))
                 + f": cumulative spend, as at {result.as_at}")
    ax.set_ylabel("GBP")
    ax.legend(loc="upper left")
    return ax


def plot_tornado(table: object, *, ax: Axes | None = None, **style: Any) -> Axes:
    """A tornado chart of :func:`forecastlib.tornado`'s table: each assumption's low and
    high expected total outturn around the base, largest swing on top.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    base = table.attrs.get("base", float((table["outturn_low"] + table["outturn_high"]).mean()
                                         / 2))
    ordered = table.iloc[::-1]
    positions = range(len(ordered))
    low = ordered["outturn_low"] - base
    high = ordered["outturn_high"] - base
    ax.barh(list(positions), low.to_numpy(), color=style.pop("low_color", "tab:blue"),
            label="low")
    ax.barh(list(positions), high.to_numpy(), color=style.pop("high_color", "tab:red"),
            label="high")
    ax.set_yticks(list(positions), [str(name) for name in ordered.index])
    ax.axvline(0, color="0.3", linewidth=1)
    ax.set_xlabel("change in expected total outturn (GBP)")
    ax.set_title("Sensitivity of the outturn (one assumption at a time)")
    ax.legend(loc="lower right")
    return ax
