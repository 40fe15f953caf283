"""Row schemas of the input files, as pydantic models.

Each model is the single description of one file's row: its fields give the column
names, types, defaults and bounds, and its :data:`RULES` give the checks that involve
more than one column. The bulk validator (:mod:`forecastlib.records.validate`) reads
the models to validate whole columns at once with numpy and pandas; the models also
validate a single row built in Python::

    >>> from forecastlib.records.schema import PlacementRecord
    >>> PlacementRecord(placement_id="P1", client_id="C1", service="LAC Placements",
    ...                 category="Residential homes", start_date="2017-04-01",
    ...                 unit_cost=3000).weeks_per_year
    52.0
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

import numpy as np
import pandas as pd
from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "MAX_ANNUAL_PRICE",
    "MAX_LINE_AMOUNT",
    "UNITS",
    "after",
    "annual_price",
    "ActualRecord",
    "BudgetRecord",
    "ColumnSpec",
    "PlacementRecord",
    "RowRule",
    "column_specs",
    "register_rules",
    "rules_for",
    "unique_key",
]

Unit = Literal["week", "day", "hour", "session", "year"]
#: The units a price may be quoted in (the contract's ``unit`` column).
UNITS: tuple[str, ...] = get_args(Unit)

@dataclass(frozen=True)
class RowRule:
    """A check across columns, evaluated on a whole frame at once.

    ``violated(frame)`` returns a boolean mask of the rows that break the rule; the
    problem is reported against ``column`` with the message ``expected``.
    """

    column: str
    expected: str
    violated: Callable[[pd.DataFrame], np.ndarray]


def after(later: str, earlier: str) -> Callable[[pd.DataFrame], np.ndarray]:
    def violated(frame: pd.DataFrame) -> np.ndarray:
        return (frame[later] < frame[earlier]).to_numpy(dtype=bool, na_value=False)

    return violated


def _weekly_units_not_one(frame: pd.DataFrame) -> np.ndarray:
    return ((frame["unit"] == "week") & (frame["units_per_week"] != 1)).to_numpy(dtype=bool)


#: A price above this much a placement-year (GBP) is refused as absurd.
MAX_ANNUAL_PRICE = 1e9
#: A line amount (a budget, a month's ledger total) above this (GBP) is refused as absurd.
MAX_LINE_AMOUNT = 1e10
#: More budgeted placements than this in one line is refused as absurd.
MAX_PLACEMENTS = 1e6
_TOTAL = r"(?i)^(?:grand|sub|sub-|sub )?\s*totals?\b.*|.*\b(?:sub-?)?totals?$"


def annual_price(cost: pd.Series, frame: pd.DataFrame) -> np.ndarray:
    """A price per unit as the cost of one placement for a year (365 days)."""
    cost = pd.to_numeric(cost, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    weekly = (cost * pd.to_numeric(frame["units_per_week"]).to_numpy(dtype="float64")
              * pd.to_numeric(frame["weeks_per_year"]).to_numpy(dtype="float64") / 52)
    return np.where((frame["unit"] == "year").to_numpy(dtype=bool), cost, weekly * 365 / 7)


def _absurd_price(column: str) -> Callable[[pd.DataFrame], np.ndarray]:
    def violated(frame: pd.DataFrame) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            return ~(annual_price(frame[column], frame) <= MAX_ANNUAL_PRICE) \
                & frame[column].notna().to_numpy(dtype=bool)  # NaN: no price given

    return violated


def _absurd_income(frame: pd.DataFrame) -> np.ndarray:
    with np.errstate(over="ignore"):
        income = pd.to_numeric(frame["income_per_week"], errors="coerce")
        return (income * 365 / 7 > MAX_ANNUAL_PRICE).to_numpy(dtype=bool, na_value=False)


def _absurd_amount(column: str, limit: float) -> Callable[[pd.DataFrame], np.ndarray]:
    def violated(frame: pd.DataFrame) -> np.ndarray:
        values = pd.to_numeric(frame[column], errors="coerce")
        return (values.abs() > limit).to_numpy(dtype=bool, na_value=False)

    return violated


def _total_row(column: str) -> Callable[[pd.DataFrame], np.ndarray]:
    def violated(frame: pd.DataFrame) -> np.ndarray:
        names = frame[column].astype(str).str.replace("\u00a0", " ")
        return names.str.strip().str.fullmatch(_TOTAL).to_numpy(dtype=bool, na_value=False)

    return violated


_PRICE_LIMIT = ("a price under £1bn a placement-year ({0} x units_per_week x weeks_per_year "
                "/ 52 x 365 / 7, or {0} itself for a 'year' unit): check for a misplaced "
                "decimal point or a number that is not a price")
_TOTAL_EXPECTED = ("a budget line, not a total or subtotal: remove total rows (forecastlib "
                   "adds the lines up itself, and a total taken as a line doubles the budget)")


def _budget_amount_missing(frame: pd.DataFrame) -> np.ndarray:
    return (
        frame["annual_budget"].isna()
        & (frame["budget_placements"].isna() | frame["budget_unit_cost"].isna())
    ).to_numpy(dtype=bool)


#: Marks a money field: ``£``, thousands groups and accounting brackets are read.
_MONEY = {"money": True}


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @model_validator(mode="after")
    def _cross_column_rules(self) -> _Row:
        frame = pd.DataFrame([self.model_dump()])
        for column in frame.columns:
            if frame[column].dtype == object and isinstance(frame[column].iloc[0], dt.date):
                frame[column] = pd.to_datetime(frame[column])
        for rule in rules_for(type(self)):
            if rule.violated(frame)[0]:
                raise ValueError(f"{rule.column}: {rule.expected}")
        return self


class PlacementRecord(_Row):
    """One placement episode: a row of ``placements.csv``.

    A price change, a move between placement types or a change of provider closes one
    episode and opens another, so the price of an episode is constant.
    """

    placement_id: str = Field(min_length=1, description="unique per row")
    client_id: str = Field(min_length=1, description="the person; episodes may share it")
    service: str = Field(min_length=1, description="the budget line")
    category: str = Field(min_length=1, description="placement / need / package type")
    start_date: dt.date = Field(description="first day of the episode")
    end_date: dt.date | None = Field(None, description="last day, if ended or fixed")
    planned_end_date: dt.date | None = Field(None, description="assumed end of an open episode")
    unit_cost: float = Field(ge=0, description="price per unit (GBP)",
                             json_schema_extra=_MONEY)
    unit: Unit = Field("week", description="what one unit is")
    units_per_week: float = Field(1.0, gt=0, description="hours, nights or sessions a week")
    weeks_per_year: float = Field(52.0, gt=0, le=60, description="56 in-house, 39 term-time")
    funding: str = Field("GF", min_length=1, description="GF, DSG, Health or a local code")
    income_per_week: float = Field(0.0, ge=0, description="income netted against the cost",
                                   json_schema_extra=_MONEY)


class BudgetRecord(_Row):
    """One budget line: a row of ``budget.csv``.

    ``annual_budget`` defaults to ``budget_placements * budget_unit_cost * units_per_week
    * weeks_per_year`` (``budget_placements * budget_unit_cost`` for ``year`` units).
    """

    service: str = Field(min_length=1)
    category: str = Field("", description="empty for a lump line (growth, savings)")
    budget_placements: float | None = Field(None, ge=0, description="budgeted FTE placements")
    budget_unit_cost: float | None = Field(None, ge=0, description="budgeted price per unit",
                                           json_schema_extra=_MONEY)
    unit: Unit = "week"
    units_per_week: float = Field(1.0, gt=0)
    weeks_per_year: float = Field(52.0, gt=0, le=60)
    annual_budget: float | None = Field(None, description="the approved amount (GBP)",
                                        json_schema_extra=_MONEY)


class ActualRecord(_Row):
    """Ledger spend booked against a line in one period: a row of ``actuals.csv``."""

    service: str = Field(min_length=1)
    category: str = ""
    period: int = Field(ge=1, le=12, description="financial-year month, 1 = April")
    amount: float = Field(description="spend (positive) or income (negative), GBP",
                          json_schema_extra=_MONEY)


_RULES: dict[type[BaseModel], tuple[RowRule, ...]] = {
    PlacementRecord: (
        RowRule("end_date", "a date on or after start_date", after("end_date", "start_date")),
        RowRule(
            "planned_end_date",
            "a date on or after start_date",
            after("planned_end_date", "start_date"),
        ),
        RowRule(
            "units_per_week",
            "1 when unit is 'week' (a weekly price is for the whole week)",
            _weekly_units_not_one,
        ),
        RowRule("unit_cost", _PRICE_LIMIT.format("unit_cost"), _absurd_price("unit_cost")),
        RowRule("income_per_week", "income under £1bn a placement-year",
                _absurd_income),
    ),
    BudgetRecord: (
        RowRule(
            "annual_budget",
            "annual_budget, or both budget_placements and budget_unit_cost",
            _budget_amount_missing,
        ),
        RowRule("service", _TOTAL_EXPECTED, _total_row("service")),
        RowRule("category", _TOTAL_EXPECTED, _total_row("category")),
        RowRule("budget_unit_cost", _PRICE_LIMIT.format("budget_unit_cost"),
                _absurd_price("budget_unit_cost")),
        RowRule("annual_budget", "an amount within ±£10bn",
                _absurd_amount("annual_budget", MAX_LINE_AMOUNT)),
        RowRule("budget_placements", "at most 1,000,000 placements in a line",
                _absurd_amount("budget_placements", MAX_PLACEMENTS)),
    ),
    ActualRecord: (
        RowRule("service", _TOTAL_EXPECTED.replace("budget line", "ledger line"),
                _total_row("service")),
        RowRule("category", _TOTAL_EXPECTED.replace("budget line", "ledger line")
                .replace("the budget", "the spend"), _total_row("category")),
        RowRule("amount", "an amount within ±£10bn", _absurd_amount("amount", MAX_LINE_AMOUNT)),
    ),
}

#: Columns that must be unique across a file (or, for a tuple, unique together).
UNIQUE_KEYS: dict[type[BaseModel], tuple[str, ...]] = {
    PlacementRecord: ("placement_id",),
    BudgetRecord: ("service", "category"),
    ActualRecord: (),
}


def rules_for(model: type[BaseModel]) -> tuple[RowRule, ...]:
    """The cross-column rules of a row model (none if it registered none)."""
    return _RULES.get(model, ())


def unique_key(model: type[BaseModel]) -> tuple[str, ...]:
    """The columns that must be unique together in a file of ``model`` rows."""
    return UNIQUE_KEYS.get(model, ())


def register_rules(model: type[BaseModel], rules: tuple[RowRule, ...],
                   unique: tuple[str, ...] = ()) -> None:
    """Declare the cross-column rules and unique key of another row model."""
    _RULES[model] = rules
    UNIQUE_KEYS[model] = unique


ColumnKind = Literal["text", "date", "number", "integer", "choice"]


@dataclass(frozen=True)
class ColumnSpec:
    """How one column is parsed and checked, derived from a row model's field."""

    name: str
    kind: ColumnKind
    required: bool
    default: Any
    nullable: bool
    choices: tuple[str, ...] = ()
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    min_length: int | None = None
    money: bool = False

    def expected(self) -> str:
        """What a valid value of this column looks like, in words."""
        if self.kind == "date":
            return "a date as YYYY-MM-DD or DD/MM/YYYY"
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "text":
            return "non-empty text"
        words = "a whole number" if self.kind == "integer" else "a number"
        bounds = [f">= {self.ge:g}"] if self.ge is not None else []
        bounds += [f"> {self.gt:g}"] if self.gt is not None else []
        bounds += [f"<= {self.le:g}"] if self.le is not None else []
        return " ".join([words, " and ".join(bounds)]).strip()


