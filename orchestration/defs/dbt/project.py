"""The dbt project as Dagster sees it.

dagster-dbt builds its assets from target/manifest.json when the definitions
are imported, so the manifest is prepared here, before anything else asks for
it: a fresh clone has none, and a stale one would hide new models. dbt's
partial parsing keeps this to a few seconds; a deployment that ships a
prepared manifest sets CIW_DBT_MANIFEST_PREPARED=1 to skip it.

The manifest lives where dbt writes it: DBT_TARGET_PATH when set (tests and
side-by-side workspaces keep their own), else target/.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.dbt_cli import PROJECT_DIR, dbt_executable

warehouse_project = DbtProject(
    project_dir=PROJECT_DIR,
    profiles_dir=PROJECT_DIR,
    target_path=os.environ.get("DBT_TARGET_PATH") or "target",
)


def prepare_manifest(project: DbtProject = warehouse_project) -> Path:
    """Parse the project (unless told the manifest is prepared); return the manifest path."""
    if os.environ.get("CIW_DBT_MANIFEST_PREPARED") != "1" or not project.manifest_path.exists():
        env = dict(os.environ, DBT_SEND_ANONYMOUS_USAGE_STATS="false")
        subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--project-dir",
                str(PROJECT_DIR),
                "--profiles-dir",
                str(PROJECT_DIR),
            ],
            cwd=PROJECT_DIR,
            env=env,
            check=True,
            capture_output=True,
        )
    return project.manifest_path


prepare_manifest()
