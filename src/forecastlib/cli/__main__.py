"""``python -m forecastlib.cli``."""

import sys

from forecastlib.cli import main

sys.exit(main())
