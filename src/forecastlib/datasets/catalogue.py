"""The sample county's budget lines: demand, price and budget-setting assumptions per line.

The lines, units, weeks funded and October 2017 stock and prices are modelled on seed 004
(Cambridgeshire, People & Communities, October 2017, section 2.5). The budget is set as
a council sets it in the spring, from the run rate of January to March (budgeted
placements are that quarter's average plus the demand growth the council allowed for,
budgeted unit costs its average unit cost plus a 2% inflation uplift; see
``forecastlib.datasets.synthetic``). Most large lines therefore land within a few per
cent of budget, small lines (a handful of placements) move by a placement or two, and
two lines are overspent for reasons a commentary would give, as in the seed:

* **Residential homes**: five high-cost placements (two to three times the usual
  price) arrived in the four months before October, on top of demand growth;
* **Independent Fostering**: demand grows at 12% a year against 2% budgeted.

Lengths of stay, price spreads, tails, income shares and trends are plausible
assumptions, not data.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATEGORIES", "LUMP_LINES", "CategorySpec", "LumpLine"]


@dataclass(frozen=True)
class CategorySpec:
    """Demand, price and budget-setting assumptions of one line of the sample county.

    Prices are per ``unit`` at October 2017 prices. ``stock`` is the number of
    placements running at the sample's ``as_at`` (before any ``high_cost_arrivals``);
    starts arrive as a seasonal Poisson process whose rate gives that stock over
    ``mean_stay_days`` (Little's law).
    """

    service: str
    category: str
    stock: float
    mean_stay_days: float
    price: float
    stay_sigma: float = 0.9  # log-normal spread of lengths of stay
    price_sigma: float = 0.15  # log-normal spread of prices
    tail_share: float = 0.0  # share of placements with a Pareto price uplift
    unit: str = "week"
    units_per_week: float = 1.0  # median hours a week for hourly packages
    weeks_per_year: float = 52.0
    funding: str = "GF"
    income_share: float = 0.0  # share of episodes with a client contribution
    income_ratio: float = 0.0  # contribution as a share of the weekly cost
    planned_end_share: float = 0.0  # share of open episodes given a planned end
    academic_ends: bool = False  # planned ends fall on 31 August (SEN)
    trend: float = 0.0  # yearly growth of the start rate
    seasonality: float = 0.1  # amplitude of the start rate's yearly cycle
    paired_with: str | None = None  # copy the episodes of this category (same clients)
    budget_growth: float = 0.0  # demand growth the budget allows for on the Jan-Mar run rate
    uplift: float = 0.02  # inflation uplift on the Jan-Mar unit cost in the budget
    high_cost_arrivals: int = 0  # placements at 2-3x the price started in the last 4 months


@dataclass(frozen=True)
class LumpLine:
    """A budget line with no placements: a growth allocation or a savings target.

    ``booked_share`` is the ledger's monthly spend as a share of ``annual_budget / 12``
    (0: nothing is booked against it, the usual case for a savings target managed
    through other lines).
    """

    service: str
    category: str
    annual_budget: float
    booked_share: float


_LAC = "LAC Placements"
_FOST = "In-house Fostering"
_ADOPT = "Adoption Allowances"
_SEN = "SEN Placements"
_LD = "Learning Disability"
_OP = "Older People"


def _sen(need: str, stock: float, price: float) -> CategorySpec:
    return CategorySpec(_SEN, need, stock, 1_500, price, stay_sigma=0.7, price_sigma=0.2,
                        unit="year", funding="DSG", planned_end_share=0.7,
                        academic_ends=True, tail_share=0.03, trend=0.05, budget_growth=0.03)


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(_LAC, "Residential - disability", 3, 1_400, 2_545, stay_sigma=0.6,
                 price_sigma=0.1),
    CategorySpec(_LAC, "Residential schools", 16, 700, 2_580, stay_sigma=0.7, price_sigma=0.3,
                 planned_end_share=0.5, academic_ends=True),
    CategorySpec(_LAC, "Residential homes", 30, 300, 2_950, price_sigma=0.25, tail_share=0.1,
                 planned_end_share=0.3, trend=0.08, budget_growth=0.05,
                 high_cost_arrivals=5),
    CategorySpec(_LAC, "Independent Fostering", 263, 540, 800, stay_sigma=1.0,
                 price_sigma=0.12, planned_end_share=0.3, trend=0.12, budget_growth=0.02),
    CategorySpec(_LAC, "Supported Accommodation", 25, 250, 1_570, stay_sigma=0.8,
                 price_sigma=0.35, tail_share=0.05, planned_end_share=0.5, trend=0.1,
                 budget_growth=0.1),
    CategorySpec(_LAC, "16+", 12, 200, 225, stay_sigma=0.8, price_sigma=0.3,
                 planned_end_share=0.5, trend=-0.05),
    CategorySpec(_FOST, "In-house fostering - Basic", 185, 600, 181, stay_sigma=1.0,
                 price_sigma=0.1, weeks_per_year=56, planned_end_share=0.3, trend=-0.03),
    CategorySpec(_FOST, "In-house fostering - Skills", 185, 600, 184, stay_sigma=1.0,
                 price_sigma=0.3, paired_with="In-house fostering - Basic"),
    CategorySpec(_FOST, "Kinship - Basic", 43, 700, 183, price_sigma=0.1, weeks_per_year=56),
    CategorySpec(_FOST, "Kinship - Skills", 11, 700, 68.78, price_sigma=0.0),
    CategorySpec(_FOST, "In-house residential", 4, 1_400, 3_191, stay_sigma=0.7,
                 price_sigma=0.1),
    CategorySpec(_ADOPT, "Adoption", 406, 3_000, 165.8, stay_sigma=0.6, price_sigma=0.15,
                 trend=0.02, budget_growth=0.02),
    CategorySpec(_ADOPT, "Concurrent Adoption", 5, 700, 350, stay_sigma=0.5, price_sigma=0.0),
    _sen("Autistic Spectrum Disorder (ASD)", 94, 68_000),
    _sen("Hearing Impairment (HI)", 9, 37_000),
    _sen("Moderate Learning Difficulty (MLD)", 12, 23_000),
    _sen("Multi-Sensory Impairment (MSI)", 6, 75_000),
    _sen("Physical Disability (PD)", 10, 25_000),
    _sen("Profound and Multiple Learning Difficulty (PMLD)", 8, 41_000),
    _sen("Social Emotional and Mental Health (SEMH)", 38, 46_000),
    _sen("Speech, Language and Communication Needs (SLCN)", 12, 45_000),
    _sen("Severe Learning Difficulty (SLD)", 10, 90_000),
    _sen("Specific Learning Difficulty (SPLD)", 12, 44_000),
    _sen("Visual Impairment (VI)", 8, 29_000),
    CategorySpec(_LD, "Residential", 307, 2_500, 1_369, stay_sigma=0.8, price_sigma=0.35,
                 tail_share=0.05, income_share=0.8, income_ratio=0.08, budget_growth=0.02),
    CategorySpec(_LD, "Nursing", 8, 1_500, 1_842, stay_sigma=0.8, price_sigma=0.2,
                 income_share=0.8, income_ratio=0.08),
    CategorySpec(_LD, "Homecare", 600, 1_200, 17.2, price_sigma=0.08, unit="hour",
                 units_per_week=25, income_share=0.4, income_ratio=0.05, trend=0.03,
                 budget_growth=0.05),
    CategorySpec(_LD, "Direct payments", 400, 1_500, 430, price_sigma=0.3, income_share=0.3,
                 income_ratio=0.05, trend=0.05, budget_growth=0.07),
    CategorySpec(_OP, "Residential", 449, 700, 496, price_sigma=0.2, income_share=0.9,
                 income_ratio=0.4, planned_end_share=0.05, budget_growth=0.02),
    CategorySpec(_OP, "Residential Dementia", 375, 700, 547, price_sigma=0.2,
                 income_share=0.9, income_ratio=0.4, trend=0.04, budget_growth=0.07),
    CategorySpec(_OP, "Nursing", 301, 500, 705, price_sigma=0.2, income_share=0.85,
                 income_ratio=0.35, budget_growth=0.02),
    CategorySpec(_OP, "Nursing Dementia", 55, 500, 768, price_sigma=0.2, income_share=0.85,
                 income_ratio=0.35, budget_growth=0.02),
    CategorySpec(_OP, "Respite", 360, 365, 600, stay_sigma=0.6, price_sigma=0.15,
                 weeks_per_year=6, income_share=0.5, income_ratio=0.2, budget_growth=0.02),
    CategorySpec(_OP, "Direct payments", 234, 900, 271, price_sigma=0.35, tail_share=0.03,
                 trend=0.06, budget_growth=0.08),
    CategorySpec(_OP, "Homecare", 1_418, 400, 16.13, stay_sigma=1.0, price_sigma=0.05,
                 unit="hour", units_per_week=10, income_share=0.6, income_ratio=0.15,
                 seasonality=0.2, budget_growth=0.03),
)

#: Lines with a budget and no placements (growth allocations, savings targets), as in
#: seed 004: LAC growth spent as it is booked, a negative in-house fostering growth line
#: to be managed against LAC placements (nothing booked), and a learning disability
#: savings target partly delivered (credits booked as reviews reduce packages).
LUMP_LINES: tuple[LumpLine, ...] = (
    LumpLine(_LAC, "Growth/Replacement", 868_000.0, 1.0),
    LumpLine(_FOST, "Growth", -297_000.0, 0.0),
    LumpLine(_LD, "Further savings", -1_795_000.0, 0.6),
)
