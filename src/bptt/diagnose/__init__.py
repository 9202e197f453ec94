"""Gradient diagnostics: how errors travel back in time (``analysis``), what training records of
it (``metrics``), and the pictures of both (``plots``)."""

from .analysis import (LAGS, RADII, LagProfile, lag_profile, largest_singular_value, radius_sweep,
                       spectral_radius)
from .metrics import load_metrics, ratio_key, training_metrics

__all__ = ["LAGS", "RADII", "LagProfile", "lag_profile", "radius_sweep", "training_metrics",
           "load_metrics", "ratio_key", "spectral_radius", "largest_singular_value"]