def _kind(annotation: Any) -> tuple[ColumnKind, tuple[str, ...], bool]:
    nullable = False
    args = get_args(annotation)
    if type(None) in args:
        nullable = True
        annotation = next(a for a in args if a is not type(None))
    if get_origin(annotation) is Literal:
        return "choice", get_args(annotation), nullable
    if annotation is dt.date:
        return "date", (), nullable
    if annotation is int:
        return "integer", (), nullable
    if annotation is float:
        return "number", (), nullable
    return "text", (), nullable


def column_specs(model: type[BaseModel]) -> tuple[ColumnSpec, ...]:
    """Column specs for every field of a row model, in field order."""
    specs = []
    for name, field in model.model_fields.items():
        kind, choices, nullable = _kind(field.annotation)
        bounds: dict[str, Any] = {}
        for meta in field.metadata:
            if isinstance(meta, Ge):
                bounds["ge"] = float(meta.ge)
            elif isinstance(meta, Gt):
                bounds["gt"] = float(meta.gt)
            elif isinstance(meta, Le):
                bounds["le"] = float(meta.le)
            elif hasattr(meta, "min_length"):
                bounds["min_length"] = meta.min_length
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        specs.append(
            ColumnSpec(
                money=bool(extra.get("money", False)),
                name=name,
                kind=kind,
                required=field.is_required(),
                default=None if field.is_required() else field.default,
                nullable=nullable,
                choices=tuple(choices),
                **bounds,
            )
        )
    return tuple(specs)
