"""Attacks on "nothing the user can get wrong reaches the server".

Every case is a mistake a user can make; each must raise a typed error that names the
problem and the fix, with zero HTTP requests (the ``api`` fixture counts them).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from qiskit import QuantumCircuit

from qiskit_vendor_provider import VendorProvider, VendorValidationError
from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.emulator.service import name_pattern_problem as server_rule
from qiskit_vendor_provider.name_filter import name_pattern_problem
from qiskit_vendor_provider.primitives import VendorSampler
from qiskit_vendor_provider.primitives.packing import make_program
from qiskit_vendor_provider.serialization import circuit_to_wire
from tests.conftest import MOCK_TOKEN, MOCK_URL, MockedApi
from tests.helpers import bell

IDEAL = "ideal_simulator"
ION = "trapped_ion_11q"
EAST = dt.timezone(dt.timedelta(hours=5))
WEST = dt.timezone(dt.timedelta(hours=-5))


def ion_circuit(operations: int) -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1)
    for _ in range(operations - 1):
        circuit.rz(0.1, 0)
    circuit.measure(0, 0)
    return circuit


Action = Callable[[VendorProvider], Any]


def run(device: str, circuits: Any, **options: Any) -> Action:
    return lambda p: p.get_backend(device).run(circuits, **options)


BAD_INPUT: list[Any] = [
    # run() inputs that are not circuits
    ("run(None)", run(IDEAL, None), ["not NoneType", "backend.run(circuit)"]),
    ("run(42)", run(IDEAL, 42), ["not int"]),
    ("run('bell')", run(IDEAL, "bell"), ["not str"]),
    ("run({})", run(IDEAL, {}), ["not dict"]),
    ("run([None])", run(IDEAL, [None]), ["item 0 is a NoneType"]),
    # shots that are not whole numbers
    ("shots='100'", run(IDEAL, bell(), shots="100"), ["not a whole number", "shots=1000"]),
    ("shots=100.0", run(IDEAL, bell(), shots=100.0), ["float, not a whole number"]),
    ("shots=None", run(IDEAL, bell(), shots=None), ["NoneType, not a whole number"]),
    ("shots=True", run(IDEAL, bell(), shots=True), ["bool, not a whole number"]),
    ("shots=0", run(IDEAL, bell(), shots=0), ["out of range"]),
    # control characters in names and tags
    ("name \\n", run(IDEAL, bell(), job_name="a\nb"), ["line break", "printable"]),
    ("name \\r", run(IDEAL, bell(), job_name="a\rb"), ["line break"]),
    ("name NUL", run(IDEAL, bell(), job_name="a\x00b"), ["character 2"]),
    ("name ESC", run(IDEAL, bell(), job_name="\x1b[2J"), ["character 1"]),
    ("name U+2028", run(IDEAL, bell(), job_name="a\u2028b"), ["line break"]),
    ("name too long", run(IDEAL, bell(), job_name="x" * 257), ["257 characters"]),
    ("tag \\n", run(IDEAL, bell(), job_tags=["ok", "x\ny"]), ["job_tags item", "line break"]),
    ("tag tab", run(IDEAL, bell(), job_tags=["a\tb"]), ["control character"]),
    ("tags dict", run(IDEAL, bell(), job_tags={"a": 1}), ["list of non-empty strings"]),
    # a circuit over the device's operation limit
    (
        "20,001 operations on trapped_ion_11q",
        run(ION, ion_circuit(20_001)),
        ["20001 operations", "allows 20000"],
    ),
    # name filters the server would refuse at the door (a slow one is stopped by its
    # matching budget on the server: see test_a_catastrophic_name_filter_is_stopped_...)
    ("jobs invalid", lambda p: p.jobs(job_name="["), ["not a valid regular expression"]),
    ("jobs bad group", lambda p: p.jobs(job_name="(?P<"), ["not a valid regular expression"]),
    ("jobs too long", lambda p: p.jobs(job_name="x" * 257), ["the most is 256"]),
    (
        "backend.jobs '(x'",
        lambda p: p.get_backend(IDEAL).jobs(job_name="(x"),
        ["not a valid regular expression"],
    ),
    # dates that cannot be converted to UTC
    (
        "start datetime(1, 1, 1) east",
        lambda p: p.jobs(start_datetime=dt.datetime(1, 1, 1, tzinfo=EAST)),
        ["out of range", "between the years 2 and 9998"],
    ),
    (
        "end datetime.max west",
        lambda p: p.jobs(end_datetime=dt.datetime.max.replace(tzinfo=WEST)),
        ["end_datetime", "out of range"],
    ),
    (
        "reservations datetime(1, 1, 1)",
        lambda p: p.get_backend(ION).reservations(dt.datetime(1, 1, 1, tzinfo=EAST)),
        ["start_datetime", "out of range"],
    ),
    (
        "properties(datetime=min)",
        lambda p: p.get_backend(ION).properties(datetime=dt.datetime(1, 1, 1, tzinfo=EAST)),
        ["datetime=", "out of range"],
    ),
    ("start not a datetime", lambda p: p.jobs(start_datetime="2026-01-01"), ["must be a datetime"]),
    ("backend_name not a string", lambda p: p.jobs(backend_name=5), ["backend_name=5"]),
]


@pytest.mark.parametrize(
    ("action", "fragments"),
    [pytest.param(action, fragments, id=name) for name, action, fragments in BAD_INPUT],
)
def test_bad_input_never_reaches_the_wire(
    provider: VendorProvider, api: MockedApi, action: Action, fragments: list[str]
) -> None:
    for device in (IDEAL, ION):
        provider.get_backend(device)  # fetched first: only the mistake is under test
    before = len(api.calls())
    with pytest.raises(VendorValidationError) as failure:
        action(provider)
    for fragment in fragments:
        assert fragment in str(failure.value), (fragment, str(failure.value))
    assert len(api.calls()) == before, "no HTTP request may be made for bad input"


@pytest.mark.parametrize(
    "pattern",
    ["(a+)+", "(a|b)*", "[", "(?P<", r"(a)\1", "^sweep-0[0-4]\\d", "x" * 257, "plain"],
)
def test_client_and_server_apply_one_name_filter_rule(pattern: str) -> None:
    assert server_rule is name_pattern_problem
    assert server_rule(pattern) == name_pattern_problem(pattern)


def test_a_catastrophic_name_filter_is_stopped_by_its_matching_budget(api: MockedApi) -> None:
    provider = VendorProvider(url=MOCK_URL, token=MOCK_TOKEN, poll_interval=(0.005, 0.05))
    backend = provider.get_backend(IDEAL)
    backend.run(bell(), shots=1, job_name="a" * 40 + "!").result(timeout=60)
    # The error exists only where a match ran out of its time budget (the regex
    # package's timeout): the budget, not exponential time, ended the listing.
    with pytest.raises(VendorValidationError, match=r"took more than 0\.5 s to match"):
        provider.jobs(job_name="^(a|aa)+$", limit=100)
    assert provider.jobs(job_name="^a+!$", limit=100)  # a plain pattern still lists it


def test_a_pattern_the_rule_allows_is_sent(provider: VendorProvider, api: MockedApi) -> None:
    provider.jobs(job_name=r"^sweep-0[0-4]\d")
    assert len(api.calls("GET", "/v1/jobs")) == 1


def test_max_operations_counts_what_the_server_counts(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend(ION)
    job = backend.run(ion_circuit(20_000), shots=10)  # exactly the limit: accepted
    assert len(api.calls("POST", "/v1/jobs")) == 1
    assert job.job_id()


# Non-ASCII text costs more bytes than characters: the limit is in bytes.
WIDE_TEXT = [
    pytest.param("ü" * 300, id="latin-1, 2 bytes"),
    pytest.param("€" * 300, id="euro, 3 bytes"),
    pytest.param("🎲" * 300, id="emoji, 4 bytes"),
    pytest.param("a\u0000b" * 100, id="NUL, escaped"),
]


def metadata_circuit(index: int, text: str) -> QuantumCircuit:
    circuit = QuantumCircuit(1, name=f"c{index}")
    circuit.x(0)
    circuit.measure_all()
    circuit.metadata = {"note": text, "index": index}
    return circuit


@pytest.mark.parametrize("text", WIDE_TEXT)
def test_program_sizes_are_bytes_of_what_is_sent(text: str) -> None:
    circuit = metadata_circuit(0, text)
    program = make_program(circuit)
    sent = wire.encode_program(circuit_to_wire(circuit))
    assert program.size == len(sent)
    assert len(sent) > len(sent.decode()) or b"\\u0000" in sent  # bytes, not characters


@pytest.mark.parametrize("text", WIDE_TEXT)
def test_sampler_jobs_planned_with_non_ascii_metadata_fit_the_byte_limit(
    provider: VendorProvider, api: MockedApi, text: str
) -> None:
    backend = provider.get_backend(IDEAL)
    circuits = [metadata_circuit(i, text) for i in range(6)]
    sent = [wire.encode_program(circuit_to_wire(c)) for c in circuits]
    limit = 2 * max(len(w) for w in sent) + 600
    if not text.startswith("a"):
        # Counted in characters, three programs would seem to fit one job; in bytes two do.
        chars = max(len(w.decode()) for w in sent)
        assert 3 * chars + 200 < limit < 3 * max(len(w) for w in sent)
    backend._spec = backend.spec.model_copy(
        update={"limits": backend.limits.model_copy(update={"max_payload_bytes": limit})}
    )
    result = VendorSampler(backend=backend).run(circuits, shots=3).result()
    posts = api.calls("POST", "/v1/jobs")
    bodies = [c.request.body for c in posts]
    sizes = [len(b if isinstance(b, bytes) else b.encode()) for b in bodies]  # type: ignore[union-attr]
    assert all(size <= limit for size in sizes), (sizes, limit)
    assert sum(len(json.loads(b)["programs"]) for b in bodies) == 6  # type: ignore[arg-type]
    assert [pub.data.meas.get_counts() for pub in result] == [{"1": 3}] * 6


def test_a_circuit_over_the_byte_limit_fails_in_run_not_in_result(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend(IDEAL)
    circuit = metadata_circuit(0, "€" * 1000)
    sent = wire.encode_program(circuit_to_wire(circuit))
    # Fits when counted in characters, not in bytes.
    limit = len(sent.decode()) + 400
    assert len(sent) > limit
    backend._spec = backend.spec.model_copy(
        update={"limits": backend.limits.model_copy(update={"max_payload_bytes": limit})}
    )
    before = len(api.calls())
    with pytest.raises(VendorValidationError, match="payload limit"):
        VendorSampler(backend=backend).run([circuit])
    assert len(api.calls()) == before
