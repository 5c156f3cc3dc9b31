"""Hypothesis strategies for sweep files: a valid sweep per input schema, and mutations of it.

An :class:`InputSchema` is a quantity with a valid base input, valid axes and
valid options. :func:`sweep_documents` draws a sweep file from it: either
unchanged, or with one mutation (an unknown key added somewhere, a value
replaced by a random one of any TOML type, a key dropped, an axis added). The
test runs ``windforce sweep`` on it and checks the promise of the command: it
ends with 0, 2, 4 or 5, never with a traceback, and a document with an unknown
key always ends with 2 (no key is ignored silently).

Engine owners add their inputs by adding a schema to :data:`SCHEMAS` (say, a
tb or jellium-pulse input whose valid sweep is cheap to compute).
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

POINTS = Path(__file__).with_name("points.py")


@dataclass(frozen=True)
class InputSchema:
    """A quantity and a valid sweep over it, from which the fuzzer derives bad ones."""

    quantity: str
    base: dict[str, Any]
    axes: dict[str, dict[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)
    title: str = "fuzz"

    def document(self) -> dict[str, Any]:
        """The valid sweep file as a dict (the base input inline)."""
        return {
            "title": self.title,
            "base": copy.deepcopy(self.base),
            "quantity": {"name": self.quantity, **copy.deepcopy(self.options)},
            "axes": copy.deepcopy(self.axes),
        }


#: A bent chain (Todorov et al. 2010, Sec. V) whose tb.run point takes a fraction of a second.
TB_BENT_CHAIN = {
    "model": {"spin_degeneracy": 2},
    "kinds": [{"name": "A", "orbitals": 1, "onsite": 0.0}],
    "sites": [{"positions": [[0.0, 0.0, 0.0], [2.5, 0.0, 0.0], [0.0, -2.5, 0.0]], "kind": "A"}],
    "hopping": [{"law": "linear", "t0": -1.0, "d0": 2.5, "slope": 1.0, "cutoff": 3.0}],
    "leads": [
        {"name": "L", "cell": [[0.0, -5.0, 0.0]], "translation": [0.0, -2.5, 0.0], "kinds": "A"},
        {"name": "R", "cell": [[5.0, 0.0, 0.0]], "translation": [2.5, 0.0, 0.0], "kinds": "A"},
    ],
    "reservoirs": [{"name": "L", "mu": -1.1, "kT": 0.0}, {"name": "R", "mu": -1.2, "kT": 0.0}],
    "functional": [{"type": "neutrality", "sites": [0], "electrons": 0.6}],
    "numerics": {"scf_tol": 1e-8, "quad_tol": 1e-8},
    "compute": {"coordinates": [[0, "x"], [0, "y"]], "forces": True},
}

SCHEMAS: dict[str, InputSchema] = {
    "recorded": InputSchema(
        quantity=f"{POINTS}:recorded",
        base={"a": 0.5, "model": {"b": 1.0}},
        axes={"a": {"values": [1.0, 2.0]}, "model.b": {"linspace": [0.0, 1.0, 3]}},
        options={"scale": 2.0},
    ),
    "tb.run": InputSchema(
        quantity="tb.run", base=TB_BENT_CHAIN, axes={"bias": {"values": [0.0, 0.1]}}
    ),
}


# ------------------------------------------------------------------------------------ TOML


def _key(name: str) -> str:
    return json.dumps(name)  # a quoted key is valid TOML for any name


def toml_value(value: Any) -> str:
    """``value`` as a TOML value (inline tables for mappings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def toml_document(doc: dict[str, Any]) -> str:
    """A sweep file: one ``key = value`` line per top-level entry."""
    return "".join(f"{_key(k)} = {toml_value(v)}\n" for k, v in doc.items())


# ------------------------------------------------------------------------------ strategies

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.", min_size=1, max_size=12)
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=3)),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a nested dict (tables and leaves)."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((*prefix, k))
            out += _paths(v, (*prefix, k))
    return out


def _tables(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every table (dict) path in a nested dict, the root included."""
    out = [prefix] if isinstance(node, dict) else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _tables(v, (*prefix, k))
    return out


def _get(doc: dict, path: tuple) -> Any:
    for k in path:
        doc = doc[k]
    return doc


def _known_keys(table: dict) -> set[str]:
    return set(table)


@st.composite
def sweep_documents(draw: Any, schema: InputSchema) -> tuple[dict[str, Any], str, bool]:
    """A sweep file from ``schema``: (document, what was done, whether it holds an unknown key).

    An unknown key is a key that no part of windforce or the quantity reads:
    added to the top level, to ``[quantity]`` (an option), to an axis table,
    or to the base input (where the quantity rejects it), or an axis the
    quantity does not read.
    """
    doc = schema.document()
    kind = draw(st.sampled_from(["valid", "unknown key", "new axis", "value", "drop"]))
    if kind == "valid":
        return doc, kind, False
    if kind in ("unknown key", "new axis"):
        if kind == "new axis":
            where, table = ("axes",), doc["axes"]
            spec = draw(st.fixed_dictionaries({"values": st.lists(scalars, min_size=1)}))
        else:
            where = draw(
                st.sampled_from(
                    [(), ("quantity",)]
                    + [("axes", a) for a in doc["axes"]]
                    + [("base", *t) for t in _tables(doc["base"])]
                )
            )
            table, spec = _get(doc, where), draw(values)
        readable = {a for a in schema.axes} | set(schema.base)
        name = draw(
            names.filter(
                lambda n: (
                    n not in _known_keys(table)
                    and n not in readable
                    and n not in ("name", "values", "linspace", "arange", "logspace")
                    and n.strip(".") == n
                )
            )
        )
        table[name] = spec
        return doc, f"{kind} {'.'.join((*where, name))}", True
    paths = [p for p in _paths(doc) if p != ("quantity", "name")]
    path = draw(st.sampled_from(paths))
    parent = _get(doc, path[:-1])
    if kind == "drop":
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(values)
    return doc, f"{kind} {'.'.join(map(str, path))}", False
