"""Tools for developing and trying the warehouse, not part of what a company runs: the sample-data
generator (several shapes of company with planted truth), the closed-loop simulation and the
benchmark."""
