"""The emulator's device catalog: one JSON file per device, validated by ``DeviceSpec``.

A vendor engineer adds a device by adding a file to ``devices/`` (or to a directory named
in the emulator's configuration); no code changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.resources import files
from pathlib import Path

from pydantic import ValidationError
from qiskit.transpiler import Target

from qiskit_vendor_provider.api.device_file import read_device_file
from qiskit_vendor_provider.api.models import DeviceSpec
from qiskit_vendor_provider.emulator.lowering import unrunnable_operations
from qiskit_vendor_provider.emulator.scheduling import off_clock_durations
from qiskit_vendor_provider.errors import DeviceFileError, VendorApiError
from qiskit_vendor_provider.target import build_target, operation_qargs, unknown_operations


class CatalogError(ValueError):
    """A device file is missing, unreadable or not a valid device spec."""


def load_spec(path: Path) -> DeviceSpec:
    """Read and validate one device file.

    Raises:
        CatalogError: naming the file and the first problems found.
    """
    spec = _read_spec(path)
    check_runnable(spec, where=f"device file {path}")
    return spec


def _read_spec(path: Path) -> DeviceSpec:
    """One device file, parsed and named after its device, not yet checked as runnable."""
    try:
        spec = DeviceSpec.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"cannot read device file {path}: {exc}") from None
    except ValidationError as exc:
        raise CatalogError(f"device file {path} is not a valid device spec: {exc}") from None
    if spec.name != path.stem:
        raise CatalogError(f"device file {path} must be named {spec.name}.json")
    return spec


def load_spec_file(path: Path) -> DeviceSpec:
    """Read one device file of any name (a snapshot), checked as :func:`load_spec` does.

    Raises:
        DeviceFileError: naming the file and the fields at fault.
    """
    spec = read_device_file(path)
    try:
        check_runnable(spec, where=f"device file {path}")
    except CatalogError as exc:
        raise DeviceFileError(str(exc)) from None
    return spec


def check_runnable(spec: DeviceSpec, *, where: str = "") -> None:
    """Refuse a device that lists an operation the emulator cannot simulate.

    A device advertises only what its simulator runs: a program that passes the
    device's rules must not fail inside Aer with "unknown instruction".

    Raises:
        CatalogError: naming the device and every such operation.
    """
    where = where or f"device {spec.name!r}"
    # The client tolerates what it does not know (a newer server's devices); a device
    # file of this emulator must not list it.
    unknown = unknown_operations(spec)
    if unknown:
        listed = "; ".join(f"{name!r}: {why}" for name, why in unknown.items())
        raise CatalogError(f"{where} lists operations this package cannot use: {listed}")
    try:
        problems = unrunnable_operations(spec)
    except VendorApiError as exc:  # a name outside Qiskit's standard library
        raise CatalogError(f"{where}: {exc}") from None
    if problems:
        raise CatalogError(
            f"{where} lists operations the emulator cannot simulate: {'; '.join(problems)}"
        )
    off_clock = off_clock_durations(spec)
    if off_clock:
        raise CatalogError(f"{where} has durations off its clock: {'; '.join(off_clock[:5])}")
    stray = stray_faulty_gates(spec)
    if stray:
        raise CatalogError(
            f"{where} marks gates faulty that it does not have: {'; '.join(stray[:5])}; mark "
            "a native operation on qubits it lists (operational: false), or remove the flag"
        )


def stray_faulty_gates(spec: DeviceSpec) -> list[str]:
    """Gates the calibration marks out of service that are not native on those qubits.

    Such a flag takes nothing out of the Target, so the device file says one thing and
    the device does another: most likely a typo (``[13, 12]`` for a coupler listed as
    ``[12, 13]``).

    Returns:
        One line per such gate, naming it and its qubits.
    """
    if spec.calibration is None:
        return []
    natives = {op.name: op for op in spec.native_operations}
    stray = []
    for gate in spec.calibration.gates:
        if gate.operational:
            continue
        op = natives.get(gate.name)
        qargs = tuple(gate.qubits)
        if op is None:
            stray.append(f"{gate.name} on {list(qargs)}: not a native operation")
        elif qargs not in operation_qargs(op, spec.num_qubits):
            stray.append(f"{gate.name} on {list(qargs)}: the device has no {gate.name} there")
    return stray


def builtin_device_dir() -> Path:
    """The directory of the devices shipped with the package."""
    return Path(str(files("qiskit_vendor_provider.emulator") / "devices"))


class DeviceCatalog:
    """Device specs by name, and the Target of each, built once.

    Args:
        specs: The devices; names must be unique.
    """

    def __init__(self, specs: Iterable[DeviceSpec]) -> None:
        self._specs: dict[str, DeviceSpec] = {}
        self._targets: dict[str, Target] = {}
        self._add(specs, checked=())

    def _add(self, specs: Iterable[DeviceSpec], *, checked: Iterable[DeviceSpec]) -> None:
        """Add ``specs``, each checked as runnable unless it is one of ``checked``."""
        done = {id(spec) for spec in checked}
        for spec in specs:
            if spec.name in self._specs:
                raise CatalogError(f"device {spec.name!r} is defined twice")
            if id(spec) not in done:
                check_runnable(spec)
            self._specs[spec.name] = spec

    @classmethod
    def from_directories(
        cls, *directories: Path, extra: Iterable[DeviceSpec] = ()
    ) -> DeviceCatalog:
        """Every ``*.json`` file of the given directories, and the ``extra`` devices.

        With neither directories nor extra devices: the shipped devices.
        """
        more = list(extra)
        dirs = directories or (() if more else (builtin_device_dir(),))
        found = [load_spec(path) for d in dirs for path in sorted(Path(d).glob("*.json"))]
        # load_spec checked each file (naming it in any error): not checked twice, which
        # was about 5 ms of every emulator's start (a Qiskit gate mapping per operation).
        catalog = cls([])
        catalog._add([*found, *more], checked=found)
        return catalog

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[DeviceSpec]:
        return iter(self._specs.values())

    def names(self) -> list[str]:
        """Device names, sorted."""
        return sorted(self._specs)

    def spec(self, name: str) -> DeviceSpec:
        """The spec of device ``name`` (KeyError if unknown)."""
        return self._specs[name]

    def target(self, name: str) -> Target:
        """The Target of device ``name``, built on first use."""
        if name not in self._targets:
            self._targets[name] = build_target(self._specs[name])
        return self._targets[name]
