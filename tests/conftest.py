"""Shared pytest configuration."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("WINDFORCE_PROGRESS", "0")
