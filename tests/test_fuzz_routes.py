"""Every server error is a 4xx or a crash bug: the emulator's routes fuzzed in process.

Whatever a client can send (a job in the columns, arrays or objects layout with values
swapped for huge integers, NaN and infinity, deep nesting, odd Unicode or the wrong type
in any field; the query parameters and ids of the GET routes; session bodies) gets a
4xx ``application/problem+json`` answer, never a 5xx. The requests go through the app's
in-process dispatch, so thousands of them take seconds. A fixed seed and a modest example
count keep the normal run short; ``QVP_FUZZ_EXAMPLES=5000`` in the environment runs more.

An exception that escapes the app counts as a 5xx: Starlette answers 500 and then raises
it again, which is what the in-process dispatch lets through.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, create_app
from qiskit_vendor_provider.emulator.transport import dispatch
from tests.fuzzing import assert_not_5xx, fuzz_settings, positions

URL = "http://emulator.test"
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Raw:
    """JSON text put into a body as it is: numbers Python's ``json`` cannot write."""

    text: str


def to_json(value: Any) -> str:
    """JSON of ``value`` with :class:`Raw` pieces spliced in (and NaN, Infinity allowed)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(item) for item in value) + "]"
    return json.dumps(value, allow_nan=True)


# ---------------------------------------------------------------- the odd values

OVER_FLOAT = [
    Raw("1" + "0" * 309),  # an integer angle past the largest float
    Raw("-" + "9" * 400),
    Raw("1" + "0" * 5000),  # past Python's int-to-str limit (4300 digits)
    Raw("1e309"),  # a float literal that overflows
    Raw("-1e400"),
]
HUGE = [*OVER_FLOAT, 2**63, 2**64, -(2**63) - 1]
NON_FINITE = [Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), math.nan, math.inf]
UNICODE = [
    "\ud800",  # a lone surrogate (json.dumps writes it escaped)
    "\u202eevil",  # right-to-left override
    "a\u0000b",
    "\u2028",
    "é" * 300,
    "😀" * 70,
    "ideal_simulator\u200b",
    "",
]
WRONG_TYPES: list[Any] = [None, True, False, 0, -1, 0.5, "x", "10", [], {}, [[]], {"a": 1}]


def deep(depth: int, kind: str) -> Raw:
    """An array or object nested ``depth`` deep."""
    if kind == "list":
        return Raw("[" * depth + "]" * depth)
    return Raw('{"a":' * depth + "1" + "}" * depth)


DEEP = [deep(50, "list"), deep(5000, "list"), deep(3000, "dict")]
# Copied when drawn: a body is changed in place, and must not change the lists above.
odd_values = st.sampled_from(HUGE + NON_FINITE + UNICODE + WRONG_TYPES + DEEP).map(copy.deepcopy)


# ---------------------------------------------------------------- valid jobs, three layouts

GATES = {"rz": (1, 1), "sx": (1, 0), "x": (1, 0), "cx": (2, 0), "measure": (1, 0)}


@st.composite
def operations(draw: st.DrawFn, num_qubits: int, num_clbits: int) -> list[list[Any]]:
    """Plain operations on ``ideal_simulator`` as ``[name, qubits, clbits, params]``."""
    found = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        name = draw(st.sampled_from(sorted(GATES)))
        arity, angles = GATES[name]
        if arity > num_qubits or (name == "measure" and num_clbits == 0):
            continue
        qubits = draw(
            st.lists(st.integers(0, num_qubits - 1), unique=True, min_size=arity, max_size=arity)
        )
        clbits = [draw(st.integers(0, num_clbits - 1))] if name == "measure" else []
        params = [draw(st.floats(-7, 7)) for _ in range(angles)]
        found.append([name, qubits, clbits, params])
    return found


def as_objects(ops: list[list[Any]]) -> dict[str, Any]:
    return {
        "instructions": [
            {"name": name, "qubits": qubits, "clbits": clbits, "params": params}
            for name, qubits, clbits, params in ops
        ]
    }


def as_arrays(ops: list[list[Any]]) -> dict[str, Any]:
    return {"instructions": [list(op) for op in ops]}


def as_columns(ops: list[list[Any]]) -> dict[str, Any]:
    kinds: list[list[Any]] = []
    code, qubits, clbits, params = [], [], [], []
    for name, q, c, p in ops:
        kind = [name, len(q), len(c), len(p)]
        if kind not in kinds:
            kinds.append(kind)
        code.append(kinds.index(kind))
        qubits += q
        clbits += c
        params += p
    return {
        "ops": {"kinds": kinds, "code": code, "qubits": qubits, "clbits": clbits, "params": params}
    }


LAYOUTS = {"objects": as_objects, "arrays": as_arrays, "columns": as_columns}


@st.composite
def programs(draw: st.DrawFn) -> dict[str, Any]:
    num_qubits = draw(st.integers(min_value=1, max_value=4))
    num_clbits = draw(st.integers(min_value=0, max_value=3))
    layout = LAYOUTS[draw(st.sampled_from(sorted(LAYOUTS)))]
    return {
        "num_qubits": num_qubits,
        "num_clbits": num_clbits,
        "header": {"name": "fuzz", "memory_slots": num_clbits, "creg_sizes": [["c", num_clbits]]},
        **layout(draw(operations(num_qubits, num_clbits))),
    }


jobs = st.fixed_dictionaries(
    {
        "device": st.just("ideal_simulator"),
        "programs": st.lists(programs(), min_size=1, max_size=2),
        "shots": st.integers(min_value=1, max_value=1000),
    },
    optional={
        "memory": st.booleans(),
        "seed_simulator": st.integers(min_value=0, max_value=2**31),
        "name": st.text(max_size=8),
        "tags": st.lists(st.text(min_size=1, max_size=4), max_size=2),
        "max_execution_time": st.integers(min_value=1, max_value=60),
    },
)


@st.composite
def mutated(draw: st.DrawFn, bodies: st.SearchStrategy[Any]) -> Any:
    """A body with one to three values, at any depth, swapped for odd ones (or removed)."""
    body = draw(bodies)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        places = sorted(positions(body), key=len, reverse=True)
        if not places:
            break
        where = draw(st.sampled_from(places))
        parent = body
        for key in where[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.integers(0, 9)) == 0:
            del parent[where[-1]]
            continue
        parent[where[-1]] = draw(odd_values)
        if isinstance(parent, dict) and draw(st.integers(0, 9)) == 0:
            parent[draw(st.sampled_from(["extra", "\ud800", "params", "ops"]))] = draw(odd_values)
    return body


FUZZ = fuzz_settings(250)


@pytest.fixture(scope="module")
def paused() -> Emulator:
    """An emulator that runs nothing: what it stores stays queued."""
    return Emulator(EmulatorConfig(database=":memory:", workers=0))


@pytest.fixture(scope="module")
def app(paused: Emulator) -> Any:
    return create_app(paused)


def call(app: Any, method: str, path: str, body: bytes = b"", headers: Any = None) -> int:
    """Send one request; assert a 2xx, or a 4xx problem+json; return the status."""
    try:
        status, answer_headers, content = dispatch(
            app, method, URL + path, headers or {}, body, timeout=120
        )
    except Exception as exc:  # escaped the app: Starlette has answered 500
        pytest.fail(f"{method} {path}: 500, the app raised {type(exc).__name__}: {exc}")
    assert_not_5xx(status, answer_headers, content)
    return status


def forget_jobs(emulator: Emulator) -> None:
    emulator.store._conn.execute("DELETE FROM jobs")  # type: ignore[attr-defined]


@FUZZ
@given(body=jobs | mutated(jobs))
def test_fuzzed_jobs_in_every_layout_never_get_a_5xx(paused: Emulator, app: Any, body: Any) -> None:
    call(app, "POST", "/v1/jobs", to_json(body).encode("utf-8", "surrogatepass"), JSON)
    forget_jobs(paused)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("value", OVER_FLOAT + NON_FINITE, ids=lambda v: to_json(v)[:12])
def test_every_huge_or_non_finite_angle_is_a_422(app: Any, layout: str, value: Any) -> None:
    program = {
        "num_qubits": 1,
        "num_clbits": 0,
        "header": {"name": "p"},
        **LAYOUTS[layout]([["rz", [0], [], [value]]]),
    }
    body = to_json({"device": "ideal_simulator", "shots": 10, "programs": [program]})
    assert call(app, "POST", "/v1/jobs", body.encode(), JSON) == 422


@pytest.mark.parametrize("text", [d.text for d in DEEP] + ["[" * 100_000], ids=str.__len__)
def test_deeply_nested_bodies_are_a_4xx(app: Any, text: str) -> None:
    assert 400 <= call(app, "POST", "/v1/jobs", text.encode(), JSON) < 500
    assert 400 <= call(app, "POST", "/v1/sessions", text.encode(), JSON) < 500


sessions = st.fixed_dictionaries(
    {"device": st.just("ideal_simulator")},
    optional={
        "mode": st.sampled_from(["session", "batch"]),
        "max_time": st.integers(1, 100),
        "max_idle": st.integers(1, 100),
    },
)


@FUZZ
@given(body=sessions | mutated(sessions))
def test_fuzzed_session_bodies_never_get_a_5xx(app: Any, body: Any) -> None:
    call(app, "POST", "/v1/sessions", to_json(body).encode("utf-8", "surrogatepass"), JSON)


def text_values() -> st.SearchStrategy[str]:
    return (
        st.text(max_size=12)
        | st.sampled_from([to_json(v) for v in HUGE + NON_FINITE] + UNICODE[1:])
        | st.integers(min_value=-(2**70), max_value=2**70).map(str)
        | st.sampled_from(["2024-01-01T00:00:00Z", "2024-01-01T00:00:00", "9999-99-99", "now"])
    )


JOB_QUERY = [
    "device",
    "status",
    "name",
    "tags",
    "tags_operator",
    "created_after",
    "created_before",
    "offset",
    "limit",
    "order",
    "session_id",
]
ROUTE_QUERIES = {
    "/v1/jobs": JOB_QUERY,
    "/v1/sessions": ["limit"],
    "/v1/devices/ideal_simulator/calibration": ["at"],
    "/v1/devices/superconducting_27q/calibration": ["at"],
    "/v1/devices/superconducting_27q/reservations": ["start", "end"],
    "/v1/jobs/" + "0" * 32: ["wait"],
    "/v1/jobs/" + "0" * 32 + "/result": ["wait"],
}


@FUZZ
@given(
    route=st.sampled_from(sorted(ROUTE_QUERIES)),
    query=st.lists(
        st.tuples(
            st.sampled_from(sorted({k for v in ROUTE_QUERIES.values() for k in v})), text_values()
        ),
        max_size=4,
    ),
)
def test_fuzzed_query_parameters_never_get_a_5xx(
    app: Any, route: str, query: list[tuple[str, str]]
) -> None:
    encoded = urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in query])
    call(app, "GET", f"{route}?{encoded}")


@FUZZ
@given(name=text_values())
def test_fuzzed_ids_and_names_in_paths_never_get_a_5xx(app: Any, name: str) -> None:
    part = quote(name.encode("utf-8", "surrogatepass"), safe="")
    for method, path in [
        ("GET", f"/v1/devices/{part}"),
        ("GET", f"/v1/devices/{part}/status"),
        ("GET", f"/v1/devices/{part}/calibration"),
        ("GET", f"/v1/devices/{part}/reservations"),
        ("GET", f"/v1/jobs/{part}"),
        ("GET", f"/v1/jobs/{part}/result"),
        ("POST", f"/v1/jobs/{part}/cancel"),
        ("GET", f"/v1/sessions/{part}"),
        ("POST", f"/v1/sessions/{part}/close"),
        ("POST", f"/v1/sessions/{part}/cancel"),
    ]:
        call(app, method, path)


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "text/plain"},
        {"content-type": "application/json", "idempotency-key": "k" * 129},
        {"content-type": "application/json", "idempotency-key": " "},
        {"content-type": "application/json", "content-length": "12abc"},
    ],
)
def test_odd_headers_are_a_4xx(app: Any, headers: dict[str, str]) -> None:
    body = b'{"device":"ideal_simulator","shots":1,"programs":[]}'
    assert 400 <= call(app, "POST", "/v1/jobs", body, headers) < 500
