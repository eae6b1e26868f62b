"""``backend.configuration()`` and ``backend.defaults()``, for tools that still read them.

Qiskit 2 removed ``BackendV1`` and its configuration and pulse-defaults classes, but
tools written against IBM backends still call ``backend.configuration()`` on a
``BackendV2`` (mthree 3.0 reads ``num_qubits``, ``max_shots``, ``simulator`` and
``max_experiments``; Qiskit's ``filter_backends`` asks ``key in configuration``). These
classes carry those attributes, with IBM's names and units (SI: seconds, hertz), taken
from the device spec and its Target, so they agree with :attr:`VendorBackend.target`
(faulty qubits and couplers left out of ``coupling_map`` included).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES
from qiskit.transpiler import Target

from qiskit_vendor_provider.api.models import DeviceSpec

# Operations of the Target that are not gates of a basis: IBM lists them among its
# configuration's supported_instructions only.
_NOT_BASIS = frozenset({"measure", "reset", "delay", "barrier", *CONTROL_FLOW_OP_NAMES})


@dataclass(frozen=True)
class BackendConfiguration:
    """A device's static description, as IBM's ``QasmBackendConfiguration`` gives it.

    Attributes:
        backend_name: The device.
        backend_version: The device spec's version.
        n_qubits: How many qubits the device has (faulty ones included).
        basis_gates: The native gates, sorted (not measure, reset, delay, control flow).
        supported_instructions: Every operation of the Target, sorted.
        coupling_map: The directed qubit pairs a two-qubit gate acts on, faulty ones
            left out; None for an all-to-all device.
        simulator: Whether the device is a simulator.
        local: False: the device is reached through the API.
        conditional: Whether circuits may branch on measurements (``if_else``).
        open_pulse: False: no pulse-level access (Qiskit 2 has no pulse).
        memory: True: per-shot results are available.
        max_shots: The most shots per job.
        max_experiments: The most circuits per job.
        dt: The device's clock period in seconds, or None.
        rep_delay_range: The shortest and longest wait between shots a job may ask
            for, in seconds; None when it cannot ask.
        default_rep_delay: The wait between shots when a job does not ask, in seconds.
        description: The vendor's description.
    """

    backend_name: str
    backend_version: str
    n_qubits: int
    basis_gates: list[str]
    supported_instructions: list[str]
    coupling_map: list[list[int]] | None
    simulator: bool
    local: bool
    conditional: bool
    open_pulse: bool
    memory: bool
    max_shots: int
    max_experiments: int
    dt: float | None
    rep_delay_range: list[float] | None
    default_rep_delay: float | None
    description: str

    @property
    def num_qubits(self) -> int:
        """How many qubits the device has (``n_qubits``)."""
        return self.n_qubits

    @property
    def max_circuits(self) -> int:
        """The most circuits per job (``max_experiments``)."""
        return self.max_experiments

    def __contains__(self, item: object) -> bool:
        # Qiskit's filter_backends asks ``key in backend.configuration()``.
        return item in self.__dataclass_fields__ or item in ("num_qubits", "max_circuits")

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a dict of plain values."""
        return asdict(self)


@dataclass(frozen=True)
class BackendDefaults:
    """What is left of IBM's pulse defaults in Qiskit 2: the frequency estimates.

    Attributes:
        qubit_freq_est: Each qubit's frequency in hertz, from the calibration (None
            where it has none).
        meas_freq_est: Each readout resonator's frequency in hertz: the device does not
            publish them, so the list is empty.
        buffer: Time between pulses, in ``dt``: 0, there is no pulse access.
    """

    qubit_freq_est: list[float | None]
    meas_freq_est: list[float]
    buffer: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The defaults as a dict of plain values."""
        return asdict(self)


def backend_configuration(spec: DeviceSpec, target: Target) -> BackendConfiguration:
    """The configuration of the device ``spec`` describes, whose Target is ``target``.

    >>> from qiskit_vendor_provider.api.models import NativeOperation
    >>> from qiskit_vendor_provider.target import build_target
    >>> spec = DeviceSpec(name="d", num_qubits=2, native_operations=[
    ...     NativeOperation(name="cz", num_qubits=2, qubits=[[0, 1]]),
    ...     NativeOperation(name="measure", num_qubits=1)])
    >>> config = backend_configuration(spec, build_target(spec))
    >>> config.num_qubits, config.basis_gates, config.coupling_map, "max_shots" in config
    (2, ['cz'], [[0, 1]], True)
    """
    names = sorted(target.operation_names)
    coupling = target.build_coupling_map()
    limits = spec.limits
    return BackendConfiguration(
        backend_name=spec.name,
        backend_version=spec.version,
        n_qubits=spec.num_qubits,
        basis_gates=[name for name in names if name not in _NOT_BASIS],
        supported_instructions=names,
        coupling_map=None if coupling is None else [list(e) for e in coupling.get_edges()],
        simulator=spec.simulator,
        local=False,
        conditional="if_else" in names,
        open_pulse=False,
        memory=True,
        max_shots=limits.max_shots,
        max_experiments=limits.max_circuits,
        dt=spec.dt,
        rep_delay_range=None if spec.rep_delay_range is None else list(spec.rep_delay_range),
        default_rep_delay=spec.default_rep_delay,
        description=spec.description,
    )


def backend_defaults(spec: DeviceSpec) -> BackendDefaults | None:
    """The frequency estimates of a calibrated device; None for an ideal one.

    IBM's simulators answer ``defaults()`` with None too.
    """
    if spec.calibration is None:
        return None
    return BackendDefaults(
        qubit_freq_est=[q.frequency for q in spec.calibration.qubits], meas_freq_est=[]
    )
