"""``python -m forecastlib``: the ``forecastlib`` command line."""

import sys

from forecastlib.cli import run

if __name__ == "__main__":
    sys.exit(run())
