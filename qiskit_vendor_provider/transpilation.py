"""Vendor-native transpilation: the translation stage the backends ask Qiskit to use.

``generate_preset_pass_manager(backend=backend)`` and ``transpile(..., backend=backend)``
read :meth:`VendorBackend.get_translation_stage_plugin` and
:meth:`VendorBackend.get_scheduling_stage_plugin`, which name the ``vendor`` plugins
registered under the ``qiskit.transpiler.translation`` and ``qiskit.transpiler.scheduling``
entry points. The translation plugin runs Qiskit's own basis translation into the
device's operations; both then:

* merges every run of single-qubit gates into the device's canonical form — for a device
  with ``r`` and ``rz`` (trapped ions) one ``r(θ, φ)`` followed by one ``rz``, the
  ``rz`` being virtual and free; for others, Qiskit's Euler synthesis on the Target;
* normalises angles the way the devices want them: rotation angles in (-π, π], ``r``
  with θ in [0, π] and φ in (-π, π], and rotations by zero removed. The global phase is
  kept exact, so the circuit's operator does not change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from qiskit.circuit import ParameterExpression, QuantumCircuit
from qiskit.circuit.library import RGate, RZGate
from qiskit.converters import circuit_to_dag
from qiskit.dagcircuit import DAGCircuit, DAGOpNode
from qiskit.synthesis import OneQubitEulerDecomposer
from qiskit.transpiler import PassManager, PassManagerConfig, Target
from qiskit.transpiler.basepasses import TransformationPass
from qiskit.transpiler.passes import Optimize1qGatesDecomposition
from qiskit.transpiler.passes.utils.control_flow import trivial_recurse
from qiskit.transpiler.preset_passmanagers.plugin import (
    PassManagerStagePlugin,
    PassManagerStagePluginManager,
)

PLUGIN_NAME = "vendor"

# Rotations exp(-iθP/2): a turn of 2π multiplies them by -1 (a global phase of π).
_HALF_ANGLE_ROTATIONS = frozenset({"rx", "ry", "rz", "rxx", "ryy", "rzz", "rzx", "r"})
# Phase gates: exactly 2π-periodic.
_PHASE_GATES = frozenset({"p", "u1", "cp"})
# Rotations smaller than this are numerical noise from synthesis, not intent.
_ZERO = 1e-10


def wrap_angle(angle: float) -> tuple[float, int]:
    """``angle`` moved into (-π, π], and how many turns of 2π that took.

    >>> wrap_angle(3 * math.pi / 2)
    (-1.5707963267948966, 1)
    >>> wrap_angle(-math.pi)
    (3.141592653589793, -1)
    """
    turns = math.floor((angle + math.pi) / (2 * math.pi))
    wrapped = angle - 2 * math.pi * turns
    if wrapped <= -math.pi:  # (-π, π], not [-π, π)
        wrapped += 2 * math.pi
        turns -= 1
    return wrapped, turns


def normal_r(theta: float, phi: float) -> tuple[float, float, float]:
    """``r(θ, φ)`` as ``r(θ', φ')`` with θ' in [0, π], φ' in (-π, π], and the phase gained.

    Uses r(θ + 2π, φ) = -r(θ, φ) and r(-θ, φ) = r(θ, φ + π).

    >>> [round(x, 6) for x in normal_r(-math.pi / 2, 0.0)]
    [1.570796, 3.141593, 0.0]
    """
    theta, turns = wrap_angle(theta)
    phase = math.pi * (turns % 2)
    if theta < 0:
        theta, phi = -theta, phi + math.pi
    phi, _ = wrap_angle(phi)
    return theta, phi, phase


def _numeric(params: Sequence[object]) -> list[float] | None:
    values = []
    for param in params:
        if isinstance(param, ParameterExpression) and param.parameters:
            return None
        values.append(float(param))  # type: ignore[arg-type]
    return values


class NormalizeAngles(TransformationPass):  # type: ignore[misc]
    """Put rotation angles in (-π, π] (``r``: θ in [0, π]) and drop rotations by zero.

    Symbolic angles are left alone: they are normalised when bound, on the server.
    """

    @trivial_recurse  # type: ignore[untyped-decorator]
    def run(self, dag: DAGCircuit) -> DAGCircuit:
        """Normalise every numeric rotation angle in ``dag``, inside control flow too."""
        phase = 0.0
        for node in list(dag.op_nodes()):
            name = node.op.name
            if name not in _HALF_ANGLE_ROTATIONS and name not in _PHASE_GATES:
                continue
            values = _numeric(node.op.params)
            if values is None:
                continue
            if name == "r":
                theta, phi, gained = normal_r(values[0], values[1])
                new_params = [theta, phi]
            else:
                theta, turns = wrap_angle(values[0])
                gained = math.pi * (turns % 2) if name in _HALF_ANGLE_ROTATIONS else 0.0
                new_params = [theta]
            phase += gained
            if abs(theta) <= _ZERO:
                dag.remove_op_node(node)
                continue
            if new_params != values:
                op = node.op.to_mutable()
                op.params = new_params
                dag.substitute_node(node, op)
        dag.global_phase += phase
        return dag


class RzROneQubitSynthesis(TransformationPass):  # type: ignore[misc]
    """Merge each run of single-qubit gates into ``r(θ, φ)`` then ``rz(λ)``.

    Any single-qubit unitary is ``Rz(a) Rx(b) Rz(c)`` up to phase, which equals
    ``Rz(a + c) · R(b, -c)``: one physical pulse and one virtual Z.
    """

    def __init__(self) -> None:
        super().__init__()
        self._decomposer = OneQubitEulerDecomposer(basis="ZXZ")

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        """Replace every run of two or more one-qubit gates, or any non-canonical gate."""
        for run in dag.collect_1q_runs():
            if _is_canonical(run):
                continue
            matrix = np.eye(2, dtype=complex)
            for node in run:
                matrix = node.op.to_matrix() @ matrix
            theta, phi, lam, phase = self._decomposer.angles_and_phase(matrix)
            replacement = QuantumCircuit(1, global_phase=phase)
            replacement.append(RGate(theta, -lam), [0])
            replacement.append(RZGate(phi + lam), [0])
            dag.substitute_node_with_dag(run[0], circuit_to_dag(replacement))
            for node in run[1:]:
                dag.remove_op_node(node)
        return dag


def _is_canonical(run: list[DAGOpNode]) -> bool:
    names = [node.op.name for node in run]
    return names in (["r"], ["rz"], ["r", "rz"])


def native_form_passes(target: Target) -> list[TransformationPass]:
    """The passes that bring translated circuits into a device's canonical native form."""
    names = set(target.operation_names)
    # Zero rotations go first: removing a two-qubit one can join two one-qubit runs.
    passes: list[TransformationPass] = [NormalizeAngles()]
    if {"r", "rz"} <= names and not names & {"sx", "u", "rx", "ry", "h"}:
        passes.append(RzROneQubitSynthesis())
    else:
        passes.append(Optimize1qGatesDecomposition(target=target))
    passes.append(NormalizeAngles())
    return passes


