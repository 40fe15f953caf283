"""Datasets: the synthetic sample county, its generator and its loader."""

from forecastlib.datasets.catalogue import CATEGORIES, CategorySpec
from forecastlib.datasets.sample import Sample, load_sample, sample_path
from forecastlib.datasets.synthetic import SyntheticCounty, generate_county

__all__ = [
    "CATEGORIES",
    "CategorySpec",
    "Sample",
    "SyntheticCounty",
    "generate_county",
    "load_sample",
    "sample_path",
]
