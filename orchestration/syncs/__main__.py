"""python -m orchestration.syncs: sync every configured channel once (after a dbt build)."""

import sys

from orchestration.syncs.runner import main

sys.exit(main())
