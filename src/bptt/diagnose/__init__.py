"""Gradient diagnostics: how errors travel back in time, and what training records of it."""

from .analysis import (LAGS, RADII, LagProfile, lag_profile, largest_singular_value, load_metrics,
                       radius_sweep, ratio_key, spectral_radius, training_metrics)

__all__ = ["LAGS", "RADII", "LagProfile", "lag_profile", "radius_sweep", "training_metrics",
           "load_metrics", "ratio_key", "spectral_radius", "largest_singular_value"]
