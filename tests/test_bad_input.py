"""Every user mistake fails before any HTTP call, with a typed error that names the fix."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from qiskit_vendor_provider import (
    CircuitValidationError,
    VendorBackend,
    VendorNotFoundError,
    VendorProvider,
    VendorValidationError,
)
from tests.conftest import MockedApi


def bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2, 2, name="bell")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    return circuit


def native_circuit(*gates: tuple[str, tuple[int, ...]]) -> QuantumCircuit:
    circuit = QuantumCircuit(27, 1, name="native")
    for name, qubits in gates:
        getattr(circuit, name)(*qubits)
    circuit.measure(0, 0)
    return circuit


def unbound() -> QuantumCircuit:
    theta = Parameter("theta")
    circuit = QuantumCircuit(1, 1, name="sweep")
    circuit.rx(theta, 0)
    circuit.measure(0, 0)
    return circuit


def nan_angle() -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1, name="nan")
    circuit.rx(math.nan, 0)
    circuit.measure(0, 0)
    return circuit


def too_wide() -> QuantumCircuit:
    circuit = QuantumCircuit(33, 1, name="wide")
    circuit.measure(32, 0)
    return circuit


def control_flow() -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1, name="dynamic")
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(0)
    return circuit


Case = tuple[str, Callable[[], Any], dict[str, Any], type[Exception], list[str]]

CASES: list[Case] = [
    # device, circuits, options, error, fragments the message must contain
    (
        "superconducting_27q",
        bell,
        {},
        CircuitValidationError,
        [
            "circuit 0 ('bell')",
            "instruction 0 (h",
            "not a native operation",
            "generate_preset_pass_manager",
        ],
    ),
    (
        "superconducting_27q",
        lambda: native_circuit(("ecr", (0, 5))),
        {},
        CircuitValidationError,
        ["cannot apply 'ecr' to qubits (0, 5)", "transpile first"],
    ),
    (
        "superconducting_27q",
        lambda: native_circuit(("ecr", (1, 0))),
        {},
        CircuitValidationError,
        ["cannot apply 'ecr' to qubits (1, 0)"],
    ),
    (
        "ideal_simulator",
        unbound,
        {},
        CircuitValidationError,
        ["unbound parameters: theta", "assign_parameters"],
    ),
    ("ideal_simulator", nan_angle, {}, CircuitValidationError, ["not a finite number"]),
    (
        "ideal_simulator",
        too_wide,
        {},
        CircuitValidationError,
        ["has 33 qubits but device 'ideal_simulator' has 32"],
    ),
    ("ideal_simulator", control_flow, {}, CircuitValidationError, ["classical control flow"]),
    (
        "ideal_simulator",
        bell,
        {"shots": 0},
        VendorValidationError,
        ["shots=0 is out of range", "1 to 1000000"],
    ),
    (
        "superconducting_27q",
        native_circuit,
        {"shots": 100_001},
        VendorValidationError,
        ["shots=100001 is out of range", "1 to 100000"],
    ),
    ("ideal_simulator", bell, {"shots": 10.5}, VendorValidationError, ["shots=10.5"]),
    ("ideal_simulator", bell, {"shots": True}, VendorValidationError, ["shots=True"]),
    ("ideal_simulator", bell, {"shots": "100"}, VendorValidationError, ["shots='100'"]),
    (
        "ideal_simulator",
        bell,
        {"shot": 100},
        VendorValidationError,
        ["unknown run option(s) shot", "valid options: shots, memory"],
    ),
    (
        "ideal_simulator",
        bell,
        {"memory": "yes"},
        VendorValidationError,
        ["memory='yes' must be True or False"],
    ),
    ("ideal_simulator", bell, {"seed_simulator": -1}, VendorValidationError, ["seed_simulator=-1"]),
    (
        "ideal_simulator",
        bell,
        {"seed_simulator": 1.5},
        VendorValidationError,
        ["seed_simulator=1.5"],
    ),
    (
        "ideal_simulator",
        bell,
        {"job_tags": "calibration"},
        VendorValidationError,
        ["job_tags='calibration' must be a list"],
    ),
    (
        "ideal_simulator",
        bell,
        {"job_name": 5},
        VendorValidationError,
        ["job_name=5 must be a string"],
    ),
    (
        "ideal_simulator",
        lambda: [bell(), "not a circuit"],
        {},
        VendorValidationError,
        ["item 1 is a str"],
    ),
    ("ideal_simulator", lambda: [], {}, VendorValidationError, ["given no circuits"]),
    (
        "superconducting_27q",
        lambda: [native_circuit()] * 301,
        {},
        VendorValidationError,
        ["301 circuits exceed the 300 per job", "VendorSampler"],
    ),
    (
        "ideal_simulator",
        bell,
        {"job_tags": ["x" * 65]},
        VendorValidationError,
        ["invalid job (tags.0)", "at most 64 characters"],
    ),
]


@pytest.mark.parametrize(
    ("device", "make_input", "options", "error", "fragments"),
    CASES,
    ids=[f"{n}-{case[3].__name__}" for n, case in enumerate(CASES)],
)
def test_bad_run_input_fails_before_any_http_call(
    provider: VendorProvider,
    api: MockedApi,
    device: str,
    make_input: Callable[[], Any],
    options: dict[str, Any],
    error: type[Exception],
    fragments: list[str],
) -> None:
    backend: VendorBackend = provider.get_backend(device)
    before = len(api.calls())
    with pytest.raises(error) as info:
        backend.run(make_input(), **options)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert len(api.calls()) == before, "no HTTP request may be made for a bad input"


def test_set_options_rejects_out_of_range_shots(provider: VendorProvider) -> None:
    backend = provider.get_backend("superconducting_27q")
    with pytest.raises(ValueError, match="<=100000"):
        backend.set_options(shots=100_001)
    with pytest.raises(AttributeError):
        backend.set_options(shotz=10)


def test_unknown_backend_lists_names_and_close_matches(provider: VendorProvider) -> None:
    with pytest.raises(VendorNotFoundError) as info:
        provider.get_backend("ideal_simulater")
    message = str(info.value)
    assert "Did you mean ideal_simulator?" in message
    assert "Available: ideal_simulator, superconducting_27q" in message


def test_bad_regex_filter_is_a_validation_error(provider: VendorProvider) -> None:
    with pytest.raises(VendorValidationError, match="not a valid regex"):
        provider.backends(name="([")


def test_job_over_the_payload_limit_is_refused_unsent(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(2, 2, name="long")
    for _ in range(4000):
        circuit.rx(0.123456789, 0)
    circuit.measure([0, 1], [0, 1])
    limits = backend.limits.model_copy(update={"max_payload_bytes": 10_000})
    backend._spec = backend.spec.model_copy(update={"limits": limits})
    before = len(api.calls())
    with pytest.raises(VendorValidationError, match=r"over the 10000-byte limit"):
        backend.run(circuit)
    assert len(api.calls()) == before
