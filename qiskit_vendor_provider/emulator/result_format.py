"""A result as stored (format 2), and as an older client reads it (format 1, hex memory).

Results are stored as the worker made them, in result format 2 (packed memory, counts
left to the client). A client that names an API version before 1.4 cannot read that,
so its answer is rewritten: memory as hex strings, counts on every row.
"""

from __future__ import annotations

from qiskit_vendor_provider.api.models import JobResult
from qiskit_vendor_provider.api.shots import (
    HEX_RESULT_FORMAT,
    PACKED_RESULT_FORMAT,
    counts_of,
    decode_packed,
    hex_memory,
)
from qiskit_vendor_provider.api.versions import PACKED_RESULTS_API_VERSION

__all__ = ["result_for_client", "stored_result"]


def stored_result(result: JobResult) -> bytes:
    """The JSON the store keeps of a worker's result: format 2, counts left to the client.

    A row with packed memory drops its counts (the client counts the shots itself: they
    were 15% of a packed answer); empty fields are left out.
    """
    for program in result.results:
        for row in program.data:
            if row.packed_memory is not None:
                row.counts = None
    result.result_format = PACKED_RESULT_FORMAT
    return result.model_dump_json(exclude_none=True).encode()


def result_for_client(body: str, client_api: tuple[int, int]) -> str:
    """The stored result JSON ``body`` as a client of API ``client_api`` reads it.

    >>> result_for_client('{"result_format": 2}', (1, 3))
    '{"result_format": 2}'
    """
    marker = f'"result_format":{PACKED_RESULT_FORMAT}'
    if client_api >= PACKED_RESULTS_API_VERSION or marker not in body:
        return body
    result = JobResult.model_validate_json(body)
    for program in result.results:
        for row in program.data:
            if row.packed_memory is None:
                continue
            packed = decode_packed(
                row.packed_memory, shots=program.shots, num_bits=program.num_clbits or 0
            )
            row.memory = hex_memory(packed)
            row.counts = counts_of(packed)
            row.packed_memory = None
    result.result_format = HEX_RESULT_FORMAT
    return result.model_dump_json(exclude_none=True)
