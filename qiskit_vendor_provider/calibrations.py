"""Calibrations by id on the client side: pins, drift warnings and a job's calibration.

A server of API 1.3 names every calibration (``calibration_id``), records the one each
job runs on, keeps its latest calibrations and runs a job on the one it pins. An older
server names none: everything here then answers None, or says in a typed error that the
server cannot do it, and never fails on the missing fields.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING

from qiskit_vendor_provider.api.models import (
    CALIBRATION_ID_PATTERN,
    Calibration,
    CalibrationInfo,
    JobInfo,
)
from qiskit_vendor_provider.api.versions import CALIBRATION_API_VERSION, format_api_version
from qiskit_vendor_provider.errors import (
    CalibrationDriftWarning,
    VendorApiError,
    VendorNotFoundError,
    VendorValidationError,
)
from qiskit_vendor_provider.properties import DeviceProperties

if TYPE_CHECKING:
    from qiskit_vendor_provider.api.client import ApiClient

_ID = re.compile(CALIBRATION_ID_PATTERN)


def check_calibration_id(calibration_id: object) -> str:
    """A calibration id as the API writes them, or a typed error.

    >>> check_calibration_id("superconducting_27q-20428-3f2a9c1b")
    'superconducting_27q-20428-3f2a9c1b'
    """
    if not isinstance(calibration_id, str) or not _ID.fullmatch(calibration_id):
        raise VendorValidationError(
            f"calibration_id={calibration_id!r} is not a calibration id: take one from "
            "backend.calibration_id, job.calibration_id() or backend.calibrations()"
        )
    return calibration_id


def speaks_calibration_ids(client: ApiClient) -> bool | None:
    """Whether the server keeps calibrations by id (None: it has not said yet)."""
    spoken = client.server_api_version
    if not isinstance(spoken, tuple):
        return None
    return spoken >= CALIBRATION_API_VERSION


def _too_old(client: ApiClient, what: str) -> VendorApiError:
    spoken = client.server_api_version
    version = format_api_version(spoken) if isinstance(spoken, tuple) else "before 1.1"
    return VendorApiError(
        f"{what} needs a server that keeps calibrations by id (API "
        f"{format_api_version(CALIBRATION_API_VERSION)}); {client.base_url} speaks API "
        f"{version}. Use the current calibration (get_backend(name) without calibration_id)"
    )


def pinned_calibration(client: ApiClient, device: str, calibration_id: str) -> Calibration:
    """The calibration ``calibration_id`` of ``device``, as the server keeps it.

    Raises:
        CalibrationNotKeptError: the server does not keep it; the message names those it
            keeps.
        VendorApiError: the server keeps no calibrations by id (older than API 1.3).
    """
    check_calibration_id(calibration_id)
    calibration = client.get_calibration(device, calibration_id=calibration_id)
    if calibration.calibration_id != calibration_id:
        # An older server ignores the parameter and answers with its current calibration.
        raise _too_old(client, f"pinning {device!r} to calibration {calibration_id!r}")
    return calibration


def kept_calibrations(client: ApiClient, device: str) -> list[CalibrationInfo]:
    """The calibrations the server keeps for ``device``, oldest first.

    Raises:
        VendorApiError: the server keeps no calibrations by id (older than API 1.3).
    """
    if speaks_calibration_ids(client) is False:
        raise _too_old(client, "listing calibrations")
    return client.list_calibrations(device).calibrations


def current_calibration_id(client: ApiClient, device: str) -> str | None:
    """The id of the calibration the server has in force now (None: it names none)."""
    if speaks_calibration_ids(client) is False:
        return None
    kept = client.list_calibrations(device).calibrations
    return kept[-1].calibration_id if kept else None


def warn_on_drift(
    device: str, built_from: str | None, server: str | None, warned: set[str], *, pinned: bool
) -> None:
    """Warn once per server calibration that a backend's Target is from another one.

    Args:
        device: The device's name.
        built_from: The calibration the backend's Target was built from.
        server: The calibration the server has in force.
        warned: The server calibrations already warned about (updated).
        pinned: Whether the backend's jobs run on ``built_from`` whatever the server has.
    """
    if built_from is None or server is None or built_from == server or server in warned:
        return
    warned.add(server)
    runs_on = (
        f"its jobs still run on {built_from!r} (pinned)"
        if pinned
        else f"its jobs run on {server!r}, with figures the Target does not have"
    )
    warnings.warn(
        f"backend {device!r} was built from calibration {built_from!r}, but the server has "
        f"moved to {server!r}: {runs_on}. Call backend.refresh() to rebuild the Target from "
        "the current calibration (and transpile again)",
        CalibrationDriftWarning,
        stacklevel=5,  # warn_on_drift, _check_drift, _post, run: the caller of run()
    )


def job_properties(client: ApiClient, device: str, info: JobInfo) -> DeviceProperties | None:
    """The calibration a job ran on: by its id, or else the one in force when it started.

    Returns:
        None for a device without calibrations, or a job that has not started on a
        server that names no calibrations.

    Raises:
        CalibrationNotKeptError: the server no longer keeps the job's calibration.
    """
    if info.calibration_id is not None:
        calibration = client.get_calibration(device, calibration_id=info.calibration_id)
        return DeviceProperties(device, calibration)
    if info.started_at is None:
        return None
    try:
        return DeviceProperties(device, client.get_calibration(device, at=info.started_at))
    except VendorNotFoundError:  # an ideal simulator, or a start before the history
        return None
