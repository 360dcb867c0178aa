"""Customer intelligence warehouse: orchestration, validation, syncs and sample data."""
