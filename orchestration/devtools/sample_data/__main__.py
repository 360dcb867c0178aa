"""python -m orchestration.devtools.sample_data: see cli.py."""

from orchestration.devtools.sample_data.cli import main

# The guard matters: spawned worker processes import this module as __mp_main__.
if __name__ == "__main__":
    raise SystemExit(main())
