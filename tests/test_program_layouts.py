"""Two program layouts: columns for plain circuits, objects for control flow.

The SDK no longer writes a plain operation as an array; a server still reads the arrays
that clients of API 1.2 and before wrote.
"""

from __future__ import annotations

import json
from typing import Any

from qiskit import QuantumCircuit

from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.models import JobSubmission, Op
from qiskit_vendor_provider.serialization import circuit_to_wire


def _dynamic() -> QuantumCircuit:
    circuit = QuantumCircuit(2, 1)
    circuit.rz(0.5, 0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
        circuit.rz(0.25, 1)
    circuit.delay(20, 0, unit="ns")
    return circuit


def _lists_in_instructions(instructions: list[Any]) -> list[Any]:
    found = []
    for item in instructions:
        if isinstance(item, list):
            found.append(item)
            continue
        for block in item.get("blocks", []):
            found.extend(_lists_in_instructions(block))
    return found


def test_the_sdk_writes_control_flow_programs_as_objects_only() -> None:
    job = JobSubmission(device="ideal_simulator", shots=1, programs=[circuit_to_wire(_dynamic())])
    sent = json.loads(wire.encode_submission(job))
    instructions = sent["programs"][0]["instructions"]
    assert _lists_in_instructions(instructions) == []
    assert instructions[0] == {"name": "rz", "qubits": [0], "params": [0.5]}
    assert instructions[1] == {"name": "measure", "qubits": [0], "clbits": [0]}
    assert instructions[2]["blocks"][0][0] == {"name": "x", "qubits": [1]}


def test_the_server_reads_the_arrays_older_clients_sent_as_the_same_program() -> None:
    job = JobSubmission(device="ideal_simulator", shots=1, programs=[circuit_to_wire(_dynamic())])
    current = json.loads(wire.encode_submission(job))
    older = json.loads(json.dumps(current))
    program = older["programs"][0]
    # What a client of API 1.2 wrote: plain operations as arrays, blocks included.
    program["instructions"][0] = ["rz", [0], [], [0.5]]
    program["instructions"][1] = ["measure", [0], [0]]
    program["instructions"][2]["blocks"][0] = [["x", [1]], ["rz", [1], [], [0.25]]]
    read_older = wire.decode_submission(json.dumps(older).encode())
    read_current = wire.decode_submission(json.dumps(current).encode())
    assert read_older == read_current
    assert read_older.programs[0].instructions[0] == Op("rz", [0], [], [0.5])
