"""Command-line entry points: the ``scf`` console script, the local stack and the demo story."""
