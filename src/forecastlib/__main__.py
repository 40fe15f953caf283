"""The ``forecastlib`` program: ``python -m forecastlib`` and the ``forecastlib`` console
script (which calls :func:`run`)."""

import os
import sys

#: Settings the program gives the numerical libraries unless the user has set one.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def run() -> int:
    """Run the command line on the process's arguments; returns the exit status.

    One BLAS thread a process, unless the environment already says how many (any of
    :data:`BLAS_THREADS`): the command line spreads its work over one process (or
    thread) a core, so the BLAS library's own threads on top of them only wait for a
    core (about a tenth of the demo's CPU time on two cores), and the numbers are the
    same. Set before numpy is first imported (``import forecastlib`` alone does not
    import it), which is why the program starts here and not in
    :mod:`forecastlib.cli`, whose functions a notebook may call with numpy already
    loaded and its own threads chosen.
    """
    if not any(name in os.environ for name in BLAS_THREADS):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    from forecastlib.cli import run as command_line

    return command_line()


if __name__ == "__main__":
    sys.exit(run())
