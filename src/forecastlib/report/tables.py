"""Text tables in the style of budget monitoring reports.

Money is shown in GBP thousands with thousands separators and negatives in brackets,
as in the seeds' appendices: ``-520,124`` pounds is ``(520)``. Tables fit a
100-column terminal.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from forecastlib.calendar import fy_label
from forecastlib.outturn.forecast import OutturnResult
from forecastlib.outturn.rag import RagPolicy
from forecastlib.report.export import year_end_counts

__all__ = ["format_key_activity", "format_outturn", "gbp_thousands"]

LINE_WIDTH = 100
_NAME_WIDTH = 38


def gbp_thousands(value: float) -> str:
    """Format pounds as thousands, negatives in brackets.

    Examples
    --------
    >>> gbp_thousands(3_191_450), gbp_thousands(-520_124), gbp_thousands(float("nan"))
    ('3,191', '(520)', '-')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    thousands = round(value / 1000)
    if thousands < 0:
        return f"({-thousands:,})"
    return f"{thousands:,}"


def _number(value: float, decimals: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    text = f"{abs(value):,.{decimals}f}"
    return f"({text})" if value < 0 and round(value, decimals) != 0 else text


def _percent(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) < 0.005:
        return "0%"
    return f"({abs(value):.0%})" if value < 0 else f"{value:.0%}"


def _name(text: str, width: int = _NAME_WIDTH) -> str:
    """Shorten a label to ``width`` keeping its start and its end (where types differ)."""
    if len(text) <= width:
        return text
    tail = width // 3
    return text[: width - tail - 1] + "~" + text[-tail:]


def _lump_mask(lines: pd.DataFrame) -> pd.Series:
    """Lump lines (growth, savings targets), shown in their own block."""
    if "lump" not in lines:
        return pd.Series(False, index=lines.index)
    return lines["lump"].fillna(False).astype(bool)


def _lump_block(lumps: pd.DataFrame, row: Callable[[str, pd.Series], str],
                width: int) -> list[str]:
    """The growth and savings lines, apart from the placement lines, by service."""
    if lumps.empty:
        return []
    out = ["", "Growth and savings lines (not RAG-rated)"]
    for service, block in lumps.groupby(level="service", sort=True):
        out.append(_name(" " + str(service), width))
        for (_, category), figures in block.iterrows():
            out.append(row("   " + (category or "(lump line)"), figures))
    return out


def format_outturn(result: OutturnResult, policy: RagPolicy | None = None) -> str:
    """The outturn table: one row per line by service, then the growth and savings
    (lump) lines in their own block, and a grand total.

    A second table gives each line's probability of overspend and its placements on
    the last day of the year (mean and interval). ``policy`` only words the footnote
    (the flags themselves are in ``result``).
    """
    policy = policy or RagPolicy()
    interval = not (result.lines["lower"] == result.lines["upper"]).all()
    width = _NAME_WIDTH - 9 if interval else _NAME_WIDTH  # room for the interval column
    head = (f"{'Line':<{width}} {'Budget':>8} {'Actual':>8} {'Forecast':>9} "
            + (f"{'Interval':>15} " if interval else "")
            + f"{'Variance':>9} {'%':>6}  {'RAG':<5}")
    rule = "-" * min(LINE_WIDTH, len(head) + 2)
    out = [
        f"Forecast outturn {fy_label(result.year)} as at {result.as_at} (GBP thousands)",
        rule, head, rule,
    ]

    def row(label: str, figures: pd.Series) -> str:
        text = (f"{_name(label, width):<{width}} {gbp_thousands(figures['budget']):>8} "
                f"{gbp_thousands(figures['actual_to_date']):>8} "
                f"{gbp_thousands(figures['mean']):>9} ")
        if interval:
            span = f"{gbp_thousands(figures['lower'])}-{gbp_thousands(figures['upper'])}"
            text += f"{span:>15} "
        flag = " *" if figures["commentary_needed"] else ""
        return (text + f"{gbp_thousands(figures['variance']):>9} "
                f"{_percent(figures['variance_pct']):>6}  {figures['rag']:<5}{flag}")

    lump = _lump_mask(result.lines)
    for service, block in result.lines[~lump].groupby(level="service", sort=True):
        out.append(_name(str(service), width))
        for (_, category), figures in block.iterrows():
            out.append(row("  " + category, figures))
    out += _lump_block(result.lines[lump], row, width)
    out += [rule, row("Total", result.total), rule]
    out.append(f"* commentary needed: |variance| > max({policy.commentary_share:.0%} of "
               f"budget, GBP {policy.commentary_amount / 1000:,.0f}k)"
               + (f"; interval is the central {result.interval:.0%}" if interval else ""))
    if lump.any():
        out.append("n/a: growth and savings lines are not RAG-rated; their forecast is "
                   "actuals to date")
    out += ["", *_risk_table(result)]
    return "\n".join(line.rstrip() for line in out)


def _count_text(value: float, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}"


def _risk_table(result: OutturnResult) -> list[str]:
    counts = year_end_counts(result)
    width = _NAME_WIDTH
    head = (f"{'Line':<{width}} {'P(overspend)':>12}  {'Placements at 31 March':>22} "
            f"{'Interval':>13}")
    rule = "-" * len(head)
    out = ["Probability of overspend and placements at year-end", rule, head, rule]

    def row(label: str, probability: float, count: pd.Series) -> str:
        span = f"{_count_text(count['lower'])}-{_count_text(count['upper'])}"
        return (f"{_name(label, width):<{width}} {probability:>12.0%}  "
                f"{_count_text(count['mean'], 1):>22} {span:>13}")

    for service, block in result.lines.groupby(level="service", sort=True):
        out.append(_name(str(service), width))
        for line, figures in block.iterrows():
            out.append(row("  " + (line[1] or "(lump line)"), float(figures["prob_overspend"]),
                           counts.loc[line]))
    out += [rule, row("Total", float(result.total["prob_overspend"]), counts.iloc[-1]), rule]
    return out


def _unit_cost(value: float) -> str:
    return _number(value, 0 if abs(value) >= 1000 else 2) if not math.isnan(value) else "-"


def format_key_activity(table: pd.DataFrame) -> str:
    """The key activity table: budgeted against actual placements and unit costs.

    ``Bud no`` budgeted placements, ``Snap`` the snapshot at ``as_at``, ``Avg`` the
    yearly average, ``Unit`` the average unit cost, ``Var`` the spend variance and
    ``Vol`` / ``Price`` its exact split.
    """
    name = 23
    head = (f"{'Line':<{name}} {'Bud no':>6} {'Bud £k':>7} {'BudUnit':>7} {'Snap':>5} "
            f"{'Avg':>7} {'Spend £k':>8} {'Unit':>7} {'Var £k':>7} {'Vol':>6} {'Price':>6}")
    rule = "-" * len(head)
    out = [rule, head, rule]
    for service, block in table.groupby(level="service", sort=True):
        out.append(_name(str(service), name))
        for (_, category), r in block.iterrows():
            out.append(
                f"{_name('  ' + (category or '(lump line)'), name):<{name}} "
                f"{_number(r['budget_placements'], 0):>6} "
                f"{gbp_thousands(r['annual_budget']):>7} "
                f"{_unit_cost(r['budget_unit_cost']):>7} {r['snapshot']:>5} "
                f"{r['yearly_average']:>7.2f} {gbp_thousands(r['net_spend']):>8} "
                f"{_unit_cost(r['actual_unit_cost']):>7} "
                f"{gbp_thousands(r['spend_variance']):>7} "
                f"{gbp_thousands(r['volume_variance']):>6} "
                f"{gbp_thousands(r['price_variance']):>6}")
    out.append(rule)
    out.append("Unit costs per the line's unit (week, hour or year). Vol + Price = Var exactly.")
    return "\n".join(out)
