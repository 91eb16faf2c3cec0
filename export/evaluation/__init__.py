"""Held-out and independent evaluation sets, classical baselines, reports."""
