"""python -m orchestration.simulation (see cli.py)."""

import sys

from orchestration.simulation.cli import main

sys.exit(main())
