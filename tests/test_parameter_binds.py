"""Server-side binding through backend.run(parameter_binds=...): one circuit, a table of values."""

from __future__ import annotations

import json
import math

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from qiskit_vendor_provider import VendorProvider
from tests.conftest import MockedApi
from tests.helpers import sent_operation_names

SHOTS = 2000


def rx_circuit() -> tuple[QuantumCircuit, Parameter]:
    theta = Parameter("theta")
    circuit = QuantumCircuit(1, 1, name="rx")
    circuit.rx(theta, 0)
    circuit.measure(0, 0)
    return circuit, theta


def test_sweep_gives_one_experiment_per_row_in_order(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit, theta = rx_circuit()
    fixed = QuantumCircuit(1, 1, name="fixed")
    fixed.x(0)
    fixed.measure(0, 0)
    values = np.linspace(0, math.pi, 7)
    result = backend.run(
        [circuit, fixed], parameter_binds=[{theta: values}, {}], shots=SHOTS, seed_simulator=3
    ).result()
    assert len(result.results) == len(values) + 1
    for row, value in enumerate(values):
        p_one = math.sin(value / 2) ** 2
        observed = result.get_counts(row).get("1", 0) / SHOTS
        assert abs(observed - p_one) <= 5 * math.sqrt(max(p_one * (1 - p_one), 1 / SHOTS) / SHOTS)
    assert result.get_counts(len(values)) == {"1": SHOTS}
    submitted = json.loads(api.calls("POST", "/v1/jobs")[-1].request.body)
    assert submitted["programs"][0]["parameters"] == ["theta"]
    assert len(submitted["programs"][0]["parameter_values"]) == len(values)
    assert len(sent_operation_names(submitted["programs"][0])) == 2  # the circuit, once


def test_request_size_does_not_grow_with_the_circuit_per_row(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit, theta = rx_circuit()
    for _ in range(50):
        circuit.rz(theta, 0)
    backend.run(circuit, parameter_binds=[{theta: [0.1]}], shots=10).result()
    backend.run(circuit, parameter_binds=[{theta: np.linspace(0, 1, 1000)}], shots=10).result()
    one, thousand = (len(call.request.body) for call in api.calls("POST", "/v1/jobs")[-2:])
    # 999 more rows of one value each: bytes grow by about 20 per row, not by the circuit.
    assert thousand - one < 1000 * 30


def test_rows_of_a_table_no_instruction_uses_each_give_an_experiment(
    provider: VendorProvider,
) -> None:
    phi = Parameter("phi")
    circuit = QuantumCircuit(1, 1, name="phase-only", global_phase=phi)
    circuit.x(0)
    circuit.measure(0, 0)
    result = (
        provider.get_backend("ideal_simulator")
        .run(circuit, parameter_binds=[{phi: [0.1, 0.2, 0.3]}], shots=10)
        .result()
    )
    assert [result.get_counts(i) for i in range(3)] == [{"1": 10}] * 3


def swept_delay() -> tuple[QuantumCircuit, Parameter]:
    duration = Parameter("t")
    circuit = QuantumCircuit(1, 1)
    circuit.x(0)
    circuit.delay(duration, 0, unit="us")
    circuit.measure(0, 0)
    return circuit, duration


def test_a_swept_delay_is_refused_before_any_http_call(
    provider: VendorProvider, api: MockedApi
) -> None:
    import pytest

    from qiskit_vendor_provider.errors import VendorValidationError

    circuit, duration = swept_delay()
    backend = provider.get_backend("superconducting_27q")
    before = len(api.calls())
    with pytest.raises(VendorValidationError, match="carries a delay's duration as a number"):
        backend.run(circuit, shots=10, parameter_binds=[{duration: [1.0, 2.0]}])
    assert len(api.calls()) == before


def test_the_sampler_binds_a_swept_delay_in_process_and_the_qubit_decays(
    provider: VendorProvider,
) -> None:
    from qiskit import transpile

    from qiskit_vendor_provider.primitives import VendorSampler

    circuit, _ = swept_delay()
    backend = provider.get_backend("superconducting_27q")
    isa = transpile(circuit, backend, initial_layout=[0], optimization_level=0)
    shots = 2000
    result = VendorSampler(backend=backend, options={"seed_simulator": 5}).run(
        [(isa, [[0.0], [150.0]])], shots=shots
    )
    counts = result.result()[0].data.c
    excited = [counts.get_counts(row).get("1", 0) / shots for row in range(2)]
    t1 = backend.target.qubit_properties[0].t1
    expected = math.exp(-150e-6 / t1)  # times the ~0.99 that readout and gates keep
    assert excited[0] > 0.95
    assert abs(excited[1] - expected) < 0.05 + 5 * math.sqrt(0.25 / shots)
