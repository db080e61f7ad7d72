"""Deterministic, calibrated synthetic data (profiles, generator, loader)."""
