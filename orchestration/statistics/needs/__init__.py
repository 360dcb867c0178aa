"""Needs segmentation helpers used by the dbt Python model of the needs mart (issue 5)."""
