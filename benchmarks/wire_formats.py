"""Wire encodings compared: bytes, client encoding and server reading of the same jobs.

    python benchmarks/wire_formats.py [--repeat 5]

Four ways to carry a job's programs, on two jobs (200 distinct 5-qubit circuits of the
primitives benchmark, and 150 programs of 400 rz/cx pairs, about 2.4 MB as columns):

* ``objects``: one JSON object per operation (the layout before round 3);
* ``arrays``: one JSON array per operation, ``[name, qubits, clbits, params]``;
* ``columns``: the layout clients send now (``ops``: kinds, code, qubits, clbits, params);
* ``qpy``: Qiskit's QPY of the circuits, base64 in a JSON envelope.

For each: the request's bytes, the client's time to write it (from circuits), and the
server's time to read it (parse and validate; for QPY, ``qpy.load``, which still leaves
the device's checks to do). Times are CPU seconds, best of ``--repeat``; the columns'
figures are the reference of the ratios.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qiskit import QuantumCircuit, qpy

sys.path.insert(0, str(Path(__file__).parent))

from primitives import workloads

from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.models import JobSubmission, WireProgram
from qiskit_vendor_provider.serialization import circuit_to_wire


def best(action: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The least CPU time of ``repeat`` runs, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        started = time.process_time()
        result = action()
        times.append(time.process_time() - started)
    return min(times), result


def as_rows(program: WireProgram, objects: bool) -> dict[str, Any]:
    """A column program rewritten with one entry per operation."""
    fields = json.loads(wire.encode_program(program))
    columns = program.ops
    assert columns is not None
    entries: list[Any] = []
    for name, qubits, clbits, params in columns.operations():
        angles = [p if isinstance(p, float) else p.model_dump() for p in params]
        if objects:
            entry: dict[str, Any] = {"name": name, "qubits": qubits}
            entry |= {"clbits": clbits} if clbits else {}
            entry |= {"params": angles} if angles else {}
            entries.append(entry)
        else:
            entries.append([name, qubits, clbits, angles])
    del fields["ops"]
    fields["instructions"] = entries
    return fields


def encoders(circuits: list[QuantumCircuit]) -> dict[str, Callable[[], bytes]]:
    def columns() -> bytes:
        programs = [circuit_to_wire(c) for c in circuits]
        return wire.encode_submission(JobSubmission(device="d", shots=100, programs=programs))

    def rows(objects: bool) -> Callable[[], bytes]:
        def encode() -> bytes:
            programs = [as_rows(circuit_to_wire(c), objects) for c in circuits]
            return wire.dumps({"device": "d", "shots": 100, "programs": programs})

        return encode

    def qpy_envelope() -> bytes:
        buffer = io.BytesIO()
        qpy.dump(circuits, buffer)
        text = base64.b64encode(buffer.getvalue()).decode()
        return wire.dumps({"device": "d", "shots": 100, "qpy": text})

    return {
        "objects": rows(objects=True),
        "arrays": rows(objects=False),
        "columns": columns,
        "qpy": qpy_envelope,
    }


def read(form: str, body: bytes) -> Any:
    if form == "qpy":
        return qpy.load(io.BytesIO(base64.b64decode(json.loads(body)["qpy"])))
    return wire.decode_submission(body)


def large_circuits(count: int) -> list[QuantumCircuit]:
    circuit = QuantumCircuit(5, 5)
    for i in range(400):
        circuit.rz(0.1 + i * 1e-3, i % 5)
        circuit.cx(i % 5, (i + 1) % 5)
    circuit.measure(range(5), range(5))
    return [circuit.copy(name=f"large-{i}") for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    distinct = list(workloads()[1].pubs)
    jobs = {"200 distinct 5q circuits": distinct, "150 programs of 800 gates": large_circuits(150)}
    for title, circuits in jobs.items():
        print(f"\n{title}")
        header = ("form", "bytes", "encode s", "read s", "read/columns")
        print("{:10s} {:>10s} {:>10s} {:>10s} {:>13s}".format(*header))
        figures = {}
        for form, encode in encoders(circuits).items():
            encode_time, body = best(encode, args.repeat)
            read_time, _ = best(lambda form=form, body=body: read(form, body), args.repeat)
            figures[form] = (len(body), encode_time, read_time)
        reference = figures["columns"][2]
        for form, (size, encode_time, read_time) in figures.items():
            print(
                f"{form:10s} {size:10d} {encode_time:10.4f} {read_time:10.4f} "
                f"{read_time / reference:12.1f}x"
            )


if __name__ == "__main__":
    main()
