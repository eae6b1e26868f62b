"""Calibration and status of a device, as typed objects on the backend.

Qiskit 2 removed ``BackendProperties`` and ``BackendStatus``; these classes keep the
accessors users of those classes know (``t1(qubit)``, ``gate_error(gate, qubits)``,
``qubit_property(qubit, name)``, ``faulty_qubits()``, ``faulty_gates()``,
``last_update_date``, ``operational``, ``pending_jobs``, ``status_msg``) on top of the
API's calibration snapshot and device status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qiskit_vendor_provider.api.models import Calibration, GateCalibration, QubitCalibration
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.target import faulty_elements

PropertyValue = tuple[Any, datetime]
"""A calibrated figure and when it was measured, as IBM's ``BackendProperties`` gives it."""


@dataclass(frozen=True)
class BackendStatus:
    """Whether a device accepts jobs now, and how many are waiting.

    Attributes:
        backend_name: The device.
        backend_version: The device spec's version.
        operational: True when the device accepts jobs.
        pending_jobs: Jobs queued or running on the device (all accounts).
        status_msg: The vendor's message, e.g. why the device is offline.
    """

    backend_name: str
    backend_version: str
    operational: bool
    pending_jobs: int
    status_msg: str


@dataclass(frozen=True)
class GateProperties:
    """A gate on a qubit tuple, as ``faulty_gates()`` lists it.

    IBM's ``BackendProperties.faulty_gates()`` gives objects with these two attributes
    (code such as ``tuple(gate.qubits)`` reads them), and so does this.

    Attributes:
        gate: The gate's name (``"ecr"``).
        qubits: The qubits it acts on, in order.
    """

    gate: str
    qubits: list[int]


@dataclass(frozen=True)
class JobLimit:
    """The account's limit of active (queued or running) jobs, and how many it has."""

    maximum_jobs: int
    active_jobs: int


