"""Fixtures of the CLI tests: ``counter`` counts the points a sweep computed."""

from tests.sweep.conftest import counter

__all__ = ["counter"]
