"""The progress bar: silent for quick runs and off a terminal, fed by the simulation."""

from __future__ import annotations

import io
import time

from forecastlib.cli.progress import ProgressBar, progress_bar
from forecastlib.simulation import DemandModels, simulate_remaining
from forecastlib.simulation.engine import reporting_progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_waits_for_its_delay_then_draws_and_erases():
    now = [0.0]
    stream = Terminal()
    bar = ProgressBar(stream, delay=2.0, width=10, clock=lambda: now[0], tick=None)
    bar(1, 4)
    assert stream.getvalue() == ""  # a quick run shows nothing
    now[0] = 3.0
    bar(2, 4)
    assert stream.getvalue().endswith("[#####.....]  50%  2/4 blocks  0:03")
    now[0] = 75.0
    bar(4, 4)
    assert stream.getvalue().endswith("[##########] 100%  4/4 blocks  1:15")
    bar.close()
    assert stream.getvalue().endswith("\r") and stream.getvalue().count("\r") == 4
    bar.close()  # closing twice is harmless
    bar(4, 4)
    assert stream.getvalue().count("\r") == 4  # nothing drawn after close


def test_before_the_simulation_the_ticker_shows_what_is_done():
    stream = Terminal()
    bar = ProgressBar(stream, delay=0.0, tick=0.01)
    try:
        deadline = time.monotonic() + 5
        while "fitting the demand models" not in stream.getvalue():
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        bar.close()
    assert not bar._thread.is_alive()


def test_no_bar_when_quiet_or_not_a_terminal():
    assert progress_bar(True, Terminal()) is None
    assert progress_bar(False, io.StringIO()) is None
    assert isinstance(progress_bar(False, Terminal()), ProgressBar)


def test_simulation_reports_each_block_to_the_callback(sample, monkeypatch):
    from forecastlib.simulation import blocks

    monkeypatch.setattr(blocks, "SIM_BLOCK", 10)
    models = DemandModels.fit(sample.placements, sample.as_at, new_starts=False)
    calls = []
    with reporting_progress(lambda done, total: calls.append((done, total))):
        simulate_remaining(sample.placements, sample.as_at, models, simulations=25, seed=1)
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]  # blocks of 10, 10 and 5 simulations
    calls.clear()
    simulate_remaining(sample.placements, sample.as_at, models, simulations=20, seed=1)
    assert calls == []  # outside the block nothing is reported
