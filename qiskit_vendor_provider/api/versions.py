"""API versions: what client and server tell each other, and how they compare.

The major version is in the path (``/v1``); the minor version grows when the API gains
something a client may use (a field, a state, a query value, a route) without taking
anything away, so a client of API 1.x works with every 1.y server for everything it
knew at 1.x. Each request names the client's API version and package version in
headers, and each answer the server's: see ``docs/api-contract.md`` for the policy.

>>> parse_api_version("1.1"), parse_api_version(" 2.0 "), parse_api_version("v1")
((1, 1), (2, 0), None)
>>> parse_api_version(None), format_api_version((1, 0))
(None, '1.0')
"""

from __future__ import annotations

import re

API_VERSION = "1.5"
"""The newest API version this package speaks (as a client, and as the emulator).

1.0: the first release. 1.1: version headers; a job state a client does not know is
final once the job has an ``ended_at``; ``GET /v1/jobs?status=`` takes any state name
(a server refuses one it does not have); a device's ``control_flow`` may name
operations a client does not know; jobs of a device the server no longer serves stay
listed (their queued ones fail with "device withdrawn"). 1.2: a program's ``row_block``
(consecutive rows the client pools, such as the randomizations of one binding). 1.3:
calibration ids (``Calibration.calibration_id``, ``JobInfo.calibration_id``, a job's
``calibration_id`` pin, ``GET /v1/jobs?calibration_id=``, ``GET
/v1/devices/{name}/calibrations`` and ``.../calibration?calibration_id=``). 1.4:
results carry per-shot memory packed (``result_format`` 2), to clients that name 1.4.
1.5: ``POST /v1/jobs?wait=`` holds the answer while a job that starts at once runs,
and a job that ended DONE meanwhile comes with its result (``SubmittedJob.result``).
"""

ROW_BLOCK_API_VERSION = (1, 2)
"""The first API version whose servers take a program's ``row_block``."""

CALIBRATION_API_VERSION = (1, 3)
"""The first API version whose servers keep calibrations by id (and take a pin)."""

PACKED_RESULTS_API_VERSION = (1, 4)
"""The first API version whose clients read packed per-shot memory (result format 2)."""

EARLY_RESULT_API_VERSION = (1, 5)
"""The first API version whose servers hold a submission for its result (``?wait=``)."""

BASELINE_API_VERSION = "1.0"
"""What a request that names no API version is taken to speak (clients before 1.1)."""

API_VERSION_HEADER = "X-Vendor-API-Version"
"""Request: the client's API version. Answer: the server's."""

CLIENT_VERSION_HEADER = "X-Vendor-Client-Version"
"""Request: the client package and its version, e.g. ``qiskit-vendor-provider/0.1.0``."""

SERVER_VERSION_HEADER = "X-Vendor-Server-Version"
"""Answer: the server software and its version."""

WARNING_HEADER = "X-Vendor-Warning"
"""Answer: a message for the user of an older client (shown once by the client)."""

_VERSION = re.compile(r"^\s*(\d{1,6})\.(\d{1,6})\s*$")


def parse_api_version(value: str | None) -> tuple[int, int] | None:
    """``"MAJOR.MINOR"`` as a pair of integers; None when absent or malformed."""
    if value is None:
        return None
    match = _VERSION.match(value)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def format_api_version(version: tuple[int, int]) -> str:
    """A version pair as ``"MAJOR.MINOR"``."""
    return f"{version[0]}.{version[1]}"


CURRENT = parse_api_version(API_VERSION) or (1, 0)
BASELINE = parse_api_version(BASELINE_API_VERSION) or (1, 0)


def client_notices(server: str, api_version: str | None, warning: str | None) -> list[str]:
    """What a client should tell its user about an answer's version headers (maybe nothing).

    Args:
        server: The server's URL, for messages.
        api_version: The answer's ``X-Vendor-API-Version`` (None: a server before 1.1).
        warning: The answer's ``X-Vendor-Warning``, if any.

    >>> client_notices("https://q.example", "1.1", None)
    []
    >>> client_notices("https://q.example", "1.9", None)[0][:59]
    'the server https://q.example speaks API 1.9, newer than the'
    """
    notices = []
    version = parse_api_version(api_version)
    if version is not None and version > CURRENT:
        notices.append(
            f"the server {server} speaks API {format_api_version(version)}, newer than the "
            f"{API_VERSION} this version of qiskit-vendor-provider knows. What this package "
            "does still works (the server keeps older clients working); to use what is new, "
            "upgrade: pip install -U qiskit-vendor-provider"
        )
    if warning:
        notices.append(f"the server {server} says: {warning.strip()}")
    return notices
