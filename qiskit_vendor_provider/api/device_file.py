"""Device files: a device's spec, limits and one calibration, as one JSON document.

The emulator's catalog serves them as fake devices, and ``qiskit-vendor device snapshot``
writes one from what a server reports (see ``docs/devices.md``). A file is a
:class:`~qiskit_vendor_provider.api.models.DeviceSpec` in JSON; a malformed one is
refused with a :class:`~qiskit_vendor_provider.errors.DeviceFileError` naming the file
and the fields at fault.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from qiskit_vendor_provider.api.models import DeviceSpec
from qiskit_vendor_provider.errors import DeviceFileError


def validation_problems(error: ValidationError, limit: int = 5) -> str:
    """The first problems of a validation error, each as ``field.path: message``.

    >>> try:
    ...     DeviceSpec.model_validate({"name": "x", "num_qubits": 0, "native_operations": []})
    ... except ValidationError as exc:
    ...     print(validation_problems(exc))
    num_qubits: Input should be greater than or equal to 1
    """
    parts = []
    for item in error.errors(include_url=False)[:limit]:
        where = ".".join(str(part) for part in item["loc"]) or "the document"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def read_device_file(path: Path | str) -> DeviceSpec:
    """Read and validate one device file.

    Raises:
        DeviceFileError: the file cannot be read, is not JSON, or a field is missing or
            wrong (named, with the fix).
    """
    where = Path(path)
    try:
        text = where.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DeviceFileError(
            f"cannot read device file {where}: {exc}; give the path of a JSON file "
            "written by `qiskit-vendor device snapshot` or in the format of docs/adding-a-device.md"
        ) from None
    try:
        return DeviceSpec.model_validate_json(text)
    except ValidationError as exc:
        raise DeviceFileError(
            f"device file {where} is not a valid device: {validation_problems(exc)}; fix "
            "those fields (docs/adding-a-device.md lists them), or take a new snapshot"
        ) from None


def write_device_file(spec: DeviceSpec, path: Path | str) -> Path:
    """Write ``spec`` as a device file (in service, whatever its status was); the path."""
    where = Path(path)
    served = spec.model_copy(update={"operational": True, "status_message": ""})
    where.write_text(served.model_dump_json(indent=2, exclude_none=True) + "\n", encoding="utf-8")
    return where
