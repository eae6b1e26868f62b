"""Device spec (what the server sends) to Qiskit :class:`~qiskit.transpiler.Target`.

The Target is built whole, in one call, before anything can read it: ``BackendV2``
caches its coupling map on first access, so a Target that is completed later would leave
the transpiler with a stale one.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from qiskit.circuit import ForLoopOp, IfElseOp, Instruction, SwitchCaseOp, WhileLoopOp
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.providers import QubitProperties
from qiskit.transpiler import InstructionProperties, Target

from qiskit_vendor_provider.api.models import (
    Calibration,
    DeviceLimits,
    DeviceSpec,
    NativeOperation,
)
from qiskit_vendor_provider.errors import VendorApiError

Qargs = tuple[int, ...]

# Control flow enters the Target as classes, by name, on every qubit: the transpiler
# then routes and translates inside the blocks instead of refusing the circuit.
_CONTROL_FLOW_CLASSES = {
    "if_else": IfElseOp,
    "switch_case": SwitchCaseOp,
    "for_loop": ForLoopOp,
    "while_loop": WhileLoopOp,
}


def qiskit_operation(name: str) -> Instruction:
    """The Qiskit operation a native-operation name stands for (standard library names).

    >>> qiskit_operation("rz").name, qiskit_operation("ecr").num_qubits
    ('rz', 2)
    >>> qiskit_operation("fancy")
    Traceback (most recent call last):
    ...
    qiskit_vendor_provider.errors.VendorApiError: the device lists operation 'fancy', which \
