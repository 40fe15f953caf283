"""Pin the public API so that names do not vanish by accident."""

from __future__ import annotations

import importlib

import forecastlib

PUBLIC = {
    "ActualRecord", "BudgetRecord", "CATEGORIES", "CategorySpec", "ConfigError",
    "DataValidationError", "ForecastlibError", "KEY_ACTIVITY_COLUMNS", "LINE_KEYS",
    "OUTTURN_COLUMNS", "OutturnResult", "PlacementRecord",
    "PriceTerms", "Problem", "RagPolicy", "Sample", "SpendProfile", "SyntheticCounty", "UNITS",
    "__version__", "accrue", "accrue_by_period", "annual_budgets", "calendar",
    "deterministic_outturn", "effective_ends", "expected_to_date", "forecast_outturn",
    "format_key_activity", "format_outturn", "gbp_thousands", "generate_county",
    "key_activity", "ledger_to_date", "line_activity", "line_costs_by_period", "load_sample",
    "outturn_total", "price_terms", "read_actuals", "read_budget", "read_placements",
    "read_table", "reconcile_line_names",
    "result_to_csv", "result_to_json_dict", "sample_path", "validate_table",
    "volume_price_split",
    # self-backtest
    "BacktestResult", "backtest_outturn", "calibrate_outturn", "record_as_at",
    # demand
    "FAMILIES", "LengthOfStayModel", "PooledGrowthModel", "PriceModel", "ProjectionWarning",
    "StartsModel",
    "cross_validation", "default_history_start", "durations", "evaluate", "monthly_starts",
    "project_series", "spells", "episode_spells", "segments", "MoveModel", "SpellHistory",
    "line_starts", "StayDraws",
    # simulation
    "DemandModels", "ForkedWorkers", "NewStarts", "OpenBook", "SimulatedOutturn", "StartChanges",
    "simulate_remaining", "SIM_BLOCK", "MOMENTS_ABOVE", "BookPaths", "path_moments",
    "start_moments",
    # the forecast's boundary objects and steps
    "AsAt", "ForecastInputs", "ForecastOptions", "NO_CHANGE", "SimulatedPaths", "SpendContext",
    "Transformation", "outturn_from_inputs",
    # scenarios
    "DemandGrowth", "EndPlacements", "ExtraPlacements", "MixShift", "Savings", "Scenario",
    "ScenarioError", "UnitCostChange", "compare", "load_scenario", "merge_scenarios",
    # whatif
    "OutturnSurface", "goal_seek", "placements_before_red", "share_to_balance", "sobol_table",
    "tornado",
    "plot_fan_chart", "plot_tornado", "neutralise_formulas",
    # report pack, movement and charts
    "COMPONENT_LABELS", "MOVEMENT_COMPONENTS", "Movement", "assumption_label",
    "committee_pack", "cumulative_actuals", "format_movement", "movement", "movement_to_csv",
    "movement_to_json_dict", "plot_variance", "plot_waterfall", "year_end_counts",
    # SSDA903
    "DEFAULT_PRICES", "place_category", "read_ssda903", "read_ssda903_folder",
}
SUBPACKAGES = ["accrual", "budget", "datasets", "demand", "outturn", "records", "report",
               "scenarios", "simulation", "whatif"]


def test_top_level_names_are_pinned():
    assert set(forecastlib.__all__) == PUBLIC
    for name in forecastlib.__all__:
        assert hasattr(forecastlib, name), name


def test_every_subpackage_declares_and_re_exports_its_names():
    for name in SUBPACKAGES:
        module = importlib.import_module(f"forecastlib.{name}")
        for exported in module.__all__:
            assert getattr(forecastlib, exported) is getattr(module, exported)


def test_version_comes_from_package_metadata():
    from importlib.metadata import version

    assert forecastlib.__version__ == version("forecastlib")


def test_project_series_keeps_its_contract_signature():
    import inspect

    signature = inspect.signature(forecastlib.project_series)
    assert list(signature.parameters) == ["history", "horizon", "interval", "season_length",
                                          "seed"]
    assert signature.parameters["interval"].default == 0.8


def test_errors_are_value_errors():
    assert issubclass(forecastlib.DataValidationError, ValueError)
    assert issubclass(forecastlib.ConfigError, ValueError)
