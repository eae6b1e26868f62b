"""Circuit ⇄ wire program round trips, and wire result → Qiskit Result."""

from __future__ import annotations

import math

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Clbit, Parameter
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.quantum_info import Operator

from qiskit_vendor_provider.api import models
from qiskit_vendor_provider.api.models import CONTROL_FLOW_NAMES
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.serialization import (
    WireFormatError,
    circuit_to_wire,
    to_qiskit_result,
    wire_to_circuit,
)

CATALOG = DeviceCatalog.from_directories()
IDEAL = CATALOG.target("ideal_simulator")


def test_round_trip_keeps_the_operator() -> None:
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.rzz(0.3, 1, 2)
    circuit.u(0.1, 0.2, 0.3, 2)
    circuit.r(0.5, -0.25, 1)
    circuit.barrier()
    circuit.ccx(2, 0, 1)
    back = wire_to_circuit(circuit_to_wire(circuit), IDEAL)
    assert Operator(back).equiv(Operator(circuit))


def test_round_trip_keeps_measure_reset_delay_and_clbit_indices() -> None:
    circuit = QuantumCircuit(2, 3)
    circuit.reset(1)
    circuit.delay(160, 0)
    circuit.delay(1.5, 1, unit="us")
    circuit.measure(0, 2)
    circuit.measure(1, 0)
    back = wire_to_circuit(circuit_to_wire(circuit), IDEAL)
    ops = [(i.operation.name, [back.find_bit(c).index for c in i.clbits]) for i in back.data]
    assert ops == [("reset", []), ("delay", []), ("delay", []), ("measure", [2]), ("measure", [0])]
    assert back.data[1].operation.unit == "dt" and back.data[1].operation.duration == 160
    assert back.data[2].operation.unit == "us" and back.data[2].operation.duration == 1.5


def test_affine_parameters_go_on_the_wire_as_expressions() -> None:
    theta, phi = Parameter("theta"), Parameter("phi")
    circuit = QuantumCircuit(1)
    circuit.rx(2 * theta - phi + 0.5, 0)
    program = circuit_to_wire(circuit, parameter_values=[[0.1, 0.2]])
    assert program.ops is not None
    angle = program.ops.params[0]
    assert isinstance(angle, models.ParameterExpression)
    assert angle.terms == {"theta": 2.0, "phi": -1.0}
    assert math.isclose(angle.constant, 0.5)
    back = wire_to_circuit(program, IDEAL)
    values = {"theta": 0.3, "phi": -0.7}
    bound_back = back.assign_parameters({p: values[p.name] for p in back.parameters})
    bound = circuit.assign_parameters({theta: 0.3, phi: -0.7})
    assert Operator(bound_back).equiv(Operator(bound))


def test_non_affine_angles_are_refused() -> None:
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.rx(theta * theta, 0)
    with pytest.raises(WireFormatError, match="not affine"):
        circuit_to_wire(circuit)


def test_wire_to_circuit_rejects_what_the_device_lacks() -> None:
    sparse = CATALOG.target("superconducting_27q")
    program = models.WireProgram(
        num_qubits=2,
        num_clbits=0,
        instructions=[models.WireInstruction(name="h", qubits=[0])],
        header=models.ProgramHeader(name="p"),
    )
    with pytest.raises(WireFormatError, match="'h' is not a native operation"):
        wire_to_circuit(program, sparse)
    program.instructions = [models.WireInstruction(name="rz", qubits=[0])]
    with pytest.raises(WireFormatError, match="takes 1 angles, got 0"):
        wire_to_circuit(program, sparse)
    program.instructions = [models.WireInstruction(name="x", qubits=[0, 1])]
    with pytest.raises(WireFormatError, match="acts on 1 qubits"):
        wire_to_circuit(program, sparse)


def test_every_standard_gate_the_ideal_device_lists_round_trips() -> None:
    mapping = get_standard_gate_name_mapping()
    for name in IDEAL.operation_names:
        if name in ("measure", "reset", "delay") or name in CONTROL_FLOW_NAMES:
            continue  # control flow: tests/test_dynamic_wire.py
        gate = mapping[name]
        circuit = QuantumCircuit(gate.num_qubits)
        params = [0.1 * (k + 1) for k in range(len(gate.params))]
        bound = gate.to_mutable() if params else gate
        if params:
            bound.params = params
        circuit.append(bound, range(gate.num_qubits))
        back = wire_to_circuit(circuit_to_wire(circuit), IDEAL)
        assert Operator(back).equiv(Operator(circuit)), name


