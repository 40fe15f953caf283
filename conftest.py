"""Plumbing shared by the tests and the doctests (``src/forecastlib``).

Demand fits are memoised for the session: ``DemandModels.fit`` on a record it has
already fitted (same content, ``as_at`` and options) returns a deep copy of the first
fit instead of fitting again. Fitting is deterministic, so this changes no number; it
removes the dozens of identical fits of the sample county that the tests, doctests and
CLI tests would otherwise repeat (each several seconds). A fit that warns is not
memoised (its warnings are passed on and the next call fits again), nor is a call whose
arguments cannot be keyed. Each caller gets its own copy, so no test can change another's
models.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import sys
import warnings

import pytest


def _record_digest(frame) -> str:
    import pandas as pd

    digest = hashlib.sha256()
    digest.update(repr((list(frame.columns), [str(t) for t in frame.dtypes])).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def _module_of(filename: str) -> str | None:
    """The module name a warning's file belongs to (what ``-W``/filterwarnings match)."""
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) == filename:
            return name
    return None


def _key(function, cls, placements, as_at, args, kwargs):
    import pandas as pd

    try:
        signature = inspect.signature(function)
        bound = signature.bind(cls, placements, as_at, *args, **kwargs)
        bound.apply_defaults()
        first = list(signature.parameters)[:3]  # cls, placements, as_at
        options = tuple((name, value) for name, value in bound.arguments.items()
                        if name not in first)
        key = (cls, _record_digest(placements), pd.Timestamp(as_at), options)
        hash(key)
    except Exception:  # anything unusual is simply not memoised
        return None
    return key


@pytest.fixture(scope="session", autouse=True)
def _memoised_demand_fits():
    try:
        from forecastlib.simulation.engine import DemandModels
    except ImportError:  # pragma: no cover - the engine moved: nothing to memoise
        yield
        return
    original = DemandModels.__dict__.get("fit")
    if not isinstance(original, classmethod):  # pragma: no cover
        yield
        return
    fitted: dict = {}

    def fit(cls, placements, as_at, *args, **kwargs):
        key = _key(original.__func__, cls, placements, as_at, args, kwargs)
        if key is not None and key in fitted:
            return copy.deepcopy(fitted[key])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # see every warning, even ones filtered out here
            models = original.__func__(cls, placements, as_at, *args, **kwargs)
        for warning in caught:  # passed on under the caller's filters; not memoised
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno, module=_module_of(warning.filename),
                                   source=warning.source)
        if key is not None and not caught:
            fitted[key] = copy.deepcopy(models)
        return models

    DemandModels.fit = classmethod(fit)
    try:
        yield
    finally:
        DemandModels.fit = original