is not in Qiskit's standard gate library; upgrade qiskit-vendor-provider or ask the vendor
    """
    mapping = get_standard_gate_name_mapping()
    if name not in mapping:
        raise VendorApiError(
            f"the device lists operation {name!r}, which is not in Qiskit's standard gate "
            "library; upgrade qiskit-vendor-provider or ask the vendor"
        )
    operation: Instruction = mapping[name]
    return operation


def unknown_operations(spec: DeviceSpec) -> dict[str, str]:
    """The operations a device lists that this package cannot use, each with why.

    A newer server may list a native operation outside Qiskit's standard gate library
    (``fsim``), one whose arity differs from Qiskit's, or a control-flow operation this
    package cannot send (``box``). The device still works for every circuit that does
    not need them: they are left out of its Target, and a circuit that uses one is
    refused with this reason.

    >>> spec = DeviceSpec(name="d", num_qubits=2, control_flow=["if_else", "box"],
    ...     native_operations=[NativeOperation(name="cz", num_qubits=2),
    ...                        NativeOperation(name="fsim", num_qubits=2)])
    >>> sorted(unknown_operations(spec))
    ['box', 'fsim']
    """
    mapping = get_standard_gate_name_mapping()
    unknown: dict[str, str] = {}
    for op in spec.native_operations:
        known = mapping.get(op.name)
        if known is None:
            unknown[op.name] = "it is not in Qiskit's standard gate library"
        elif known.num_qubits != op.num_qubits:
            unknown[op.name] = (
                f"the device lists it on {op.num_qubits} qubits, Qiskit's {op.name!r} acts "
                f"on {known.num_qubits}"
            )
    for name in spec.control_flow:
        if name not in _CONTROL_FLOW_CLASSES:
            unknown[name] = "this package cannot send that control-flow operation"
    return unknown


def unknown_operation_message(device: str, name: str, reason: str) -> str:
    """Why a circuit that uses ``name`` cannot run on ``device``, and what to do.

    >>> unknown_operation_message("d", "fsim", "it is not in Qiskit's standard gate library")
    "device 'd' lists operation 'fsim', which this version of qiskit-vendor-provider \
cannot use (it is not in Qiskit's standard gate library); rewrite the circuit without \
'fsim' (transpile for the device), or upgrade qiskit-vendor-provider"
    """
    return (
        f"device {device!r} lists operation {name!r}, which this version of "
        f"qiskit-vendor-provider cannot use ({reason}); rewrite the circuit without "
        f"{name!r} (transpile for the device), or upgrade qiskit-vendor-provider"
    )


def operation_qargs(op: NativeOperation, num_qubits: int) -> list[Qargs]:
    """Every qubit tuple ``op`` acts on.

    >>> operation_qargs(NativeOperation(name="cz", num_qubits=2), 3)
    [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]
    >>> operation_qargs(NativeOperation(name="ecr", num_qubits=2, qubits=[[1, 0]]), 3)
    [(1, 0)]
    """
    if op.qubits is not None:
        return [tuple(qargs) for qargs in op.qubits]
    return list(itertools.permutations(range(num_qubits), op.num_qubits))


@dataclass(frozen=True)
class FaultyElements:
    """What a calibration marks out of service: qubits, and gates on qubit tuples.

    One rule decides what that takes out, for the Target, the client's checks and the
    emulator's (IBM's ``check_faulty`` semantics): every operation on a faulty qubit,
    each faulty gate on its qubits, and every two-qubit operation on the qubits (in that
    order) of a faulty two-qubit gate, whose coupler is out.

    Attributes:
        qubits: The faulty qubits, ascending.
        gates: The faulty gates as ``(name, qubits)``, in the calibration's order.
    """

    qubits: tuple[int, ...] = ()
    gates: tuple[tuple[str, Qargs], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.qubits or self.gates)

    def problem(self, name: str, qargs: Qargs, device: str) -> str | None:
        """Why ``name`` on ``qargs`` cannot run on ``device`` now, or None if it may.

        One sentence for the client's check, ``check_faulty`` and the emulator's, so the
        three say the same thing.

        >>> FaultyElements(qubits=(13,)).problem("measure", (13,), "d")
        "qubit 13 of device 'd' is out of service (faulty in its current calibration)"
        >>> faulty = FaultyElements(gates=(("ecr", (12, 13)),))
        >>> faulty.problem("ecr", (12, 13), "d")
        "the coupler (12, 13) of device 'd' is out of service (its ecr gate is faulty in \
the current calibration)"
        >>> faulty.problem("ecr", (13, 12), "d") is None
        True
        """
        for qubit in qargs:
            if qubit in self.qubits:
                return (
                    f"qubit {qubit} of device {device!r} is out of service (faulty in its "
                    "current calibration)"
                )
        for gate, on in self.gates:
            if on == qargs and (gate == name or len(on) == 2):
                what = f"the coupler {on}" if len(on) == 2 else f"the {gate} gate on qubits {on}"
                return (
                    f"{what} of device {device!r} is out of service (its {gate} gate is "
                    "faulty in the current calibration)"
                )
        return None

    def excludes(self, name: str, qargs: Qargs) -> bool:
        """Whether ``name`` on ``qargs`` is out of service (see :meth:`problem`).

        >>> faulty = FaultyElements(qubits=(3,), gates=(("ecr", (1, 2)),))
        >>> faulty.excludes("x", (3,)), faulty.excludes("cz", (1, 2)), faulty.excludes("x", (1,))
        (True, True, False)
        """
        return self.problem(name, qargs, "") is not None


FAULTY_HINT = (
    "transpile the circuit again for the device's current calibration: "
    "generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit) "
    "routes around faulty qubits and couplers (backend.faulty_qubits(), "
    "backend.faulty_gates() list them)"
)


def faulty_elements(calibration: Calibration | None) -> FaultyElements:
    """The qubits and gates ``calibration`` marks out of service (none without one).

    >>> from datetime import datetime, timezone
    >>> from qiskit_vendor_provider.api.models import GateCalibration, QubitCalibration
    >>> cal = Calibration(timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...     qubits=[QubitCalibration(), QubitCalibration(operational=False)],
    ...     gates=[GateCalibration(name="cz", qubits=[0, 1], operational=False)])
    >>> faulty_elements(cal)
    FaultyElements(qubits=(1,), gates=(('cz', (0, 1)),))
    """
    if calibration is None:
        return FaultyElements()
    return FaultyElements(
        qubits=tuple(i for i, q in enumerate(calibration.qubits) if not q.operational),
        gates=tuple((g.name, tuple(g.qubits)) for g in calibration.gates if not g.operational),
    )


def device_faulty_elements(target: Target) -> FaultyElements:
    """The faulty elements a Target was built without (none for a plain Target)."""
    faulty = getattr(target, "faulty", None)
    return faulty if isinstance(faulty, FaultyElements) else FaultyElements()


def _qubit_properties(calibration: Calibration | None) -> list[QubitProperties] | None:
    if calibration is None:
        return None
    return [QubitProperties(t1=q.t1, t2=q.t2, frequency=q.frequency) for q in calibration.qubits]


def _instruction_properties(
    spec: DeviceSpec, op: NativeOperation
) -> dict[Qargs | None, InstructionProperties | None]:
    calibration = spec.calibration
    if calibration is None and all(o.qubits is None for o in spec.native_operations):
        # An uncalibrated all-to-all device: global entries keep the Target small and tell
        # the transpiler that no routing is needed. (Mixing global and per-qubit entries
        # on one device breaks VF2Layout in qiskit 2.0.)
        return {None: None}
    gates = {(g.name, tuple(g.qubits)): g for g in calibration.gates} if calibration else {}
    faulty = faulty_elements(calibration)
    props: dict[Qargs | None, InstructionProperties | None] = {}
    for qargs in operation_qargs(op, spec.num_qubits):
        if faulty and faulty.excludes(op.name, qargs):
            # Out of service: left out, as IBM's Targets leave faulty elements out, so
            # the preset pass managers lay out and route around it. A faulty qubit keeps
            # no operation at all (not even delay): Qiskit's layout then drops it as idle.
            continue
        if op.name == "measure" and calibration is not None:
            qubit = calibration.qubits[qargs[0]]
            props[qargs] = InstructionProperties(
                duration=qubit.readout_duration, error=qubit.readout_error
            )
            continue
        gate = gates.get((op.name, qargs))
        if gate is not None:
            props[qargs] = InstructionProperties(duration=gate.duration, error=gate.error)
        elif calibration is not None and op.name == "rz":
            # Virtual Z: no time, no error; scheduling needs the explicit zero duration.
            props[qargs] = InstructionProperties(duration=0.0, error=0.0)
        else:
            props[qargs] = None
    return props


class VendorTarget(Target):  # type: ignore[misc]
    """A Target that also carries the device's job limits.

    The limits on dynamic circuits (nesting depth, loop iterations) decide whether a
    circuit runs, as the Target's operations do; carried here, every check that is given
    the Target (the backend's, the primitives', the emulator's) applies the same ones.
    Copies and pickles keep them.
    """

    device_limits: DeviceLimits = DeviceLimits()
    unknown_operations: dict[str, str] = {}  # noqa: RUF012 - replaced, never changed
    """Operations the device lists that this package cannot use, with why (see
    :func:`unknown_operations`); they are not in the Target."""
    t2_star: tuple[float | None, ...] = ()
    """Each qubit's Ramsey (free-induction) T2*, in seconds; None where not calibrated."""
    zz_hz: Mapping[tuple[int, int], float] = {}
    """The always-on ZZ rate of each coupled pair (lower qubit first), in hertz."""
    over_rotations: Mapping[tuple[str, tuple[int, ...]], float] = {}
    """The coherent over-rotation (radians) in the error of each (gate, qubits)."""
    faulty: FaultyElements = FaultyElements()
    """The qubits and gates the calibration marks out of service, which the Target
    leaves out (kept to say so when a circuit uses one)."""

    def __getstate__(self) -> tuple[Any, dict[str, Any]]:
        extra = {key: value for key, value in self.__dict__.items() if key != _MEMOS}
        return super().__getstate__(), extra

    def __setstate__(self, state: tuple[Any, dict[str, Any]]) -> None:
        inner, extra = state
        super().__setstate__(inner)
        self.__dict__.update(extra)


_MEMOS = "_vendor_memos"
_T = TypeVar("_T")


def target_memo(target: Target, name: str, build: Callable[[Target], _T]) -> _T:
    """What ``build`` makes of ``target``, made once and kept with the Target.

    For tables a job reads thousands of times (durations, which qubits an operation
    takes). A :class:`VendorTarget` keeps them until :func:`forget_memos` (called when
    its calibration is refreshed); a plain Target, which has nowhere to keep them, gets
    a fresh one each time.

    >>> target = VendorTarget(num_qubits=1)
    >>> target_memo(target, "n", lambda t: [t.num_qubits]) is target_memo(target, "n", list)
    True
    """
    attributes = getattr(target, "__dict__", None)
    if attributes is None:
        return build(target)
    memos: dict[str, Any] = attributes.setdefault(_MEMOS, {})
    if name not in memos:
        memos[name] = build(target)
    return memos[name]  # type: ignore[no-any-return]


def forget_memos(target: Target) -> None:
    """Drop what :func:`target_memo` kept: the Target's figures changed."""
    attributes = getattr(target, "__dict__", None)
    if attributes is not None:
        attributes.pop(_MEMOS, None)


def device_limits(target: Target) -> DeviceLimits:
    """The job limits a Target carries (the API's defaults for a plain Target)."""
    limits = getattr(target, "device_limits", None)
    return limits if isinstance(limits, DeviceLimits) else DeviceLimits()


def build_target(spec: DeviceSpec) -> Target:
    """Build the whole Target of a device from its spec, calibration included.

    Args:
        spec: The device spec the server sent.

    Returns:
        A Target with every native operation on every qubit tuple it acts on, each with
        the calibrated duration and error where the spec has them, qubit T1, T2 and
        frequency, and the control-flow operations the device supports. Qubits and
        gates the calibration marks out of service are left out (every operation on a
        faulty qubit, each faulty gate on its qubits) and kept in the Target's
        ``faulty``. Operations this
        package cannot use (see :func:`unknown_operations`) are left out, and kept in
        the Target's ``unknown_operations`` for messages. T2*, ZZ rates and
        over-rotations are the :class:`VendorTarget` attributes ``t2_star``, ``zz_hz``
        and ``over_rotations``.
    """
    unknown = unknown_operations(spec)
    target = VendorTarget(
        description=spec.description or spec.name,
        num_qubits=spec.num_qubits,
        dt=spec.dt,
        qubit_properties=_qubit_properties(spec.calibration),
    )
    # One mapping for the whole Target: each call builds every standard gate afresh
    # (0.4 ms; a call per operation was half of ``get_backend`` for a 37-operation device).
    operations = get_standard_gate_name_mapping()
    for op in spec.native_operations:
        if op.name not in unknown:
            target.add_instruction(operations[op.name], _instruction_properties(spec, op))
    for name in spec.control_flow:
        if name not in unknown:
            target.add_instruction(_CONTROL_FLOW_CLASSES[name], name=name)
    target.device_limits = spec.limits
    target.unknown_operations = unknown
    target.faulty = faulty_elements(spec.calibration)
    if spec.calibration is not None:
        # Figures the Target's own properties have no field for (Physics v2).
        target.t2_star = tuple(q.t2_star for q in spec.calibration.qubits)
        target.zz_hz = {(min(c.qubits), max(c.qubits)): c.zz_hz for c in spec.calibration.couplings}
        target.over_rotations = {
            (g.name, tuple(g.qubits)): g.over_rotation
            for g in spec.calibration.gates
            if g.over_rotation
        }
    return target


@dataclass(frozen=True)
class DeviceCapabilities:
    """What a device offers, at a glance: the figures ``qiskit-vendor devices`` shows.

    Errors and coherence times are medians over the calibrated qubits or qubit tuples;
    None where the device has no calibration.
    """

    name: str
    num_qubits: int
    simulator: bool
    natives: list[str]
    dynamic_circuits: list[str]
    max_shots: int
    max_circuits: int
    max_operations: int
    median_1q_error: float | None
    median_2q_error: float | None
    median_readout_error: float | None
    median_t1: float | None
    median_t2: float | None


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def device_capabilities(spec: DeviceSpec) -> DeviceCapabilities:
    """Summarise a device spec (see :class:`DeviceCapabilities`).

    >>> spec = DeviceSpec(name="d", num_qubits=2, control_flow=["if_else"],
    ...     native_operations=[NativeOperation(name="cz", num_qubits=2)])
    >>> caps = device_capabilities(spec)
    >>> caps.natives, caps.dynamic_circuits, caps.median_t1
    (['cz'], ['if_else'], None)
    """
    calibration = spec.calibration
    one = two = readout = t1 = t2 = None
    if calibration is not None:
        one = _median([g.error for g in calibration.gates if len(g.qubits) == 1 and g.error])
        two = _median([g.error for g in calibration.gates if len(g.qubits) == 2 and g.error])
        readout = _median([q.readout_error for q in calibration.qubits])
        t1 = _median([q.t1 for q in calibration.qubits if q.t1])
        t2 = _median([q.t2 for q in calibration.qubits if q.t2])
    return DeviceCapabilities(
        name=spec.name,
        num_qubits=spec.num_qubits,
        simulator=spec.simulator,
        natives=[op.name for op in spec.native_operations],
        dynamic_circuits=list(spec.control_flow),
        max_shots=spec.limits.max_shots,
        max_circuits=spec.limits.max_circuits,
        max_operations=spec.limits.max_operations,
        median_1q_error=one,
        median_2q_error=two,
        median_readout_error=readout,
        median_t1=t1,
        median_t2=t2,
    )


def format_figure(value: float | None, unit: str = "") -> str:
    """A figure in a cell: ``–`` when unknown, seconds scaled to a readable unit."""
    if value is None:
        return "–"
    if unit == "s":
        for scale, name in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
            if value >= scale:
                return f"{value / scale:.3g} {name}"
        return f"{value * 1e9:.3g} ns"
    return f"{value:.2g}"


def dynamic_text(operations: list[str]) -> str:
    """``yes (if_else, ...)`` or ``no``: a device's dynamic-circuit support in a cell."""
    return f"yes ({', '.join(operations)})" if operations else "no"
