"""Benchmarks and independent reference implementations used to check the engine."""
