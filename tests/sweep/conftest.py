"""Fixtures shared by the sweep tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def counter(tmp_path, monkeypatch):
    """A file to which tests.sweep.points.spectrum appends one line per evaluation."""
    path = tmp_path / "calls.txt"
    path.touch()
    monkeypatch.setenv("WINDFORCE_TEST_COUNTER", str(path))

    def calls() -> int:
        return len(path.read_text().splitlines())

    return calls


def without_created(dataset):
    """The dataset minus its creation date, the one attribute that differs between runs."""
    out = dataset.copy()
    out.attrs = {k: v for k, v in dataset.attrs.items() if k != "created"}
    return out
