"""A progress bar on standard error for long runs.

The simulation reports ``(done, total)`` through the callback it is given (see
:func:`forecastlib.simulation.engine.reporting_progress`); :class:`ProgressBar` draws
nothing for the first ``delay`` seconds, so quick runs stay silent, and only when its
stream is a terminal, so logs and pipes never get carriage returns.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar", "progress_bar"]


class ProgressBar:
    """``label [#####.....]  50%  3/6`` redrawn in place on ``stream``.

    Parameters
    ----------
    stream : text stream
    delay : float
        Seconds from creation before anything is drawn.
    width : int
        Characters of the bar itself.
    label : str
    clock : callable
        Seconds, monotonic (a parameter so tests can drive it).
    """

    def __init__(self, stream: TextIO, delay: float = 2.0, width: int = 30,
                 label: str = "forecastlib: simulating", clock=time.monotonic) -> None:
        self.stream = stream
        self.delay = delay
        self.width = width
        self.label = label
        self.clock = clock
        self._started = clock()
        self._drawn = 0

    def __call__(self, done: int, total: int) -> None:
        if total <= 0 or self.clock() - self._started < self.delay:
            return
        share = min(max(done / total, 0.0), 1.0)
        filled = int(round(share * self.width))
        text = (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                f"{share:4.0%}  {done}/{total}")
        self.stream.write("\r" + text.ljust(self._drawn))
        self.stream.flush()
        self._drawn = len(text)

    def close(self) -> None:
        """Erase the bar (if one was drawn) so that notes start on a clean line."""
        if self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0


def progress_bar(quiet: bool, stream: TextIO | None = None) -> ProgressBar | None:
    """A bar on ``stream`` (standard error) unless ``quiet`` or it is not a terminal."""
    stream = sys.stderr if stream is None else stream
    if quiet or not getattr(stream, "isatty", lambda: False)():
        return None
    return ProgressBar(stream)
