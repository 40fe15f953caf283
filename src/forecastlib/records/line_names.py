"""Line names as people type them: one line whatever the case and spacing.

A budget line is ``(service, category)``. Files typed or exported by different people
spell the same line differently: ``Residential Homes`` in the placements,
``Residential homes `` (a trailing space, or a non-breaking one from a web page) in the
budget. :func:`reconcile_line_names` makes them one line, applied once where the three
frames meet: names are compared ignoring case and surrounding or repeated spaces, the
budget's spelling is shown (else the spelling most rows use; spaces tidied to single
plain ones), and a note lists every spelling merged. One budget line given twice under
spellings that differ only so is an error (a duplicate budget line), never two lines.

Notes the readers attached to the frames (``attrs["notes"]``: the encoding used, extra
columns) are passed on with these, so whoever reports the forecast shows them.

Examples
--------
>>> import pandas as pd
>>> placements = pd.DataFrame({"service": ["LAC"], "category": ["Residential Homes"]})
>>> budget = pd.DataFrame({"service": ["LAC"], "category": ["Residential homes\\u00a0"]})
>>> placements, budget, _, notes = reconcile_line_names(placements, budget)
>>> placements["category"].tolist(), budget["category"].tolist()
(['Residential homes'], ['Residential homes'])
>>> notes[0][:60]
"Line names matched ignoring case and spaces: 'Residential Ho"
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.errors import DataValidationError, Problem

__all__ = ["line_key", "reconcile_line_names"]

_COLUMNS = ("service", "category")


def line_key(names: pd.Series) -> pd.Series:
    """Names as compared: lower case (casefolded), runs of any spaces as one, stripped."""
    return (names.astype(str).str.replace(r"\s+", " ", regex=True).str.strip()
            .str.casefold())


def _distinct_lines(frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Row codes and the distinct (service, category) spellings with their row counts."""
    s_codes, s_names = pd.factorize(frame["service"].astype(str), use_na_sentinel=False)
    c_codes, c_names = pd.factorize(frame["category"].astype(str), use_na_sentinel=False)
    width = max(len(c_names), 1)
    codes, pairs = pd.factorize(s_codes.astype(np.int64) * width + c_codes)
    distinct = pd.DataFrame({
        "service": np.asarray(s_names, dtype=object)[pairs // width] if len(pairs) else [],
        "category": np.asarray(c_names, dtype=object)[pairs % width] if len(pairs) else [],
        "rows": np.bincount(codes, minlength=len(pairs)),
    })
    distinct["s_key"] = line_key(distinct["service"])
    distinct["c_key"] = line_key(distinct["category"])
    return codes, distinct


def _canonical(spellings: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """Per key, the budget's spelling if any, else the spelling with most rows."""
    counted = spellings.groupby(keys + [column], sort=False).agg(
        rows=("rows", "sum"), source=("source", "min")).reset_index()
    ranked = counted.sort_values(keys + ["source", "rows"], ascending=[True] * len(keys)
                                 + [True, False], kind="stable")
    chosen = ranked.drop_duplicates(keys)[keys + [column]]
    tidy = chosen[column].astype(str).str.split().str.join(" ")  # spaces as one plain space
    return chosen[keys].assign(**{f"new_{column}": tidy.to_numpy()})


def _duplicate_budget_lines(budget: pd.DataFrame) -> None:
    key = pd.DataFrame({"s": line_key(budget["service"]).to_numpy(),
                        "c": line_key(budget["category"]).to_numpy()})
    repeated = key.duplicated(keep="first").to_numpy()
    if not repeated.any():
        return
    file = budget.attrs.get("source", "budget")
    group = key.groupby(["s", "c"], sort=False).ngroup().to_numpy()
    first_position = pd.Series(np.arange(len(key))).groupby(group).transform("min")
    problems = []
    for position in np.flatnonzero(repeated):
        other = int(first_position.iloc[position])
        problems.append(Problem(
            file, position + 2, "service + category",
            f"{budget['service'].iloc[position]} / {budget['category'].iloc[position]}",
            f"a unique budget line (row {other + 2} gives "
            f"{budget['service'].iloc[other]!r} / {budget['category'].iloc[other]!r}, the "
            f"same line once case and spaces are ignored)"))
    raise DataValidationError(problems)


def reconcile_line_names(
    placements: pd.DataFrame,
    budget: pd.DataFrame,
    actuals: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, list[str]]:
    """One spelling per line across placements, budget and actuals.

    Parameters
    ----------
    placements, budget : DataFrame
        Frames with ``service`` and ``category`` columns (validated or not).
    actuals : DataFrame, optional

    Returns
    -------
    placements, budget, actuals : DataFrame
        Copies with the names rewritten (the same objects when nothing changed).
    notes : list of str
        The readers' notes carried in ``attrs["notes"]``, then one note listing every
        spelling merged into another.

    Raises
    ------
    DataValidationError
        The budget gives one line twice under spellings that differ only in case or
        spaces.
    """
    frames = [budget, placements] + ([actuals] if actuals is not None else [])
    notes: list[str] = []
    for frame in frames:
        for note in frame.attrs.get("notes", []):
            if note not in notes:
                notes.append(note)
    if any(not set(_COLUMNS) <= set(frame.columns) for frame in frames):
        return placements, budget, actuals, notes
    _duplicate_budget_lines(budget)
    coded = [_distinct_lines(frame) for frame in frames]
    spellings = pd.concat([distinct.assign(source=order)
                           for order, (_, distinct) in enumerate(coded)], ignore_index=True)
    services = _canonical(spellings, ["s_key"], "service")
    categories = _canonical(spellings, ["s_key", "c_key"], "category")

    merged: dict[str, set[str]] = {}
    out = []
    for frame, (codes, distinct) in zip(frames, coded):
        renamed = (distinct.merge(services, on="s_key", how="left")
                   .merge(categories, on=["s_key", "c_key"], how="left"))
        changed_s = (renamed["new_service"] != renamed["service"]).to_numpy()
        changed_c = (renamed["new_category"] != renamed["category"]).to_numpy()
        if not (changed_s.any() or changed_c.any()):
            out.append(frame.copy(deep=False))
            continue
        for column, changed in (("service", changed_s), ("category", changed_c)):
            for old, new in renamed.loc[changed, [column, f"new_{column}"]].itertuples(
                    index=False):
                merged.setdefault(new, set()).add(old)
        copy = frame.copy()
        copy["service"] = renamed["new_service"].to_numpy(dtype=object)[codes]
        copy["category"] = renamed["new_category"].to_numpy(dtype=object)[codes]
        out.append(copy)
    if merged:
        listed = "; ".join(f"{', '.join(repr(o) for o in sorted(olds))} as {target!r}"
                           for target, olds in sorted(merged.items()))
        notes.append(f"Line names matched ignoring case and spaces: {listed}.")
    for frame in out:
        frame.attrs["notes"] = list(notes)
    return out[1], out[0], (out[2] if actuals is not None else None), notes
