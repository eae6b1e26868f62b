"""The one place the package touches private Qiskit names.

Qiskit leaves a few things doable only through private API. Every such use is a
function here, and nothing else in the package uses a private Qiskit name: a Qiskit
upgrade that changes one fails the test named after it in
``tests/test_qiskit_internals.py``, not a user's run. That test module also checks that
no other module of the package imports an underscored Qiskit name or calls a private
method of the Qiskit classes it uses.

What is left, and why it is borrowed rather than owned:

* ``PrimitiveJob._submit``: :class:`~qiskit.primitives.PrimitiveJob` is the job class
  ``BackendSamplerV2.run`` and ``BackendEstimatorV2.run`` return, and it has no public way
  to start. Returning the same class keeps ``isinstance(job, PrimitiveJob)`` and its
  pickling true for users; a job class of our own would be the alternative.
* ``QuantumCircuit._append``: appends an instruction as it is, without the broadcasting
  and checks of ``append``. The emulator builds every circuit it simulates from a program
  it has checked already; ``append`` took four times as long, a tenth of a 200-circuit
  job's time in the simulator process.

Everything else the primitives once borrowed is owned now: the register layout and the
decoding of samples (:mod:`.decoding`), and the grouping of Pauli terms, the
measurement circuits and the expectation-value arithmetic (:mod:`.pauli_measurement`).
"""

from __future__ import annotations

from typing import TypeVar

from qiskit.circuit import CircuitInstruction, QuantumCircuit
from qiskit.primitives import PrimitiveJob

__all__ = ["append_unchecked", "start_job"]

ResultT = TypeVar("ResultT")


def start_job(job: PrimitiveJob[ResultT]) -> PrimitiveJob[ResultT]:
    """Start a :class:`~qiskit.primitives.PrimitiveJob` and return it.

    Relies on ``PrimitiveJob._submit()`` running the job's function on a worker thread
    and returning at once (a second call raises ``JobError``).
    """
    job._submit()
    return job


def append_unchecked(circuit: QuantumCircuit, instruction: CircuitInstruction) -> None:
    """Append ``instruction`` to ``circuit`` as it is: its bits must be the circuit's.

    Relies on ``QuantumCircuit._append(CircuitInstruction)`` adding the instruction (and
    tracking its parameters) without broadcasting it or checking its bits.
    """
    circuit._append(instruction)
