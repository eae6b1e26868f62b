"""Each calibrated gate's error is the channel its calibration describes.

A gate with an ``over_rotation`` is that unitary first, then depolarizing, then
relaxation; the total average infidelity is still the calibrated ``error``.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.library import RXXGate, RZXGate
from qiskit.quantum_info import SuperOp, average_gate_fidelity
from qiskit_aer.noise import QuantumError, depolarizing_error, thermal_relaxation_error

from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.noise import gate_error


@pytest.mark.parametrize("device", ["superconducting_27q", "trapped_ion_11q"])
def test_gate_errors_are_depolarizing_then_relaxation_with_the_calibrated_infidelity(
    device: str,
) -> None:
    spec = DeviceCatalog.from_directories().spec(device)
    assert spec.calibration is not None
    qubits = spec.calibration.qubits
    # Every one-qubit gate, and the two-qubit gates among the first six qubits (the
    # SuperOp comparison is slow; the runnable test covers every gate under Aer).
    gates = [g for g in spec.calibration.gates if len(g.qubits) == 1 or max(g.qubits) < 6]
    for gate in gates:
        error = gate_error(gate, qubits)
        assert error is not None
        # Built independently, as NoiseModel.from_backend builds it.
        relaxation = None
        for q in gate.qubits:
            t1, t2 = qubits[q].t1, qubits[q].t2
            assert t1 is not None and t2 is not None
            single = thermal_relaxation_error(t1, min(t2, 2 * t1), gate.duration)
            relaxation = single if relaxation is None else relaxation.expand(single)
        assert relaxation is not None
        if gate.name == "reset":
            expected = relaxation
        else:
            assert gate.error is not None
            d = 2 ** len(gate.qubits)
            before = relaxation
            rotation = QuantumCircuit(len(gate.qubits))
            if gate.over_rotation:
                # The axis of the device's two-qubit gate: ZX for ECR, XX for MS.
                axis = RZXGate if gate.name == "ecr" else RXXGate
                rotation.append(axis(gate.over_rotation), [0, 1])
                before = QuantumError(rotation).compose(relaxation)
            f_relax = average_gate_fidelity(before)
            p = d * (gate.error - (1 - f_relax)) / (d * f_relax - 1)
            expected = depolarizing_error(p, len(gate.qubits)).compose(relaxation)
            if gate.over_rotation:
                expected = QuantumError(rotation).compose(expected)
            assert abs(1 - average_gate_fidelity(error) - gate.error) < 1e-9
        assert np.allclose(SuperOp(error).data, SuperOp(expected).data, atol=1e-12), gate
        if all((qubits[q].t2 or 0) <= (qubits[q].t1 or 0) for q in gate.qubits):
            # Sent as Paulis and resets only: no Kraus map for Aer to decompose.
            names = {item.operation.name for c in error.circuits for item in c.data}
            assert names <= {"id", "x", "y", "z", "reset", "rzx", "rxx"}, names
            assert len(error.circuits) <= 25
