"""python -m orchestration.devtools.simulation (see cli.py)."""

import sys

from orchestration.devtools.simulation.cli import main

sys.exit(main())
