"""Fixtures for windforce.tb: every physics check runs on both backends."""

import pytest


@pytest.fixture(params=["dense", "rgf"])
def backend(request):
    return request.param
