"""RAG ratings and the commentary rule, as a configurable policy.

Defaults (all overridable):

* **red**: overspend above 5% of the budget *and* above GBP 50k;
* **amber**: overspend above 1% of the budget *and* above GBP 10k;
* **green**: otherwise, including any underspend (set ``rate_underspends=True`` to rate
  an underspend by its size as well: a large underspend is a forecasting risk too);
* **commentary needed**: ``|variance| > max(2% of budget, GBP 100k)``, the rule in the
  seeds' budget monitoring reports ("narrative where variance > 2% of budget or
  GBP 100,000, whichever is greater").

Percentages are of the absolute budget; a line with no budget is judged on the
amount alone.

**Lump lines** (a growth allocation or a savings target: a budget with no budgeted
activity and no placements) are not rated as placements: their RAG is ``"n/a"``
(``NOT_RATED``), as a committee report shows them apart. Their variance still
counts in the totals and still needs commentary under the rule above (undelivered
savings are a pressure to explain).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from forecastlib.errors import ConfigError

__all__ = ["RagPolicy"]

#: The RAG of a lump line (growth, savings target): not rated as placements.
NOT_RATED = "n/a"


class RagPolicy(BaseModel):
    """Thresholds turning a variance into a RAG rating and a commentary flag.

    Examples
    --------
    >>> policy = RagPolicy()
    >>> policy.rate([1_000_000, 1_000_000, 1_000_000], [5_000, 30_000, 80_000]).tolist()
    ['green', 'amber', 'red']
    >>> policy.needs_commentary([10_000_000], [150_000]).tolist()  # 2% of 10m is 200k
    [False]
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    amber_share: float = Field(0.01, ge=0, description="overspend share of budget for amber")
    amber_amount: float = Field(10_000.0, ge=0, description="and at least this many pounds")
    red_share: float = Field(0.05, ge=0, description="overspend share of budget for red")
    red_amount: float = Field(50_000.0, ge=0, description="and at least this many pounds")
    rate_underspends: bool = Field(False, description="rate underspends by size too")
    commentary_share: float = Field(0.02, ge=0, description="commentary above this share")
    commentary_amount: float = Field(100_000.0, ge=0, description="or this amount if greater")

    @model_validator(mode="after")
    def _red_beyond_amber(self) -> RagPolicy:
        if self.red_share < self.amber_share or self.red_amount < self.amber_amount:
            raise ValueError("red thresholds must be at least the amber ones")
        return self

    @classmethod
    def load(cls, source: str | Path | dict[str, Any], **overrides: Any) -> RagPolicy:
        """A policy from a YAML or JSON file (or a dict), with ``overrides`` on top.

        Unknown keys and bad values are a :class:`~forecastlib.errors.ConfigError` naming
        the file, the key and the value; keys not given keep their defaults.

        Examples
        --------
        >>> RagPolicy.load({"red_share": 0.1}, commentary_amount=250_000).red_share
        0.1
        >>> RagPolicy.load({"red_shares": 0.1})
        Traceback (most recent call last):
        ...
        forecastlib.errors.ConfigError: RAG policy: red_shares: unknown key (value 0.1); ...
        """
        label = "RAG policy" if isinstance(source, dict) else Path(source).name
        if isinstance(source, dict):
            data: Any = dict(source)
        else:
            path = Path(source)
            if not path.is_file():
                raise ConfigError(f"{label}: no such RAG policy file")
            try:
                text = path.read_text(encoding="utf-8")
                data = (json.loads(text) if path.suffix.lower() == ".json"
                        else yaml.safe_load(text)) or {}
            except (json.JSONDecodeError, yaml.YAMLError) as error:
                raise ConfigError(f"{label}: not valid YAML or JSON ({error})") from None
            if not isinstance(data, dict):
                raise ConfigError(f"{label}: expected a mapping of policy keys to values")
        data.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            problems = []
            for item in error.errors():
                key = ".".join(str(part) for part in item["loc"]) or "policy"
                message = ("unknown key" if item["type"] == "extra_forbidden"
                           else item["msg"])
                problems.append(f"{key}: {message} (value {item.get('input')!r})")
            keys = ", ".join(cls.model_fields)
            raise ConfigError(f"{label}: " + "; ".join(problems)
                              + f"; keys are {keys}") from None

    def describe(self) -> str:
        """The policy in words, for footnotes and notes."""
        text = (f"red: overspend above {self.red_share:.0%} of budget and "
                f"GBP {self.red_amount:,.0f}; amber: above {self.amber_share:.0%} and "
                f"GBP {self.amber_amount:,.0f}; commentary where |variance| > "
                f"{self.commentary_share:.0%} of budget or GBP {self.commentary_amount:,.0f}, "
                "whichever is greater")
        return text + ("; underspends rated by size too" if self.rate_underspends else "")

    def rate(self, budget: npt.ArrayLike, variance: npt.ArrayLike) -> npt.NDArray[np.str_]:
        """``'red'``, ``'amber'`` or ``'green'`` for each line."""
        scale = np.abs(np.asarray(budget, dtype="float64"))
        size = np.asarray(variance, dtype="float64")
        if self.rate_underspends:
            size = np.abs(size)
        red = (size > self.red_share * scale) & (size > self.red_amount)
        amber = (size > self.amber_share * scale) & (size > self.amber_amount)
        return np.where(red, "red", np.where(amber, "amber", "green"))

    def assess(self, budget: npt.ArrayLike, forecast: npt.ArrayLike,
               lump: npt.ArrayLike | None = None) -> dict[str, np.ndarray]:
        """Variance (forecast minus budget), its share of the absolute budget (NaN
        without a budget), RAG rating and commentary flag, for arrays of lines.

        ``lump`` flags lump lines (growth, savings targets): their RAG is ``"n/a"``.

        Examples
        --------
        >>> figures = RagPolicy().assess([1_000_000], [1_080_000])
        >>> float(figures["variance"][0]), str(figures["rag"][0])
        (80000.0, 'red')
        >>> RagPolicy().assess([-300_000, 100_000], [0, 200_000], lump=[True, False])["rag"]
        array(['n/a', 'red'], dtype='<U5')
        """
        budget = np.asarray(budget, dtype="float64")
        variance = np.asarray(forecast, dtype="float64") - budget
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(budget != 0, variance / np.abs(budget), np.nan)
        rag = self.rate(budget, variance)
        if lump is not None:
            rag = np.where(np.asarray(lump, dtype=bool), NOT_RATED, rag)
        return {"variance": variance, "variance_pct": share, "rag": rag,
                "commentary_needed": self.needs_commentary(budget, variance)}

    def needs_commentary(
        self, budget: npt.ArrayLike, variance: npt.ArrayLike
    ) -> npt.NDArray[np.bool_]:
        """Whether each line's variance needs a narrative for committee."""
        scale = np.abs(np.asarray(budget, dtype="float64"))
        threshold = np.maximum(self.commentary_share * scale, self.commentary_amount)
        return np.abs(np.asarray(variance, dtype="float64")) > threshold
