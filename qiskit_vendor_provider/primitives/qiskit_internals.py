"""The one place the primitives touch private Qiskit names.

Qiskit's primitives leave a subclass a few things it can only do through private API.
Every such use is a function here, and nothing else in the package imports a private
Qiskit name: a Qiskit upgrade that changes one fails the test named after it in
``tests/test_qiskit_internals.py``, not a user's run. ``tests/test_qiskit_internals.py``
also checks that no other module of the package imports an underscored Qiskit name.

What is left, and why it is borrowed rather than owned:

* ``PrimitiveJob._submit``: :class:`~qiskit.primitives.PrimitiveJob` is the job class
  ``BackendSamplerV2.run`` and ``BackendEstimatorV2.run`` return, and it has no public way
  to start. Returning the same class keeps ``isinstance(job, PrimitiveJob)`` and its
  pickling true for users; a job class of our own would be the alternative.

Everything else the primitives once borrowed is owned now: the register layout and the
decoding of samples (:mod:`.decoding`), and the grouping of Pauli terms, the
measurement circuits and the expectation-value arithmetic (:mod:`.pauli_measurement`).
"""

from __future__ import annotations

from typing import TypeVar

from qiskit.primitives import PrimitiveJob

__all__ = ["start_job"]

ResultT = TypeVar("ResultT")


def start_job(job: PrimitiveJob[ResultT]) -> PrimitiveJob[ResultT]:
    """Start a :class:`~qiskit.primitives.PrimitiveJob` and return it.

    Relies on ``PrimitiveJob._submit()`` running the job's function on a worker thread
    and returning at once (a second call raises ``JobError``).
    """
    job._submit()
    return job
