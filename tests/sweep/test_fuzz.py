"""Property-based fuzzing of sweep files (strategies in tests/sweep/fuzz.py).

For every input schema and every mutation hypothesis draws: ``windforce
sweep`` ends with 0, 2, 4 or 5, prints no traceback, and a file with an
unknown key ends with 2 (nothing is ignored silently).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.badinput import run_cli
from tests.sweep.fuzz import SCHEMAS, sweep_documents, toml_document
from windforce.errors import ValidationError
from windforce.sweep import product

FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=list(SCHEMAS))
@FUZZ
@given(data=st.data())
def test_sweep_files_end_cleanly_and_never_ignore_a_key(schema, data):
    doc, what, unknown = data.draw(sweep_documents(schema))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.toml"
        path.write_text(toml_document(doc), encoding="utf-8")
        res = run_cli(["sweep", path, "--out", Path(tmp) / "out", "--executor", "serial"])
    text = res.err + res.out
    event(f"{what.split(' ')[0]} -> exit {res.status}")
    assert "Traceback" not in text, f"{what}\n{text}"
    assert res.status in (0, 2, 4, 5), f"{what}: exit {res.status}\n{text}"
    if unknown:
        assert res.status == 2, f"{what}: accepted an unknown key (exit {res.status})\n{text}"
    if res.status == 2:
        assert text.startswith("windforce: error: invalid "), text
        assert len(res.err.strip().splitlines()) == 1, text


@FUZZ
@given(
    axes=st.dictionaries(
        st.text(alphabet="abc._/", max_size=4),
        st.one_of(st.lists(st.from_type(object), max_size=3), st.from_type(object)),
        max_size=3,
    )
)
def test_axes_from_random_python_values_are_a_grid_or_a_validation_error(axes):
    try:
        grid = product(**axes)
    except ValidationError:
        return
    for a in grid.axes:
        kinds = {
            type(v) if not isinstance(v, int | float) or isinstance(v, bool) else float
            for v in a.values
        }
        assert len(kinds) == 1 and len(set(a.values)) == len(a.values)
