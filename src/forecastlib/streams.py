"""Reproducible, independent random streams keyed by line and purpose.

Every random draw in forecastlib comes from a generator made here. The stream of a
budget line depends only on the seed, the line's name and the purpose of the draws
(open-placement ends, start counts, prices of new starts, ...), the block of
simulations and the chunk inside it: never on which other lines exist or in what order,
nor on which worker runs the block. So changing one line's
inputs (a scenario) leaves every other line's draws as they were, and the same seed
gives the same numbers on any machine (numpy's PCG64 with ``SeedSequence``).
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["line_key", "stream"]

PURPOSES = {"ends": 1, "counts": 2, "prices": 3, "stays": 4, "days": 5, "savings": 6,
            "parameters": 7, "moves": 8, "extra": 9,
            "moments": 10}


def line_key(line: tuple[str, str]) -> int:
    """A stable 32-bit key of a line's name (CRC-32 of ``service / category``)."""
    return zlib.crc32(f"{line[0]}\x1f{line[1]}".encode())


def stream(seed: int | None, line: tuple[str, str], purpose: str, chunk: int = 0,
           block: int | None = None) -> np.random.Generator:
    """The generator for ``purpose`` draws of ``line`` in chunk ``chunk`` of simulation
    block ``block``.

    ``block`` numbers the fixed blocks of simulations the engine runs
    (:data:`forecastlib.simulation.blocks.SIM_BLOCK` each); ``None`` (a model drawing
    outside the engine's blocks) keys the stream by ``chunk`` alone, as before blocks
    existed. Keys with and without a block never give the same stream.

    Examples
    --------
    >>> a = stream(7, ("LAC", "Residential"), "ends").random()
    >>> b = stream(7, ("LAC", "Residential"), "ends").random()
    >>> c = stream(7, ("LAC", "Fostering"), "ends").random()
    >>> a == b, a == c
    (True, False)
    >>> d = stream(7, ("LAC", "Residential"), "ends", block=0).random()
    >>> e = stream(7, ("LAC", "Residential"), "ends", chunk=0, block=1).random()
    >>> len({a, d, e})
    3
    """
    entropy = 0 if seed is None else int(seed)
    key = (line_key(line), PURPOSES[purpose], int(chunk))
    if block is not None:
        key = (line_key(line), PURPOSES[purpose], int(block), int(chunk))
    sequence = np.random.SeedSequence(entropy, spawn_key=key)
    return np.random.default_rng(sequence)
