"""Vendor-native transpilation: only native operations, normalised angles, same operator."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rustworkx as rx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator
from qiskit.transpiler import PassManagerConfig, generate_preset_pass_manager

from qiskit_vendor_provider import VendorBackend, VendorProvider
from qiskit_vendor_provider.transpilation import (
    NormalizeAngles,
    VendorTranslationPlugin,
    normal_r,
    wrap_angle,
)
from qiskit_vendor_provider.validation import validate_circuit

DEVICES = ["ideal_simulator", "superconducting_27q", "trapped_ion_11q"]
ONE_QUBIT = ["h", "x", "y", "z", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz", "p", "u"]
TWO_QUBIT = ["cx", "cz", "swap", "ecr", "rzz", "rxx", "cp", "iswap"]
ANGLES = st.floats(min_value=-4 * math.pi, max_value=4 * math.pi, allow_nan=False)
# Physical pairs coupled on every device (on the heavy-hex: 0-1, 1-2, 2-3).
PAIRS = [(0, 1), (1, 2), (2, 3)]
SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@st.composite
def circuits(draw: st.DrawFn, num_qubits: int = 4) -> QuantumCircuit:
    circuit = QuantumCircuit(num_qubits)
    for _ in range(draw(st.integers(1, 24))):
        if draw(st.booleans()):
            name = draw(st.sampled_from(ONE_QUBIT))
            qubit = draw(st.integers(0, num_qubits - 1))
            params = {"rx": 1, "ry": 1, "rz": 1, "p": 1, "u": 3}.get(name, 0)
            getattr(circuit, name)(*[draw(ANGLES) for _ in range(params)], qubit)
        else:
            name = draw(st.sampled_from(TWO_QUBIT))
            pair = draw(st.sampled_from(PAIRS))
            if draw(st.booleans()):
                pair = pair[::-1]
            params = 1 if name in ("rzz", "rxx", "cp") else 0
            getattr(circuit, name)(*[draw(ANGLES) for _ in range(params)], *pair)
    return circuit


def assert_native_form(circuit: QuantumCircuit, backend: VendorBackend) -> None:
    validate_circuit(circuit, backend.target, device=backend.name)
    last_on_qubit: dict[int, str] = {}
    for item in circuit.data:
        op = item.operation
        qubits = [circuit.find_bit(q).index for q in item.qubits]
        if op.name in ("rz", "rx", "ry", "rxx", "rzz", "ryy"):
            assert -math.pi < float(op.params[0]) <= math.pi + 1e-9, (op.name, op.params)
            assert abs(float(op.params[0])) > 1e-10
        if op.name == "r":
            theta, phi = (float(p) for p in op.params)
            assert 0 < theta <= math.pi + 1e-9 and -math.pi < phi <= math.pi + 1e-9, op.params
        if backend.name == "trapped_ion_11q" and len(qubits) == 1 and op.name in ("r", "rz"):
            previous = last_on_qubit.get(qubits[0])
            # The only one-qubit sequence left is one r followed by one rz.
            assert not previous or (previous, op.name) == ("r", "rz"), (previous, op.name)
        for q in qubits:
            last_on_qubit[q] = op.name if len(qubits) == 1 else ""


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(circuit=circuits())
def test_translation_stage_keeps_the_operator_and_emits_native_form(
    provider_session: VendorProvider, device: str, circuit: QuantumCircuit
) -> None:
    backend = provider_session.get_backend(device)
    stage = VendorTranslationPlugin().pass_manager(PassManagerConfig.from_backend(backend), 1)
    translated = stage.run(circuit)
    assert_native_form(translated, backend)
    assert np.allclose(Operator(translated).data, Operator(circuit).data, atol=1e-8)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("level", [0, 1, 2, 3])
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(circuit=circuits())
def test_preset_pass_manager_output_is_native_and_normalised(
    provider_session: VendorProvider, device: str, level: int, circuit: QuantumCircuit
) -> None:
    backend = provider_session.get_backend(device)
    circuit.measure_all()
    isa = generate_preset_pass_manager(
        backend=backend, optimization_level=level, seed_transpiler=7
    ).run(circuit)
    assert_native_form(isa, backend)


def test_angle_helpers_keep_the_unitary() -> None:
    from qiskit.circuit.library import RGate, RZGate

    for angle in np.linspace(-7, 7, 29):
        wrapped, turns = wrap_angle(angle)
        assert -math.pi < wrapped <= math.pi
        assert np.allclose(RZGate(angle).to_matrix(), (-1) ** turns * RZGate(wrapped).to_matrix())
        for phi in (-4.0, 0.3, 5.0):
            theta2, phi2, phase = normal_r(angle, phi)
            assert np.allclose(
                RGate(angle, phi).to_matrix(), np.exp(1j * phase) * RGate(theta2, phi2).to_matrix()
            )


def test_normalize_angles_removes_zero_rotations_and_keeps_phase() -> None:
    circuit = QuantumCircuit(2)
    circuit.rz(2 * math.pi, 0)
    circuit.rxx(-3 * math.pi, 0, 1)
    circuit.r(-0.5, 7.0, 1)
    from qiskit.transpiler import PassManager

    out = PassManager([NormalizeAngles()]).run(circuit)
    assert [i.operation.name for i in out.data] == ["rxx", "r"]
    assert np.allclose(Operator(out).data, Operator(circuit).data)


def test_ghz_at_level_3_lands_on_connected_good_qubits(provider_session: VendorProvider) -> None:
    backend = provider_session.get_backend("superconducting_27q")
    bad = 13
    assert backend.target["measure"][(bad,)].error > 10 * backend.target["measure"][(12,)].error
    ghz = QuantumCircuit(5)
    ghz.h(0)
    for q in range(4):
        ghz.cx(q, q + 1)
    ghz.measure_all()
    for seed in range(5):
        isa = generate_preset_pass_manager(
            backend=backend, optimization_level=3, seed_transpiler=seed
        ).run(ghz)
        used = {
            isa.find_bit(q).index
            for item in isa.data
            if item.operation.name != "barrier"
            for q in item.qubits
        }
        assert len(used) >= 5
        assert bad not in used, (seed, sorted(used))
        graph = backend.coupling_map.graph.to_undirected()
        assert rx.is_connected(graph.subgraph(sorted(used))), sorted(used)


def test_backend_names_the_vendor_stages(provider_session: VendorProvider) -> None:
    backend = provider_session.get_backend("trapped_ion_11q")
    assert backend.get_translation_stage_plugin() == "vendor"
    assert backend.get_scheduling_stage_plugin() == "vendor"