def test_result_keeps_register_split_and_failed_programs() -> None:
    q = QuantumRegister(2)
    a, b = ClassicalRegister(1, "a"), ClassicalRegister(2, "b")
    header = circuit_to_wire(QuantumCircuit(q, a, b, name="c")).header
    job = models.JobResult(
        job_id="j",
        device="d",
        status="DONE",
        success=False,
        results=[
            models.ProgramResult(
                header=models.ResultHeader.model_validate(header.model_dump()),
                shots=10,
                success=True,
                data=[models.BindingResult(counts={"0x5": 6, "0x0": 4}, memory=None)],
            ),
            models.ProgramResult(
                header=models.ResultHeader(name="bad"), shots=10, success=False, status="Aer failed"
            ),
        ],
    )
    result = to_qiskit_result(job, backend_name="d", backend_version="1")
    # 0x5 = clbits 0 and 2 set: a[0] = 1, b[1] = 1, b[0] = 0 → "b a" = "10 1"
    assert result.get_counts(0) == {"10 1": 6, "00 0": 4}
    assert result.results[1].success is False
    assert result.results[1].status == "Aer failed"


def test_loose_clbits_give_unsplit_keys() -> None:
    circuit = QuantumCircuit([Clbit(), Clbit()], QuantumRegister(1))
    header = circuit_to_wire(circuit).header
    assert header.creg_sizes == [] and header.memory_slots == 2


def _as_instruction_list(program: models.WireProgram) -> models.WireProgram:
    """The same program in the object layout: read by the general path, gate by gate."""
    assert program.ops is not None
    ops = [models.Op(n, q, c, a) for n, q, c, a in program.ops.operations()]
    return program.model_copy(update={"ops": None, "instructions": ops})


def test_column_fast_path_reads_the_same_circuit_as_the_general_path() -> None:
    # The column reader checks each kind once and appends without per-operation models;
    # the object layout's reader checks and appends gate by gate. Both must give the
    # same circuit: operations, classes, angles (numbers and expressions), bits.
    mapping = get_standard_gate_name_mapping()
    theta, phi = Parameter("theta"), Parameter("phi")
    circuit = QuantumCircuit(4, 3)
    for k, name in enumerate(sorted(IDEAL.operation_names)):
        if name in ("measure", "reset", "delay") or name in CONTROL_FLOW_NAMES:
            continue
        gate = mapping[name]
        angles = [
            (2 * theta - phi + 0.5) if (k + j) % 3 == 0 else 0.37 * (k + j + 1)
            for j in range(len(gate.params))
        ]
        qubits = [(k + j) % 4 for j in range(gate.num_qubits)]
        circuit.append(type(gate)(*angles) if angles else gate, qubits)
    circuit.barrier([0, 2])
    circuit.delay(160, 1)
    circuit.reset(3)
    circuit.measure([0, 1, 3], [2, 0, 1])
    program = circuit_to_wire(circuit, parameter_values=[[0.1, 0.2]])
    fast = wire_to_circuit(program, IDEAL)
    general = wire_to_circuit(_as_instruction_list(program), IDEAL)
    # Each read makes its own Parameter objects (equal by name and uuid only): compare
    # the expressions as text, and the circuits bound to the same values by name.
    values = {"theta": 0.1, "phi": 0.2}
    assert [p.name for p in fast.parameters] == [p.name for p in general.parameters]
    assert fast.assign_parameters({p: values[p.name] for p in fast.parameters}) == (
        general.assign_parameters({p: values[p.name] for p in general.parameters})
    )
    for mine, theirs, original in zip(fast.data, general.data, circuit.data, strict=True):
        assert type(mine.operation) is type(theirs.operation) is type(original.operation)
        assert [str(p) for p in mine.operation.params] == [str(p) for p in theirs.operation.params]
        assert [type(p) for p in mine.operation.params] == [
            type(p) for p in theirs.operation.params
        ]
        assert mine.operation.label is theirs.operation.label is None
    assert [fast.find_bit(q).index for i in fast.data for q in i.qubits] == [
        circuit.find_bit(q).index for i in circuit.data for q in i.qubits
    ]


def test_column_reader_refuses_what_the_general_reader_refuses() -> None:
    circuit = QuantumCircuit(2)
    circuit.cx(0, 1)
    circuit.rz(0.3, 1)
    program = circuit_to_wire(circuit)
    assert program.ops is not None
    cases = {
        "repeats a qubit": lambda ops: ops.qubits.__setitem__(1, 0),
        "takes 1 angles, got 0": lambda ops: ops.params.clear(),
    }
    for message, spoil in cases.items():
        broken = circuit_to_wire(circuit)
        assert broken.ops is not None
        spoil(broken.ops)
        if message.startswith("takes"):
            broken.ops.kinds[1] = ("rz", 1, 0, 0)
        for reading in (broken, _as_instruction_list(broken)):
            with pytest.raises(WireFormatError, match=message):
                wire_to_circuit(reading, IDEAL)
