"""Scenario files: a named list of changes, validated strictly.

Every kind the data contract names is a pydantic model; a scenario is a name and a list
of changes discriminated by ``kind``. Unknown keys and kinds are errors naming the key
and the change's position; so are dates before ``as_at`` for changes to the future.

Examples
--------
>>> scenario = Scenario.model_validate({"name": "Five extra residential placements",
...     "changes": [{"kind": "extra_placements", "service": "LAC Placements",
...                  "category": "Residential homes", "count": 5, "start": "2017-11-01",
...                  "unit_cost": 4000, "duration_weeks": 20}]})
>>> scenario.changes[0].count
5
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from forecastlib.records.cells import parse_dates, parse_numbers, two_digit_years
from forecastlib.scenarios.files import ScenarioError, describe, read_scenario_file, where

if TYPE_CHECKING:
    from forecastlib.scenarios.transform import ForecastInputs, SimulatedPaths, SpendContext

__all__ = [
    "Change",
    "DemandGrowth",
    "EndPlacements",
    "ExtraPlacements",
    "MixShift",
    "Savings",
    "Scenario",
    "ScenarioError",
    "UnitCostChange",
    "load_scenario",
    "merge_scenarios",
]


#: Most placements one change may add or end.
MAX_COUNT = 10_000
#: Largest money amount (GBP) a change may name: a year's saving, or a price's year.
MAX_AMOUNT = 1e10


def _number(value: Any) -> Any:
    """A number as written in a file: never a boolean, never NaN or infinite; a text
    cell is read as the data files read money (``£4,000``, ``(250)``)."""
    if isinstance(value, bool):
        raise ValueError("a number, not true/false")
    if isinstance(value, str):
        numbers, bad = parse_numbers(np.array([value.strip()], dtype=object),
                                     np.array([value.strip() != ""]), money=True)
        if bad[0]:
            raise ValueError("a number, as 4000, 4000.50 or £4,000")
        return float(numbers[0])
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a finite number")
    if isinstance(value, int) and abs(value) > 10**15:
        raise ValueError("a number of sensible size")
    return value


def _date(value: Any) -> Any:
    """A date as ISO ``YYYY-MM-DD`` or UK ``DD/MM/YYYY`` text (or a date object)."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0, 0):
            raise ValueError("a date without a time of day")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError("a date as YYYY-MM-DD or DD/MM/YYYY")
    text = np.array([value.strip()], dtype=object)
    dates, bad = parse_dates(text, np.array([True]))
    if bad[0]:
        if two_digit_years(text)[0]:
            raise ValueError("a date with a 4-digit year (a 2-digit year is never guessed)")
        raise ValueError("a real date as YYYY-MM-DD or DD/MM/YYYY")
    return dates[0].astype("datetime64[D]").item()


Number = Annotated[float, BeforeValidator(_number)]
Count = Annotated[int, BeforeValidator(_number), Field(ge=1, le=MAX_COUNT)]
Date = Annotated[dt.date, BeforeValidator(_date)]


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Changes to the future must not start before ``as_at``.
    future_only: ClassVar[bool] = True


class ExtraPlacements(_Change):
    """``count`` more placements in a line from ``start``."""

    kind: Literal["extra_placements"]
    service: str = Field(min_length=1)
    category: str = Field(min_length=1)
    count: Count
    start: Date
    unit_cost: Number | None = Field(None, ge=0, le=MAX_AMOUNT / 52,
                                     description="weekly; default recent mean")
    duration_weeks: Number | None = Field(None, gt=0, le=5200,
                                          description="default: fitted stay")


class _PercentChange(_Change):
    """A percent change on the lines matching ``service`` / ``category`` from a date."""

    service: str = Field(min_length=1, description="a service or '*'")
    category: str = Field("*", min_length=1, description="a category or '*'")
    percent: Number = Field(gt=-100, le=10_000)
    start: Date


class DemandGrowth(_PercentChange):
    """A percent change in the rate of new starts, from a date."""

    kind: Literal["demand_growth"]


class UnitCostChange(_PercentChange):
    """A percent change in prices (existing and new placements), from a date."""

    future_only: ClassVar[bool] = False
    kind: Literal["unit_cost_change"]


class MixShift(_Change):
    """Move a share of new starts from one category to another, from a date."""

    kind: Literal["mix_shift"]
    service: str = Field(min_length=1)
    from_category: str = Field(min_length=1)
    to_category: str = Field(min_length=1)
    to_service: str | None = Field(None, description="default: the same service")
    share: Number = Field(gt=0, le=1)
    start: Date

    @property
    def source(self) -> tuple[str, str]:
        return (self.service, self.from_category)

    @property
    def target(self) -> tuple[str, str]:
        return (self.to_service or self.service, self.to_category)

    @model_validator(mode="after")
    def _different(self) -> MixShift:
        if self.source == self.target:
            raise ValueError("the shift must move starts to a different line")
        return self


class Savings(_Change):
    """A saving on a line, per year or per week, from a date, delivered with a probability."""

    future_only: ClassVar[bool] = False
    kind: Literal["savings"]
    service: str = Field(min_length=1)
    category: str = ""
    amount: Number = Field(gt=0, le=MAX_AMOUNT, description="GBP saved per `per`")
    per: Literal["year", "week"] = "year"
    start: Date
    probability: Number = Field(1.0, ge=0, le=1,
                                description="chance the saving is delivered")


