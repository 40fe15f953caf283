"""A progress bar on standard error for long runs.

The simulation reports ``(done, total)`` blocks of simulations through the callback it
is given (see :func:`forecastlib.simulation.engine.reporting_progress`). Before its first report
(reading the files, fitting the demand models) the bar shows what is being done and
the time elapsed, redrawn twice a second by a small background thread. Nothing is drawn
for the first ``delay`` seconds, so quick runs stay silent, and only when the stream is
a terminal, so logs and pipes never get carriage returns.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressBar", "progress_bar"]


class ProgressBar:
    """``label [#####.....]  50%  3/6 blocks  0:42`` redrawn in place on ``stream``.

    Parameters
    ----------
    stream : text stream
    delay : float
        Seconds from creation before anything is drawn.
    width : int
        Characters of the bar itself.
    clock : callable
        Seconds, monotonic (a parameter so that tests can drive it).
    tick : float or None
        Seconds between redraws by the background thread; ``None`` for none (tests).
    """

    def __init__(self, stream: TextIO, delay: float = 2.0, width: int = 30,
                 clock: Callable[[], float] = time.monotonic, tick: float | None = 0.5
                 ) -> None:
        self.stream = stream
        self.delay = delay
        self.width = width
        self.clock = clock
        self._started = clock()
        self._state: tuple[int, int] | None = None
        self._drawn = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        if tick is not None:
            self._thread = threading.Thread(target=self._run, args=(tick,), daemon=True)
            self._thread.start()

    def __call__(self, done: int, total: int) -> None:
        """Record that ``done`` of ``total`` blocks of simulations are done, and redraw."""
        self._state = (done, total)
        self.draw()

    def text(self) -> str:
        elapsed = int(self.clock() - self._started)
        clock = f"{elapsed // 60}:{elapsed % 60:02d}"
        if self._state is None or self._state[1] <= 0:
            return f"forecastlib: reading inputs, fitting the demand models  {clock}"
        done, total = self._state
        share = min(max(done / total, 0.0), 1.0)
        filled = int(round(share * self.width))
        return (f"forecastlib: simulating [{'#' * filled}{'.' * (self.width - filled)}] "
                f"{share:4.0%}  {done}/{total} blocks  {clock}")

    def draw(self) -> None:
        if self.clock() - self._started < self.delay:
            return
        with self._lock:
            if self._stop.is_set():
                return
            text = self.text()
            self.stream.write("\r" + text.ljust(self._drawn))
            self.stream.flush()
            self._drawn = len(text)

    def close(self) -> None:
        """Stop redrawing and erase the bar, so that notes start on a clean line."""
        with self._lock:
            self._stop.set()
            if self._drawn:
                self.stream.write("\r" + " " * self._drawn + "\r")
                self.stream.flush()
                self._drawn = 0
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self, tick: float) -> None:
        while not self._stop.wait(tick):
            self.draw()


def progress_bar(quiet: bool, stream: TextIO | None = None) -> ProgressBar | None:
    """A bar on ``stream`` (standard error) unless ``quiet`` or it is not a terminal."""
    stream = sys.stderr if stream is None else stream
    if quiet or not getattr(stream, "isatty", lambda: False)():
        return None
    return ProgressBar(stream)
