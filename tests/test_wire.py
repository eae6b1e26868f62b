"""The wire module: exact sizes, round trips, and strict reading of both compact forms."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.models import JobSubmission, Op, WireProgram
from qiskit_vendor_provider.emulator import Emulator
from qiskit_vendor_provider.serialization import circuit_to_wire

IDEAL = "ideal_simulator"


def random_circuit(seed: int) -> QuantumCircuit:
    """Gates, angles of every magnitude, barriers, delays, measurements and odd names."""
    rng = np.random.default_rng(seed)
    circuit = QuantumCircuit(4, 3, name=f'c-{seed}-ünï"code"')
    for _ in range(int(rng.integers(0, 40))):
        kind = int(rng.integers(0, 6))
        q = [int(x) for x in rng.permutation(4)[:2]]
        if kind == 0:
            circuit.rz(float(rng.normal() * 10.0 ** rng.integers(-300, 300)), q[0])
        elif kind == 1:
            circuit.cx(q[0], q[1])
        elif kind == 2:
            circuit.sx(q[0])
        elif kind == 3:
            circuit.barrier(q)
        elif kind == 4:
            circuit.delay(int(rng.integers(0, 1000)), q[0])
        else:
            circuit.measure(q[0], int(rng.integers(0, 3)))
    circuit.metadata = {"seed": seed, "text": "€" * seed}
    return circuit


@pytest.mark.parametrize("seed", range(12))
def test_sizes_are_the_bytes_written(seed: int) -> None:
    theta = Parameter("θ")
    sweep = QuantumCircuit(1, 1)
    sweep.rx(2 * theta + 0.25, 0)
    sweep.measure(0, 0)
    values = np.random.default_rng(seed).normal(size=(seed + 1, 1)) * 1e-9
    programs = [
        circuit_to_wire(random_circuit(seed)),
        circuit_to_wire(sweep, parameters=[theta], parameter_values=values),
    ]
    job = JobSubmission(
        device=IDEAL,
        shots=1 + seed,
        seed_simulator=seed or None,
        name="ü" * seed,
        tags=["t"] * (seed % 3),
        programs=programs,
    )
    body = wire.encode_submission(job)
    sizes = [wire.program_size(p) for p in programs]
    assert sizes == [len(wire.encode_program(p)) for p in programs]
    assert wire.submission_size(wire.envelope_size(job), sizes) == len(body)
    assert json.loads(body)["shots"] == 1 + seed  # plain JSON, readable by anyone
    assert wire.decode_submission(body) == job


def test_plain_circuits_travel_as_columns_and_control_flow_as_objects() -> None:
    plain = circuit_to_wire(random_circuit(3))
    assert plain.ops is not None
    assert plain.instructions == []
    dynamic = QuantumCircuit(1, 1)
    dynamic.measure(0, 0)
    with dynamic.if_test((dynamic.clbits[0], 1)):
        dynamic.x(0)
    program = circuit_to_wire(dynamic)
    assert program.ops is None
    assert [type(i).__name__ for i in program.instructions] == ["Op", "WireInstruction"]
    united = QuantumCircuit(1)
    united.delay(2.5, 0, unit="us")  # a unit: the instruction form
    assert circuit_to_wire(united).ops is None


def test_columns_are_a_third_of_the_object_form() -> None:
    circuit = QuantumCircuit(5, 5)
    for i in range(400):
        circuit.rz(0.1 + i * 1e-3, i % 5)
        circuit.cx(i % 5, (i + 1) % 5)
    circuit.measure(range(5), range(5))
    program = circuit_to_wire(circuit)
    assert program.ops is not None
    objects = [
        {"name": name, "qubits": q, **({"clbits": c} if c else {}), **({"params": p} if p else {})}
        for name, q, c, p in program.ops.operations()
    ]
    object_form = json.dumps({"instructions": objects}, separators=(",", ":"))
    assert wire.program_size(program) * 3 < len(object_form)


def _program(**ops: Any) -> dict[str, Any]:
    columns = {
        "kinds": [["rz", 1, 0, 1]],
        "code": [0],
        "qubits": [0],
        "clbits": [],
        "params": [0.5],
    }
    columns.update(ops)
    return {"num_qubits": 2, "num_clbits": 1, "header": {"name": "p"}, "ops": columns}


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"code": [True]}, "ops.code must hold integers only"),
        ({"code": [1]}, "ops.code uses kind 1; there are 1 kinds"),
        ({"qubits": [2]}, "ops uses qubit 2, but the program has 2 qubits"),
        ({"qubits": [-1]}, "non-negative"),
        ({"qubits": [0, 1]}, "take 1 qubits; ops.qubits has 2"),
        ({"params": ["1"]}, "an angle is a number or a parameter expression"),
        ({"params": [{"constant": 1}]}, "not a parameter expression"),
        ({"kinds": [["rz", 1, 0]]}, "must be [name, qubits, clbits, angles]"),
        ({"kinds": [["rz", 1, 2, 1]]}, "the program has 2 qubits and 1 clbits"),
        ({"clbits": [0]}, "take 0 clbits; ops.clbits has 1"),
        ({"extra": []}, "ops must be an object of kinds, code, qubits, clbits and params"),
    ],
)
def test_bad_columns_are_refused_with_the_field_named(
    change: dict[str, Any], fragment: str
) -> None:
    body = json.dumps(_program(**change))
    with pytest.raises(ValidationError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        WireProgram.model_validate_json(body, strict=True)


def test_infinite_angles_cannot_be_written_in_either_form() -> None:
    # JSON has no inf or nan; Python's json writes them anyway, and the reader refuses.
    with pytest.raises(ValidationError):
        WireProgram.model_validate_json(json.dumps(_program(params=[math.inf])), strict=True)
    rows = {"num_qubits": 1, "num_clbits": 0, "header": {"name": "p"}}
    rows["instructions"] = [["rz", [0], [], [math.nan]]]  # type: ignore[assignment]
    with pytest.raises(ValidationError):
        WireProgram.model_validate_json(json.dumps(rows), strict=True)


@pytest.mark.parametrize(
    ("instruction", "fragment"),
    [
        (["x", [True]], "qubits must hold non-negative integers, got True"),
        (["x"], "got 1 items"),
        (["x", [0], [], [], []], "got 5 items"),
        ([7, [0]], "the name must be a string"),
        (["x", "0"], "qubits must be an array"),
        (["rz", [0], [], ["pi"]], "an angle is a number"),
        ("x", "an instruction is an array"),
    ],
)
def test_bad_compact_instructions_are_refused(instruction: Any, fragment: str) -> None:
    program = {"num_qubits": 1, "num_clbits": 0, "header": {"name": "p"}}
    program["instructions"] = [instruction]
    with pytest.raises(ValidationError, match=fragment):
        WireProgram.model_validate_json(json.dumps(program), strict=True)


def test_a_program_has_columns_or_instructions_not_both() -> None:
    program = _program()
    program["instructions"] = [["x", [0]]]
    with pytest.raises(ValidationError, match="ops or instructions, not both"):
        WireProgram.model_validate_json(json.dumps(program), strict=True)


def test_the_object_form_of_older_clients_still_runs(provider: VendorProvider) -> None:
    """A server keeps reading what older clients send: one object per operation."""
    backend = provider.get_backend(IDEAL)
    objects = [
        {"name": "x", "qubits": [0]},
        {"name": "measure", "qubits": [0], "clbits": [0]},
    ]
    program = {"num_qubits": 1, "num_clbits": 1, "header": {"name": "old"}, "instructions": objects}
    body = json.dumps({"device": IDEAL, "shots": 20, "programs": [program]}).encode()
    info = backend._client.submit_payload(body, "older-client")
    job = provider.retrieve_job(info.job_id)
    assert job.result().get_counts() == {"1": 20}


def test_a_stored_job_is_the_body_as_received_with_the_seed_it_got(emulator: Emulator) -> None:
    circuit = QuantumCircuit(1, 1)
    circuit.h(0)
    circuit.measure(0, 0)
    job = JobSubmission(device=IDEAL, shots=50, programs=[circuit_to_wire(circuit)])
    body = wire.encode_submission(job)
    info, _ = emulator.submit("default", job, None, body=body)
    record = emulator.store.get(info.job_id)
    assert record is not None
    seed = json.loads(record.submission)["seed_simulator"]
    assert record.submission.encode() == wire.with_first_field(body, "seed_simulator", seed)


def test_python_built_ops_are_checked_like_arrays() -> None:
    with pytest.raises(ValidationError, match="non-negative integers"):
        WireProgram(num_qubits=1, num_clbits=0, header={"name": "p"}, instructions=[Op("x", [-1])])  # type: ignore[arg-type]


def test_a_program_listing_too_many_operations_is_refused_before_arrays_are_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from qiskit_vendor_provider.api import op_columns

    monkeypatch.setattr(op_columns, "MAX_OPERATIONS", 10)
    body = json.dumps(_program(code=[0] * 11, qubits=[0] * 11, params=[0.5] * 11))
    with pytest.raises(ValidationError, match="lists 11 operations; a program may have at most 10"):
        WireProgram.model_validate_json(body, strict=True)
