"""The statistics the dbt Python models call: CLV (BG/NBD and Gamma-Gamma), needs segmentation
(clustering) and uplift models. Each module is plain Python, unit-tested without dbt."""