class DeviceProperties:
    """One calibration snapshot of a device.

    Args:
        backend_name: The device.
        calibration: The snapshot as the server sent it.
    """

    def __init__(self, backend_name: str, calibration: Calibration) -> None:
        self.backend_name = backend_name
        self.calibration = calibration
        self._gates = {(g.name, tuple(g.qubits)): g for g in calibration.gates}

    def __repr__(self) -> str:
        return (
            f"<DeviceProperties {self.backend_name} at {self.last_update_date.isoformat()}: "
            f"{len(self.calibration.qubits)} qubits, {len(self._gates)} gate calibrations>"
        )

    @property
    def last_update_date(self) -> datetime:
        """When this calibration was taken."""
        return self.calibration.timestamp

    def _qubit(self, qubit: int) -> QubitCalibration:
        if not 0 <= qubit < len(self.calibration.qubits):
            raise VendorValidationError(
                f"qubit {qubit} is out of range: {self.backend_name} has qubits 0 to "
                f"{len(self.calibration.qubits) - 1}"
            )
        return self.calibration.qubits[qubit]

    def _gate(self, gate: str, qubits: int | Sequence[int]) -> GateCalibration:
        key = (gate, (qubits,) if isinstance(qubits, int) else tuple(qubits))
        if key not in self._gates:
            raise VendorValidationError(
                f"no calibration of {gate!r} on qubits {key[1]} for {self.backend_name}; "
                f"calibrated gates: {', '.join(sorted({name for name, _ in self._gates}))}"
            )
        return self._gates[key]

    def t1(self, qubit: int) -> float | None:
        """T1 of ``qubit`` in seconds."""
        return self._qubit(qubit).t1

    def t2(self, qubit: int) -> float | None:
        """T2 of ``qubit`` in seconds."""
        return self._qubit(qubit).t2

    def t2_star(self, qubit: int) -> float | None:
        """Ramsey (free-induction) T2* of ``qubit`` in seconds; None if not calibrated."""
        return self._qubit(qubit).t2_star

    def zz(self, qubit_a: int, qubit_b: int) -> float:
        """Always-on ZZ rate of a qubit pair in hertz (0.0 for an uncoupled pair)."""
        self._qubit(qubit_a)
        self._qubit(qubit_b)
        pair = {qubit_a, qubit_b}
        for coupling in self.calibration.couplings:
            if set(coupling.qubits) == pair:
                return coupling.zz_hz
        return 0.0

    def over_rotation(self, gate: str, qubits: int | Sequence[int]) -> float:
        """The coherent over-rotation (radians) in the error of ``gate`` on ``qubits``."""
        return self._gate(gate, qubits).over_rotation

    def frequency(self, qubit: int) -> float | None:
        """Frequency of ``qubit`` in hertz."""
        return self._qubit(qubit).frequency

    def readout_error(self, qubit: int) -> float:
        """Probability of reading the wrong bit on ``qubit``."""
        return self._qubit(qubit).readout_error

    def readout_length(self, qubit: int) -> float | None:
        """Duration of a measurement of ``qubit`` in seconds."""
        return self._qubit(qubit).readout_duration

    def gate_error(self, gate: str, qubits: int | Sequence[int]) -> float | None:
        """Average gate infidelity of ``gate`` on ``qubits``."""
        return self._gate(gate, qubits).error

    def gate_length(self, gate: str, qubits: int | Sequence[int]) -> float | None:
        """Duration of ``gate`` on ``qubits`` in seconds."""
        return self._gate(gate, qubits).duration

    def qubit_property(
        self, qubit: int, name: str | None = None
    ) -> dict[str, PropertyValue] | PropertyValue:
        """A qubit's calibrated figures, each with the time of the calibration.

        As IBM's ``BackendProperties.qubit_property``: names ``T1``, ``T2``, ``T2star``,
        ``frequency``, ``readout_error``, ``readout_length`` (SI units: seconds, hertz)
        and ``operational``; a figure the calibration does not have is not listed.

        Args:
            qubit: The qubit.
            name: One figure's name; None for all of them.

        Returns:
            ``(value, date)`` of the figure named, or a dict of every figure by name.

        Raises:
            VendorValidationError: the qubit is out of range, or it has no such figure
                (the message lists those it has).
        """
        figures = self._qubit(qubit)
        date = self.last_update_date
        values: dict[str, Any] = {
            "T1": figures.t1,
            "T2": figures.t2,
            "T2star": figures.t2_star,
            "frequency": figures.frequency,
            "readout_error": figures.readout_error,
            "readout_length": figures.readout_duration,
            "operational": figures.operational,
        }
        found = {key: (value, date) for key, value in values.items() if value is not None}
        if name is None:
            return found
        if name not in found:
            raise VendorValidationError(
                f"qubit {qubit} of {self.backend_name} has no calibrated {name!r}; it has "
                f"{', '.join(found)}"
            )
        return found[name]

    def is_qubit_operational(self, qubit: int) -> bool:
        """Whether ``qubit`` is in service (not marked faulty) in this calibration."""
        return self._qubit(qubit).operational

    def is_gate_operational(self, gate: str, qubits: int | Sequence[int]) -> bool:
        """Whether ``gate`` on ``qubits`` is in service by its own flag (IBM's semantics).

        A gate on a faulty qubit cannot run either way: see :meth:`is_qubit_operational`.
        """
        return self._gate(gate, qubits).operational

    def faulty_qubits(self) -> list[int]:
        """The qubits this calibration marks out of service, ascending (IBM's semantics)."""
        return list(faulty_elements(self.calibration).qubits)

    def faulty_gates(self) -> list[GateProperties]:
        """The gates this calibration marks out of service, each with its qubits.

        As IBM's ``faulty_gates()``: the gates flagged themselves (a gate that is only
        on a faulty qubit is not listed; see :meth:`faulty_qubits`).
        """
        return [
            GateProperties(gate=name, qubits=list(qargs))
            for name, qargs in faulty_elements(self.calibration).gates
        ]

    def to_dict(self) -> dict[str, Any]:
        """The snapshot as JSON-compatible data (the API's calibration document)."""
        data: dict[str, Any] = self.calibration.model_dump(mode="json")
        data["backend_name"] = self.backend_name
        return data
