"""Differences between the Qiskit releases the package supports (``qiskit>=2.0,<3``).

Each function here gives the behaviour of the newest Qiskit on every supported release,
and says which releases need it, so that it can go once the lower bound passes them.
"""

from __future__ import annotations

import re

import qiskit
from qiskit.circuit import ControlFlowOp, ForLoopOp, Parameter, QuantumCircuit


def _release(version: str) -> tuple[int, int]:
    """``(major, minor)`` of a version string: ``"2.4.0rc1"`` is (2, 4)."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None:  # a build we cannot read: assume a new one
        return (99, 0)
    return (int(match.group(1)), int(match.group(2)))


# Qiskit before 2.4.0 lists a for loop's loop parameter among the parameters of the circuit
# holding the loop (Qiskit/qiskit#15657; checked: 2.0.0, 2.2.3 and 2.3.1 list it, 2.4.0 does
# not), though the loop binds it and no user can: there, `circuit.parameters` of
# `rx(theta + i)` in a loop over `i` is [i, theta].
LOOP_PARAMETERS_LISTED = _release(qiskit.__version__) < (2, 4)


def _loop_parameters(circuit: QuantumCircuit) -> set[Parameter]:
    found: set[Parameter] = set()
    for instruction in circuit.data:
        operation = instruction.operation
        if isinstance(operation, ForLoopOp) and operation.params[1] is not None:
            found.add(operation.params[1])
        if isinstance(operation, ControlFlowOp):
            for block in operation.blocks:
                found |= _loop_parameters(block)
    return found


def free_parameters(circuit: QuantumCircuit) -> list[Parameter]:
    """The parameters a user binds: ``circuit.parameters`` without loop parameters.

    The same as ``list(circuit.parameters)`` on Qiskit 2.4 and later, in the same order.

    >>> from qiskit.circuit import Parameter, QuantumCircuit
    >>> theta, i = Parameter("theta"), Parameter("i")
    >>> circuit = QuantumCircuit(1)
    >>> with circuit.for_loop(range(3), loop_parameter=i):
    ...     _ = circuit.rx(theta + i, 0)
    >>> [p.name for p in free_parameters(circuit)]
    ['theta']
    """
    parameters = list(circuit.parameters)
    if not LOOP_PARAMETERS_LISTED or not parameters:
        return parameters
    bound_by_loops = _loop_parameters(circuit)
    return [p for p in parameters if p not in bound_by_loops]
