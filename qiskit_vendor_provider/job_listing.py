"""Job listing: the user's filters checked and turned into server queries, pages followed.

The server does the filtering (``GET /v1/jobs``); this module makes sure nothing it is
sent is wrong (every bad filter raises before any HTTP call) and walks its pages, so
``backend.jobs(limit=500)`` returns 500 jobs whatever the server's page size.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, TypeAlias

from pydantic import ValidationError
from qiskit.providers import JobStatus

from qiskit_vendor_provider.api.client import ApiClient
from qiskit_vendor_provider.api.models import MAX_PAGE_SIZE, JobInfo, JobQuery
from qiskit_vendor_provider.api.secret import redacting_logger
from qiskit_vendor_provider.api.states import STATES, is_known_state
from qiskit_vendor_provider.calibrations import check_calibration_id
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.job import job_status, server_states
from qiskit_vendor_provider.name_filter import name_pattern_problem

logger = redacting_logger(__name__)

StatusFilter: TypeAlias = JobStatus | str | Sequence[JobStatus | str] | None

ACTIVE = (JobStatus.INITIALIZING, JobStatus.VALIDATING, JobStatus.QUEUED, JobStatus.RUNNING)


_STATE_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
_passed_states: set[str] = set()


def _statuses(status: StatusFilter) -> list[str] | None:
    """Server states for a status filter; None means no filter.

    A :class:`JobStatus` or a state name this client knows becomes the v1 states it
    stands for. Any other name (``"EXPIRED"``: a state a newer server added) is sent to
    the server as it is, in upper case, with a warning the first time: the server,
    which knows its states, does the filtering, and a name it does not have matches no
    job.
    """
    if status is None:
        return None
    items = [status] if isinstance(status, (str, JobStatus)) else list(status)
    states: list[str] = []
    for item in items:
        if isinstance(item, JobStatus):
            found = server_states(item)
        elif isinstance(item, str) and is_known_state(item):
            found = server_states(job_status(item))
        elif isinstance(item, str) and _new_state(item):
            name = item.strip().upper()
            if name not in _passed_states:
                _passed_states.add(name)
                logger.warning(
                    "status=%r is not a job state this version of qiskit-vendor-provider "
                    "knows; it is sent to the server as it is",
                    name,
                )
            found = [name]
        else:
            names = ", ".join(s.name for s in JobStatus)
            close = _close_state(item) if isinstance(item, str) else None
            hint = f" Did you mean {close}?" if close else ""
            raise VendorValidationError(
                f"status={item!r} is not a job status.{hint} Give a JobStatus, one of "
                f"{names}, or the exact name of a state the server reports (letters, "
                "digits and _)"
            )
        states.extend(s for s in found if s not in states)
    return states


def _close_state(name: str) -> str | None:
    """The known state ``name`` is probably a typo of (``DONEE``: ``DONE``), if any."""
    close = difflib.get_close_matches(name.strip().upper(), list(STATES), n=1, cutoff=0.8)
    return close[0] if close else None


def _new_state(name: str) -> bool:
    """Whether ``name`` may be a state a newer server added: well formed, and no typo.

    >>> _new_state("EXPIRED"), _new_state("expired"), _new_state("DONEE"), _new_state("a b")
    (True, True, False, False)
    """
    return bool(_STATE_NAME.fullmatch(name.strip().upper())) and _close_state(name) is None


def aware_moment(value: object, name: str) -> dt.datetime | None:
    """``value`` as a timezone-aware datetime (naive: local time), or None.

    Raises:
        VendorValidationError: not a datetime, or one so near year 1 or 9999 that it
            cannot be converted to UTC (``datetime(1, 1, 1)`` in a timezone east of UTC).
    """
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise VendorValidationError(
            f"{name}={value!r} must be a datetime, e.g. datetime.datetime(2026, 11, 1)"
        )
    try:
        # A naive datetime is the user's local time, as everywhere else in Python.
        aware = value if value.tzinfo is not None else value.astimezone()
        aware.astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):
        raise VendorValidationError(
            f"{name}={value!r} is out of range: it cannot be converted to UTC; give a date "
            "between the years 2 and 9998, e.g. datetime.datetime(2026, 11, 1), or None "
            "for no bound"
        ) from None
    return aware


_moment = aware_moment


def build_query(
    *,
    device: str | None = None,
    status: StatusFilter = None,
    job_name: str | None = None,
    start_datetime: dt.datetime | None = None,
    end_datetime: dt.datetime | None = None,
    job_tags: Sequence[str] | None = None,
    job_tags_operator: Literal["OR", "AND"] | str = "OR",
    descending: bool = True,
    session_id: str | None = None,
    calibration_id: str | None = None,
) -> JobQuery | None:
    """Check listing filters and build the server query; None if nothing can match.

    Raises:
        VendorValidationError: a filter of the wrong type or value, named with the fix.
    """
    states = _statuses(status)
    if states is not None and not states:
        return None  # e.g. VALIDATING: a state v1 servers never report
    if job_name is not None:
        if not isinstance(job_name, str):
            raise VendorValidationError(
                f"job_name={job_name!r} must be a regular expression string"
            )
        if len(job_name) > 256:
            raise VendorValidationError(
                f"job_name is a {len(job_name)}-character pattern; the most is 256"
            )
        # The server's own rule: a pattern it would refuse is refused here, unsent.
        problem = name_pattern_problem(job_name)
        if problem is not None:
            raise VendorValidationError(f"job_name={job_name!r}: {problem}")
    if job_tags is not None and (
        isinstance(job_tags, str) or not all(isinstance(t, str) and t for t in job_tags)
    ):
        raise VendorValidationError(
            f"job_tags={job_tags!r} must be a list of non-empty strings, e.g. ['vqe']"
        )
    operator = str(job_tags_operator).upper()
    if operator not in ("OR", "AND"):
        raise VendorValidationError(
            f"job_tags_operator={job_tags_operator!r} must be 'OR' (any tag) or 'AND' (all tags)"
        )
    start = _moment(start_datetime, "start_datetime")
    end = _moment(end_datetime, "end_datetime")
    if start is not None and end is not None and start >= end:
        raise VendorValidationError(
            f"start_datetime ({start.isoformat()}) must be before end_datetime ({end.isoformat()})"
        )
    if session_id is not None and not isinstance(session_id, str):
        raise VendorValidationError(
            f"session_id={session_id!r} must be a session id (a string), e.g. session.session_id"
        )
    if device is not None and not isinstance(device, str):
        raise VendorValidationError(f"backend_name={device!r} must be a device name (a string)")
    if not isinstance(descending, bool):
        raise VendorValidationError(
            f"descending={descending!r} must be True (newest first) or False (oldest first)"
        )
    try:
        return JobQuery(
            device=device,
            status=states or [],
            name=job_name,
            tags=list(job_tags or []),
            tags_operator=operator,  # type: ignore[arg-type]
            created_after=start,
            created_before=end,
            order="desc" if descending else "asc",
            session_id=session_id,
            calibration_id=None if calibration_id is None else check_calibration_id(calibration_id),
        )
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise VendorValidationError(
            f"invalid job filter ({where}): {first['msg']}; see help(backend.jobs)"
        ) from None


def given_filters(arguments: Mapping[str, Any], *, leave_out: Sequence[str] = ()) -> dict[str, Any]:
    """The arguments of a ``jobs()`` method, from its ``locals()``, to pass on by name.

    ``provider.jobs`` and ``backend.jobs`` keep IBM's two positional orders, but each
    filter is named once, in :func:`build_query`: a method hands on what it was given
    instead of forwarding its arguments one by one (where a new filter could be missed).
    ``self``, the refused ``**unsupported`` and the names in ``leave_out`` are left out.
    """
    skipped = {"self", "unsupported", *leave_out}
    return {name: value for name, value in arguments.items() if name not in skipped}


def check_window(limit: int | None, skip: int) -> None:
    """Raise unless ``limit`` is None or a whole number ≥ 0 and ``skip`` a whole number ≥ 0."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise VendorValidationError(f"limit={limit!r} must be a whole number ≥ 0, or None for all")
    if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
        raise VendorValidationError(f"skip={skip!r} must be a whole number ≥ 0")


def iter_jobs(
    client: ApiClient, query: JobQuery | None, *, limit: int | None, skip: int
) -> Iterator[JobInfo]:
    """The jobs matching ``query``, from the ``skip``-th on, ``limit`` at most (None: all).

    Pages are fetched as they are consumed, each as large as the server allows.
    """
    if query is None or limit == 0:
        return
    offset = skip
    remaining = limit
    while True:
        size = MAX_PAGE_SIZE if remaining is None else min(MAX_PAGE_SIZE, remaining)
        page = client.list_jobs(query.model_copy(update={"offset": offset, "limit": size}))
        yield from page.jobs
        if remaining is not None:
            remaining -= len(page.jobs)
            if remaining <= 0:
                return
        if page.next_offset is None or not page.jobs:
            return
        offset = page.next_offset
