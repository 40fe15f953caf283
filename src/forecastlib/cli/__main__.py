"""``python -m forecastlib.cli``."""

import sys

from forecastlib.cli import run

sys.exit(run())
