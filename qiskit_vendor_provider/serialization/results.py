"""Client side: the server's ``JobResult`` → :class:`qiskit.result.Result`.

Memory in result format 2 stays packed (:class:`~qiskit_vendor_provider.api.shots.PackedMemory`);
from an older server it is the hex strings it sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from qiskit.result import Result

from qiskit_vendor_provider.api import models
from qiskit_vendor_provider.api.shots import PackedCounts, PackedMemory, unpack_row
from qiskit_vendor_provider.errors import VendorJobError

__all__ = ["to_qiskit_result"]


def _experiment(
    program: models.ProgramResult,
    data: models.BindingResult | None,
    header: dict[str, Any],
) -> dict[str, Any]:
    experiment: dict[str, Any] = {
        "shots": program.shots,
        "success": program.success,
        "status": program.status or ("DONE" if program.success else "ERROR"),
        "header": header,
        "data": {},
    }
    if data is not None:
        experiment["data"] = _row_data(program, data)
    if program.seed_simulator is not None:
        experiment["seed_simulator"] = program.seed_simulator
    return experiment


def _row_data(program: models.ProgramResult, data: models.BindingResult) -> dict[str, Any]:
    """A row's ``counts`` and ``memory``, from either result format.

    Packed memory (format 2) stays packed (:func:`~.api.shots.unpack_row`): ``memory``
    reads as Qiskit's hex strings, so a million shots cost their bytes, not a million
    strings, until someone asks for them.

    Raises:
        VendorJobError: the row has neither counts nor memory, or its packed memory
            does not hold ``shots`` shots.
    """
    unpack_row(program, data)
    if data.counts is None:
        raise VendorJobError(
            "the server sent a result row with neither counts nor memory; upgrade "
            "qiskit-vendor-provider (pip install -U qiskit-vendor-provider)"
        )
    counts = data.counts if isinstance(data.counts, PackedCounts) else dict(data.counts)
    row: dict[str, Any] = {"counts": counts}
    if data.memory is not None:
        memory = data.memory
        row["memory"] = memory if isinstance(memory, PackedMemory) else list(memory)
    return row


def to_qiskit_result(
    job_result: models.JobResult,
    *,
    backend_name: str,
    backend_version: str,
    metadata: Iterable[dict[str, Any] | None] | None = None,
    ended_at: datetime | None = None,
) -> Result:
    """Build a Qiskit Result: one experiment per program and parameter row, in order.

    Args:
        job_result: The server's answer.
        backend_name: Name reported in the Result.
        backend_version: Version reported in the Result.
        metadata: Per program, the original circuit metadata, when the caller still has it
            (exact objects instead of their JSON copies).
        ended_at: When the job ended, if the answer does not say (an older server).
            ``Result.date`` is that moment in ISO 8601, as Aer's results give it.
    """
    originals = list(metadata) if metadata is not None else []
    ended = job_result.ended_at or ended_at
    experiments: list[dict[str, Any]] = []
    for index, program in enumerate(job_result.results):
        header = program.header.model_dump()
        header["creg_sizes"] = [list(pair) for pair in header["creg_sizes"]]
        header["qreg_sizes"] = [list(pair) for pair in header["qreg_sizes"]]
        if index < len(originals) and originals[index] is not None:
            header["metadata"] = originals[index]
        rows: Sequence[models.BindingResult | None] = program.data or [None]
        experiments.extend(_experiment(program, data, header) for data in rows)
    return Result.from_dict(
        {
            "backend_name": backend_name,
            "backend_version": backend_version,
            "job_id": job_result.job_id,
            "qobj_id": job_result.job_id,
            "success": job_result.success,
            "status": job_result.status,
            "results": experiments,
            "time_taken": job_result.time_taken,
            "date": None if ended is None else ended.isoformat(),
        }
    )