def _builtin_stage(
    stage: str, name: str, config: PassManagerConfig, optimization_level: int | None
) -> PassManager:
    manager: PassManager = PassManagerStagePluginManager().get_passmanager_stage(
        stage, name, config, optimization_level
    )
    return manager


class VendorTranslationPlugin(PassManagerStagePlugin):  # type: ignore[misc]
    """Translation stage: Qiskit's basis translation, then the device's native form."""

    def pass_manager(
        self, pass_manager_config: PassManagerConfig, optimization_level: int | None = None
    ) -> PassManager:
        """The translation stage for ``pass_manager_config.target``."""
        stage = _builtin_stage("translation", "translator", pass_manager_config, optimization_level)
        if pass_manager_config.target is not None:
            stage.append(native_form_passes(pass_manager_config.target))
        return stage


class VendorSchedulingPlugin(PassManagerStagePlugin):  # type: ignore[misc]
    """Scheduling stage: the native form once more, then Qiskit's default scheduling.

    The optimization stage runs after translation and re-synthesises single-qubit runs
    in its own way (for example ``r(π, -π)``); the scheduling stage is the last one a
    backend can choose, so the device's form is restored here, before durations count.
    """

    def pass_manager(
        self, pass_manager_config: PassManagerConfig, optimization_level: int | None = None
    ) -> PassManager:
        """The scheduling stage for ``pass_manager_config.target``."""
        stage = PassManager()
        if pass_manager_config.target is not None:
            stage.append(native_form_passes(pass_manager_config.target))
        default = _builtin_stage("scheduling", "default", pass_manager_config, optimization_level)
        stage.append(default.to_flow_controller())
        return stage
