"""The one table of job states: what each state a server reports means, and which are final.

The client's :func:`~qiskit_vendor_provider.job.job_status` (to Qiskit's ``JobStatus``),
the journal, the CLI and the emulator's store and long poll all read this table through
:func:`state_meaning`, so they cannot disagree about whether a job is over. It names
``JobStatus`` members by name: this layer does not import Qiskit.

A newer server may report a state this table does not know (``EXPIRED``, say). Such a
state means :data:`UNKNOWN_ENDED` (``ERROR``, final) once the server says the job ended
(its ``ended_at`` is set), and :data:`UNKNOWN_IN_PROGRESS` (``RUNNING``) until then: a
wait for it always ends when the server ends the job, and never ends early.

>>> STATES["FAILED"], is_final("done"), is_final("RUNNING"), is_final("COMPILING")
(('ERROR', True), True, False, False)
>>> state_meaning("EXPIRED"), state_meaning("EXPIRED", ended=True)
(('RUNNING', False), ('ERROR', True))
>>> sorted(FINAL_SERVER_STATES), ACTIVE_SERVER_STATES
(['CANCELLED', 'DONE', 'ERROR'], ('QUEUED', 'RUNNING'))
"""

from __future__ import annotations

STATES: dict[str, tuple[str, bool]] = {
    "INITIALIZING": ("INITIALIZING", False),
    "VALIDATING": ("VALIDATING", False),
    "QUEUED": ("QUEUED", False),
    "RUNNING": ("RUNNING", False),
    "DONE": ("DONE", True),
    "ERROR": ("ERROR", True),
    "FAILED": ("ERROR", True),
    "CANCELLED": ("CANCELLED", True),
}
"""Server state (upper case) → (``JobStatus`` member name, whether the state is final)."""

UNKNOWN_IN_PROGRESS = ("RUNNING", False)
"""What a state this table does not know means while the job has not ended."""

UNKNOWN_ENDED = ("ERROR", True)
"""What a state this table does not know means once the server says the job ended: final,
without a result this client can vouch for (``result()`` still asks the server for one)."""

FINAL_SERVER_STATES = frozenset(
    state for state, (_, final) in STATES.items() if final and state != "FAILED"
)
"""The final states a v1 server (the emulator) stores."""

ACTIVE_SERVER_STATES = ("QUEUED", "RUNNING")
"""The states of a job a v1 server still has to run: what counts toward limits and queues."""


def normalize_state(state: str) -> str:
    """A state as this table keys it (upper case, no surrounding blanks)."""
    return state.strip().upper()


def is_known_state(state: str) -> bool:
    """Whether this table knows ``state``."""
    return normalize_state(state) in STATES


def state_meaning(state: str, *, ended: bool = False) -> tuple[str, bool]:
    """The one mapping of a server state: (``JobStatus`` member name, whether it is final).

    Args:
        state: The state the server reported.
        ended: Whether the server says the job ended (it has an ``ended_at``). It
            decides only for a state this table does not know.
    """
    known = STATES.get(normalize_state(state))
    if known is not None:
        return known
    return UNKNOWN_ENDED if ended else UNKNOWN_IN_PROGRESS


def is_final(state: str, *, ended: bool = False) -> bool:
    """Whether a state a server reported is final (see :func:`state_meaning`)."""
    return state_meaning(state, ended=ended)[1]
