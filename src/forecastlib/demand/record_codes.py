"""A record's strings as integers, factorised once for every fit to share.

Hashing strings over millions of rows was the largest cost of fitting a national record;
:class:`RecordCodes` holds each row's service, category and client as int32 codes (and
the distinct names once), and :func:`packed_lexsort` sorts rows by several integer keys
in one stable ``argsort`` when they pack into 63 bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["RecordCodes", "group_rows", "packed_lexsort", "sorted_line_codes"]


@dataclass(frozen=True, eq=False)
class RecordCodes:
    """Integer codes of a record's ``service``, ``category`` and ``client_id`` per row
    (:func:`pandas.factorize`: in order of first appearance) and the distinct services
    and categories, factorised once for every fit to share (strings hash slowly)."""

    service: np.ndarray
    category: np.ndarray
    client: np.ndarray
    services: np.ndarray
    categories: np.ndarray

    @classmethod
    def of(cls, placements: pd.DataFrame) -> RecordCodes:
        """Factorise the record's ``service``, ``category`` and ``client_id``."""
        service, services = pd.factorize(placements["service"])
        category, categories = pd.factorize(placements["category"])
        client = pd.factorize(placements["client_id"])[0]
        small = np.int32 if len(placements) < 2**31 else np.int64  # kept: half the memory
        return cls(service.astype(small), category.astype(small), client.astype(small),
                   np.asarray(services, dtype=object), np.asarray(categories, dtype=object))

    def lines(self, rows: np.ndarray | None = None
              ) -> tuple[np.ndarray, list[tuple[str, str]]]:
        """A line code for each row at positions ``rows`` (every row if ``None``) and the
        lines the codes index, sorted (the groups and order of ``groupby(LINE_KEYS,
        sort=True)``)."""
        service = self.service if rows is None else self.service[rows]
        category = self.category if rows is None else self.category[rows]
        return sorted_line_codes(service, category, self.services, self.categories)


def sorted_line_codes(service: np.ndarray, category: np.ndarray, services: np.ndarray,
                  categories: np.ndarray) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Line codes of rows given their service and category codes (into ``services`` and
    ``categories``), numbered in the sorted order of the lines present."""
    width = max(len(categories), 1)
    combined = service.astype(np.int64) * width + category
    present = np.flatnonzero(np.bincount(combined, minlength=1))
    names = [(services[p // width], categories[p % width]) for p in present]
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.zeros(present[-1] + 1 if present.size else 0, dtype=np.int64)
    rank[present[order]] = np.arange(len(names))
    return rank[combined], [names[i] for i in order]


def group_rows(codes: np.ndarray, groups: int) -> list[np.ndarray]:
    """The positions of each group's rows (``codes`` in ``0 .. groups - 1``), in their
    order in ``codes``: one stable sort for every group, not a mask a group.

    Examples
    --------
    >>> [rows.tolist() for rows in group_rows(np.array([1, 0, 1, 1]), 3)]
    [[1], [0, 2, 3], []]
    """
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(groups + 1))
    return [order[bounds[group]:bounds[group + 1]] for group in range(groups)]


def packed_lexsort(keys: list[np.ndarray]) -> np.ndarray:
    """``np.lexsort(keys)`` (the last key primary): the keys packed into one integer
    and sorted once, stably, when their ranges fit in 63 bits (the same order)."""
    if not keys[0].size:
        return np.lexsort(keys)
    low = [int(key.min()) for key in keys]
    bits = [max(int(key.max()) - first, 0).bit_length() for key, first in zip(keys, low,
                                                                               strict=True)]
    if sum(bits) > 63:
        return np.lexsort(keys)
    packed = np.zeros(keys[0].size, dtype=np.int64)
    shift = 0
    for key, first, width in zip(keys, low, bits, strict=True):
        packed |= (key.astype(np.int64) - first) << shift
        shift += width
    return np.argsort(packed, kind="stable")
