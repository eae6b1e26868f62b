"""What Aer runs: operations it does not know are replaced by their definitions.

Aer 0.18 runs a fixed set of instructions, and which ones depends on the simulation
method it picks (``density_matrix`` has no ``crx`` or ``cswap``; no method has ``ch``
or ``iswap``). A device may still list such an operation: the emulator rewrites it, just
before simulation, into operations every method the emulator may pick runs. A
calibrated operation cannot be rewritten (its noise is attached to its name), so the
catalog refuses a device file that calibrates one (see :func:`unrunnable_operations`).

Lowering goes inside control-flow blocks. It also bounds ``while_loop``: Aer runs one
until its condition is false, which for a condition that never becomes false is
forever, and would hold a worker for good. A device runs a loop at most
``max_loop_iterations`` times a shot, so the emulator runs it as that many ``if_else``
in a row, each with the loop's condition and body: once the condition is false the
body cannot make it true again, so the rest are skipped, exactly as the loop ends. A
shot whose loop would go on longer stops looping at the limit.
"""

from __future__ import annotations

from functools import cache

from qiskit.circuit import ControlFlowOp, IfElseOp, Instruction, QuantumCircuit, WhileLoopOp
from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES

from qiskit_vendor_provider.api.models import DeviceSpec
from qiskit_vendor_provider.qiskit_internals import append_unchecked
from qiskit_vendor_provider.target import qiskit_operation

# The methods the emulator lets Aer choose between; anything Aer runs must run on both.
SIMULATION_METHODS = ("statevector", "density_matrix")
# Not gates, but every method runs them.
_DIRECTIVES = frozenset({"measure", "reset", "delay", "barrier"})
# A definition deeper than this is a cycle or a library bug, not a gate.
_MAX_DEPTH = 16


# What Aer 0.18 (the minor pyproject.toml allows) runs under both methods. Named here so
# that the emulator checks its device files without importing Aer, which the host process
# otherwise never needs (about 40 ms of ``VendorProvider()``); tests compare it with what
# the installed Aer says (asked_aer_operations), so an Aer that changes it fails CI.
_AER_OPERATIONS = frozenset(
    {
        *("break_loop", "continue_loop", "for_loop", "if_else", "switch_case", "while_loop"),
        *("ccx", "cp", "cu1", "cx", "cy", "cz", "ecr", "swap", "rxx", "ryy", "rzx", "rzz"),
        *("h", "id", "p", "r", "rx", "ry", "rz", "s", "sdg", "sx", "sxdg", "t", "tdg"),
        *("u", "u1", "u2", "u3", "x", "y", "z", "delay", "reset"),
        *("diagonal", "kraus", "pauli", "qerror_loc", "quantum_channel", "roerror", "unitary"),
        *("save_amplitudes_sq", "save_density_matrix", "save_expval", "save_expval_var"),
        *("save_probabilities", "save_probabilities_dict", "save_state"),
        *_DIRECTIVES,
    }
)


def aer_operations() -> frozenset[str]:
    """The instruction names every simulation method the emulator may pick runs."""
    return _AER_OPERATIONS


@cache
def asked_aer_operations() -> frozenset[str]:
    """What :func:`aer_operations` says, asked of the installed Aer (imports it)."""
    from qiskit_aer import AerSimulator  # noqa: PLC0415 - only where Aer runs, or in tests

    names: frozenset[str] | None = None
    for method in SIMULATION_METHODS:
        basis = frozenset(AerSimulator(method=method).configuration().basis_gates)
        names = basis if names is None else names & basis
    return (names or frozenset()) | _DIRECTIVES


def _lowerable(operation: Instruction, depth: int = 0) -> bool:
    if operation.name in aer_operations():
        return True
    definition = operation.definition
    if definition is None or depth >= _MAX_DEPTH:
        return False
    return all(_lowerable(item.operation, depth + 1) for item in definition.data)


def unrunnable_operations(spec: DeviceSpec) -> list[str]:
    """Why each native operation of ``spec`` that the emulator cannot run is refused.

    An operation runs if Aer knows it, or if it is uncalibrated and its definition (in
    Qiskit's standard library) reduces to operations Aer knows.

    >>> from qiskit_vendor_provider.api.models import NativeOperation
    >>> spec = DeviceSpec(name="d", num_qubits=2, native_operations=[
    ...     NativeOperation(name="ch", num_qubits=2), NativeOperation(name="cx", num_qubits=2)])
    >>> unrunnable_operations(spec)
    []
    """
    calibrated = {g.name for g in spec.calibration.gates} if spec.calibration else set()
    problems = []
    for native in spec.native_operations:
        if native.name in aer_operations():
            continue
        operation = qiskit_operation(native.name)
        if not _lowerable(operation):
            problems.append(
                f"{native.name!r}: Aer cannot run it and it has no definition in operations "
                "Aer runs"
            )
        elif native.name in calibrated:
            problems.append(
                f"{native.name!r}: Aer cannot run it natively, so its calibrated error and "
                "duration could not be simulated; list an operation Aer runs "
                f"({', '.join(sorted(aer_operations() - _DIRECTIVES)[:12])}, ...)"
            )
    return problems


def lower_circuit(
    circuit: QuantumCircuit, *, max_loop_iterations: int | None = None
) -> QuantumCircuit:
    """``circuit`` with every operation Aer does not run replaced by its definition.

    Args:
        circuit: The circuit, possibly with control flow (blocks are lowered too).
        max_loop_iterations: When given, each ``while_loop`` becomes this many
            ``if_else`` in a row (see the module's notes); None leaves loops to Aer.

    Returns ``circuit`` itself when there is nothing to replace (the common case).
    """
    supported = aer_operations()
    # Names only, counted in Qiskit's Rust core: no object per instruction.
    names = circuit.count_ops()
    if supported.issuperset(names) and CONTROL_FLOW_OP_NAMES.isdisjoint(names):
        return circuit
    lowered = circuit.copy_empty_like()
    for item in circuit.data:
        operation = item.operation
        if isinstance(operation, ControlFlowOp):
            blocks = [
                lower_circuit(block, max_loop_iterations=max_loop_iterations)
                for block in operation.blocks
            ]
            if isinstance(operation, WhileLoopOp) and max_loop_iterations is not None:
                step = IfElseOp(operation.condition, blocks[0])
                for _ in range(max_loop_iterations):
                    lowered.append(step, item.qubits, item.clbits, copy=False)
                continue
            lowered.append(operation.replace_blocks(blocks), item.qubits, item.clbits, copy=False)
        elif operation.name in supported:
            append_unchecked(lowered, item)
        else:
            qubits = [circuit.find_bit(q).index for q in item.qubits]
            definition = operation.definition
            if definition is None:
                raise ValueError(f"Aer cannot run {operation.name!r} and it has no definition")
            lowered.global_phase += definition.global_phase
            _append_lowered(lowered, definition, qubits, 1)
    return lowered


def _append_lowered(
    out: QuantumCircuit, source: QuantumCircuit, qubit_map: list[int], depth: int
) -> None:
    supported = aer_operations()
    for item in source.data:
        operation = item.operation
        qubits = [qubit_map[source.find_bit(q).index] for q in item.qubits]
        if operation.name in supported:
            clbits = [source.find_bit(c).index for c in item.clbits] if depth == 0 else []
            out.append(operation, qubits, clbits, copy=False)
            continue
        definition = operation.definition
        if definition is None or depth >= _MAX_DEPTH:
            raise ValueError(f"Aer cannot run {operation.name!r} and it has no definition")
        out.global_phase += definition.global_phase
        _append_lowered(out, definition, qubits, depth + 1)