class EndPlacements(_Change):
    """End listed placements, or the ``count`` most expensive open ones of a line."""

    future_only: ClassVar[bool] = False
    kind: Literal["end_placements"]
    service: str | None = None
    category: str | None = None
    placement_ids: list[str] | None = Field(None, max_length=MAX_COUNT)
    count: Count | None = None
    date: Date

    @model_validator(mode="after")
    def _ids_or_count(self) -> EndPlacements:
        if (self.placement_ids is None) == (self.count is None):
            raise ValueError("give placement_ids or count (with service and category)")
        if self.count is not None and (self.service is None or self.category is None):
            raise ValueError("count needs service and category")
        return self


Change = Annotated[ExtraPlacements | DemandGrowth | UnitCostChange | MixShift | Savings
                   | EndPlacements, Field(discriminator="kind")]


class Scenario(BaseModel):
    """A named list of changes applied in order on top of the base forecast."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    changes: list[Change] = Field(min_length=1, max_length=1000)
    _notes: list[str] = PrivateAttr(default_factory=list)

    @property
    def notes(self) -> list[str]:
        """Notes from reading the file (the encoding used, when not UTF-8)."""
        return list(self._notes)

    def check_dates(self, as_at: dt.date, source: str = "scenario") -> None:
        """Refuse changes to the future dated before ``as_at`` (naming each)."""
        problems = []
        for position, change in enumerate(self.changes):
            when = getattr(change, "start", None)
            if change.future_only and when is not None and when <= as_at:
                problems.append(f"{source}: changes[{position}] ({change.kind}) key 'start': "
                                f"{when} is not after as_at {as_at}")
        if problems:
            raise ScenarioError("\n".join(problems))

    # The Transformation interface (forecastlib.scenarios.transform). The work is in
    # forecastlib.scenarios.apply, imported here when first used: apply imports the
    # change kinds from this module.
    def transform_inputs(self, inputs: ForecastInputs) -> ForecastInputs:
        """The forecast's inputs with this scenario's record and start-rate changes."""
        from forecastlib.scenarios.apply import transform_inputs

        return transform_inputs(self, inputs)

    def transform_paths(self, paths: SimulatedPaths, context: SpendContext
                        ) -> SimulatedPaths:
        """Simulated spend with this scenario's unit-cost, savings and extra placements."""
        from forecastlib.scenarios.apply import transform_paths

        return transform_paths(self, paths, context)

    def describe(self) -> list[str]:
        """The notes a forecast under this scenario carries."""
        return [f"Scenario applied: {self.name} ({len(self.changes)} changes).", *self.notes]


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for item in error.errors():
        path = list(item["loc"])
        kind = ""
        if len(path) >= 3 and path[0] == "changes" and isinstance(path[1], int) \
                and isinstance(path[2], str) and path[2] in _KINDS:
            kind = f" ({path.pop(2)})"
        place = where(tuple(path))
        if kind and place.startswith("changes["):
            head, _, rest = place.partition("]")
            place = f"{head}]{kind}{rest}"
        value = item.get("input")
        shown = "" if isinstance(value, dict | list) else f" (value {str(value)[:40]!r})"
        problems.append((place, item["msg"].removeprefix("Value error, ") + shown))
    return problems


_KINDS = {"extra_placements", "demand_growth", "unit_cost_change", "mix_shift", "savings",
          "end_placements"}


def load_scenario(source: str | Path | dict) -> Scenario:
    """Read a scenario from a YAML or JSON file (or a dict), validated strictly.

    Files are read as the data files are (UTF-8 with or without a byte-order mark,
    UTF-16, cp1252 with a note in :attr:`Scenario.notes`); dates may be ISO or UK
    ``DD/MM/YYYY``, amounts may be written ``£4,000``. Duplicate keys, booleans or text
    where a number belongs, NaN and infinite numbers, impossible dates, counts over
    10,000 and deep nesting are refused (see :mod:`forecastlib.scenarios.files`).

    Raises
    ------
    ScenarioError
        Naming the file, the change's position and the key of every problem.

    Examples
    --------
    >>> load_scenario({"name": "x", "changes": [{"kind": "savings", "service": "LD",
    ...     "amount": "£250,000", "start": "01/12/2017"}]}).changes[0].amount
    250000.0
    """
    notes: list[str] = []
    refused: list[tuple[str, str]] = []
    if isinstance(source, dict):
        label, data = "scenario", source
    else:
        path = Path(source)
        label = path.name
        data, refused, notes = read_scenario_file(path, label)
    if not isinstance(data, dict):
        raise ScenarioError(f"{label}: expected a mapping with 'name' and 'changes'")
    try:
        scenario = Scenario.model_validate(dict(data))
        problems: list[tuple[str, str]] = []
    except ValidationError as error:
        problems = _problems(error)
    except RecursionError:
        raise ScenarioError(f"{label}: nesting too deep") from None
    if refused or problems:
        # values the parser refused are named once, as the parser saw them
        places = {place for place, _ in refused}
        problems = [p for p in problems if re.sub(r" \(\w+\)", "", p[0]) not in places]
        raise ScenarioError(describe(label, refused + problems))
    scenario._notes = notes
    return scenario


def merge_scenarios(scenarios: list[Scenario]) -> Scenario:
    """One scenario whose changes are every given scenario's, in order."""
    if not scenarios:
        raise ScenarioError("no scenario to merge")
    merged = Scenario(name=" + ".join(s.name for s in scenarios),
                      changes=[change for s in scenarios for change in s.changes])
    merged._notes = [note for s in scenarios for note in s.notes]
    return merged
