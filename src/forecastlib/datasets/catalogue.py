"""The sample county's budget lines: demand, price and budget assumptions per category.

Figures are modelled on seed 004 (Cambridgeshire, People & Communities, October 2017,
section 2.5): the budgeted placements and unit costs are the report's, and the
placement stock, prices and lengths of stay are set so that the October 2017 position
resembles the report's actuals (for example residential homes budgeted for 22
placements at GBP 2,656 a week but running at about 35 at GBP 3,257). Lengths of stay,
price spreads, tails, income shares and trends are plausible assumptions, not data.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATEGORIES", "LUMP_LINES", "CategorySpec"]


@dataclass(frozen=True)
class CategorySpec:
    """Demand, price and budget assumptions of one line of the sample county.

    Prices are per ``unit`` at October 2017 prices. ``stock`` is the number of
    placements running at the sample's ``as_at``; starts arrive as a seasonal Poisson
    process whose rate gives that stock over ``mean_stay_days`` (Little's law).
    """

    service: str
    category: str
    stock: float
    mean_stay_days: float
    price: float
    budget_placements: float
    budget_unit_cost: float
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


_LAC = "LAC Placements"
_FOST = "In-house Fostering"
_ADOPT = "Adoption Allowances"
_SEN = "SEN Placements"
_LD = "Learning Disability"
_OP = "Older People"

CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(_LAC, "Residential - disability", 1, 900, 2_545, 1, 2_743.20, 0.6, 0.1),
    CategorySpec(_LAC, "Residential schools", 16, 700, 2_580, 16, 1_408.53, 0.7, 0.3,
                 planned_end_share=0.5, academic_ends=True),
    CategorySpec(_LAC, "Residential homes", 35, 300, 2_950, 22, 2_656.43, 0.9, 0.25,
                 tail_share=0.1, planned_end_share=0.3, trend=0.08),
    CategorySpec(_LAC, "Independent Fostering", 263, 540, 800, 263, 784.53, 1.0, 0.12,
                 planned_end_share=0.3, trend=0.02),
    CategorySpec(_LAC, "Supported Accommodation", 25, 250, 1_570, 15, 1_247.14, 0.8, 0.35,
                 tail_share=0.05, planned_end_share=0.5, trend=0.1),
    CategorySpec(_LAC, "16+", 8, 200, 225, 25, 467.73, 0.8, 0.3, planned_end_share=0.5,
                 trend=-0.15),
    CategorySpec(_FOST, "In-house fostering - Basic", 185, 600, 181, 212, 172.89, 1.0, 0.1,
                 weeks_per_year=56, planned_end_share=0.3, trend=-0.03),
    CategorySpec(_FOST, "In-house fostering - Skills", 185, 600, 184, 212, 170.94, 1.0, 0.3,
                 paired_with="In-house fostering - Basic"),
    CategorySpec(_FOST, "Kinship - Basic", 43, 700, 183, 40, 195.84, 0.9, 0.1,
                 weeks_per_year=56),
    CategorySpec(_FOST, "Kinship - Skills", 11, 700, 68.78, 11, 68.78, 0.9, 0.0),
    CategorySpec(_FOST, "In-house residential", 4, 400, 3_191, 5, 2_138.07, 0.7, 0.1),
    CategorySpec(_ADOPT, "Adoption", 406, 3_000, 165.8, 376, 165.51, 0.6, 0.15, trend=0.02),
    CategorySpec(_ADOPT, "Concurrent Adoption", 3, 250, 350, 5, 350.0, 0.5, 0.0),
    *(
        CategorySpec(_SEN, need, stock, 1_100, price, budgeted, budget_price, 0.7, 0.3,
                     unit="year", funding="DSG", planned_end_share=0.7, academic_ends=True,
                     tail_share=0.05, trend=0.05)
        for need, stock, price, budgeted, budget_price in (
            ("Autistic Spectrum Disorder (ASD)", 94, 68_000, 98, 62_908),
            ("Hearing Impairment (HI)", 2, 37_000, 3, 33_333),
            ("Moderate Learning Difficulty (MLD)", 6, 23_000, 3, 36_333),
            ("Multi-Sensory Impairment (MSI)", 0.4, 75_000, 1, 75_000),
            ("Physical Disability (PD)", 4, 25_000, 1, 19_000),
            ("Profound and Multiple Learning Difficulty (PMLD)", 0.5, 41_000, 1, 41_000),
            ("Social Emotional and Mental Health (SEMH)", 38, 46_000, 35, 42_571),
            ("Speech, Language and Communication Needs (SLCN)", 2, 45_000, 3, 54_333),
            ("Severe Learning Difficulty (SLD)", 1, 90_000, 2, 90_000),
            ("Specific Learning Difficulty (SPLD)", 5, 44_000, 8, 20_500),
            ("Visual Impairment (VI)", 2, 29_000, 2, 32_000),
        )
    ),
    CategorySpec(_LD, "Residential", 307, 2_500, 1_369, 313, 1_376, 0.8, 0.35,
                 tail_share=0.05, income_share=0.8, income_ratio=0.08),
    CategorySpec(_LD, "Nursing", 7, 1_500, 1_842, 8, 2_123, 0.8, 0.2, income_share=0.8,
                 income_ratio=0.08),
    CategorySpec(_LD, "Homecare", 600, 1_200, 17.2, 610, 16.9, 0.9, 0.08, unit="hour",
                 units_per_week=25, income_share=0.4, income_ratio=0.05, trend=0.03),
    CategorySpec(_LD, "Direct payments", 400, 1_500, 430, 390, 420, 0.9, 0.3,
                 income_share=0.3, income_ratio=0.05, trend=0.05),
    CategorySpec(_OP, "Residential", 449, 700, 496, 447, 483, 0.9, 0.2, income_share=0.9,
                 income_ratio=0.4, planned_end_share=0.05),
    CategorySpec(_OP, "Residential Dementia", 375, 700, 547, 347, 536, 0.9, 0.2,
                 income_share=0.9, income_ratio=0.4, trend=0.04),
    CategorySpec(_OP, "Nursing", 301, 500, 705, 301, 715, 0.9, 0.2, income_share=0.85,
                 income_ratio=0.35),
    CategorySpec(_OP, "Nursing Dementia", 55, 500, 768, 55, 753, 0.9, 0.2,
                 income_share=0.85, income_ratio=0.35),
    CategorySpec(_OP, "Respite", 360, 365, 600, 362, 600, 0.6, 0.15, weeks_per_year=6,
                 income_share=0.5, income_ratio=0.2),
    CategorySpec(_OP, "Direct payments", 234, 900, 271, 248, 173, 0.9, 0.35,
                 tail_share=0.03, trend=0.06),
    CategorySpec(_OP, "Homecare", 1_418, 400, 16.13, 1_608, 15.70, 1.0, 0.05, unit="hour",
                 units_per_week=10, income_share=0.6, income_ratio=0.15, seasonality=0.2),
)

#: Lines with a budget and ledger spend but no placements: (service, category, budget).
LUMP_LINES: tuple[tuple[str, str, float], ...] = (
    (_LAC, "Growth/Replacement", 868_000.0),
    (_FOST, "Growth", -297_000.0),
    (_LD, "Further savings", -1_795_000.0),
)
