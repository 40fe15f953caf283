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
import json
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from forecastlib.errors import ConfigError

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


class ScenarioError(ConfigError):
    """A scenario file or object breaks the contract (names the key and position)."""


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Changes to the future must not start before ``as_at``.
    future_only: ClassVar[bool] = True


class ExtraPlacements(_Change):
    """``count`` more placements in a line from ``start``."""

    kind: Literal["extra_placements"]
    service: str = Field(min_length=1)
    category: str = Field(min_length=1)
    count: int = Field(ge=1)
    start: dt.date
    unit_cost: float | None = Field(None, ge=0, description="weekly; default recent mean")
    duration_weeks: float | None = Field(None, gt=0, description="default: fitted stay")


class _PercentChange(_Change):
    """A percent change on the lines matching ``service`` / ``category`` from a date."""

    service: str = Field(min_length=1, description="a service or '*'")
    category: str = Field("*", min_length=1, description="a category or '*'")
    percent: float = Field(gt=-100)
    start: dt.date


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
    share: float = Field(gt=0, le=1)
    start: dt.date

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
    amount: float = Field(gt=0, description="GBP saved per `per`")
    per: Literal["year", "week"] = "year"
    start: dt.date
    probability: float = Field(1.0, ge=0, le=1, description="chance the saving is delivered")


class EndPlacements(_Change):
    """End listed placements, or the ``count`` most expensive open ones of a line."""

    future_only: ClassVar[bool] = False
    kind: Literal["end_placements"]
    service: str | None = None
    category: str | None = None
    placement_ids: list[str] | None = None
    count: int | None = Field(None, ge=1)
    date: dt.date

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
    changes: list[Change] = Field(min_length=1)

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


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"{source}: {error.error_count()} problem(s):"]
    for item in error.errors():
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in item["loc"])
        where = where.replace(".[", "[")
        value = item.get("input")
        shown = f" (value {value!r})" if not isinstance(value, dict | list) else ""
        lines.append(f"  - {where}: {item['msg']}{shown}")
    return "\n".join(lines)


def load_scenario(source: str | Path | dict) -> Scenario:
    """Read a scenario from a YAML or JSON file (or a dict), validated strictly.

    Raises
    ------
    ScenarioError
        Naming the file, the change's position and the key of every problem.
    """
    label = "scenario" if isinstance(source, dict) else Path(source).name
    if isinstance(source, dict):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise ScenarioError(f"{label}: no such scenario file")
        text = path.read_text(encoding="utf-8")
        try:
            data = (json.loads(text) if path.suffix.lower() == ".json"
                    else yaml.safe_load(text))
        except (json.JSONDecodeError, yaml.YAMLError) as error:
            raise ScenarioError(f"{label}: not valid {path.suffix.lstrip('.').upper()} "
                                f"({error})") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{label}: expected a mapping with 'name' and 'changes'")
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_describe(error, label)) from None


def merge_scenarios(scenarios: list[Scenario]) -> Scenario:
    """One scenario whose changes are every given scenario's, in order."""
    if not scenarios:
        raise ScenarioError("no scenario to merge")
    return Scenario(name=" + ".join(s.name for s in scenarios),
                    changes=[change for s in scenarios for change in s.changes])
