"""Staged, resumable training, its plots, and trained weights + cards -> nets."""
