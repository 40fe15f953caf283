"""Random streams: keyed by seed, line, purpose, block and chunk; never shared."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from forecastlib.streams import line_key, stream

LINE = ("LAC Placements", "Residential homes")


def test_without_a_block_the_stream_is_the_one_keyed_by_chunk_alone():
    # models drawing outside the engine's blocks keep their streams
    sequence = np.random.SeedSequence(3, spawn_key=(line_key(LINE), 1, 2))
    expected = np.random.default_rng(sequence).random(4)
    assert (stream(3, LINE, "ends", 2).random(4) == expected).all()


@settings(max_examples=60, deadline=None)
@given(st.tuples(st.integers(0, 50), st.integers(0, 50)),
       st.tuples(st.integers(0, 50), st.integers(0, 50)))
def test_different_blocks_or_chunks_give_different_streams(one, other):
    first = stream(1, LINE, "prices", one[1], block=one[0]).random(3)
    second = stream(1, LINE, "prices", other[1], block=other[0]).random(3)
    assert (first == second).all() == (one == other)
    # a block's stream is never the chunk-only stream of the same numbers
    assert not (stream(1, LINE, "prices", one[1]).random(3) == first).all()
