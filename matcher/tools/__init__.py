"""Tools for developers and benchmarks: the synthetic cohort, `matcher bench`, and the unit-factor table's writer."""
