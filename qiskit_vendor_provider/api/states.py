"""The one table of job states: what each state a server reports means, and which are final.

The client's :func:`~qiskit_vendor_provider.job.job_status` (to Qiskit's ``JobStatus``),
the journal, the CLI and the emulator's store and long poll all read this table, so they
cannot disagree about whether a job is over. It names ``JobStatus`` members by name: this
layer does not import Qiskit.

>>> STATES["FAILED"], is_final("done"), is_final("RUNNING"), is_final("COMPILING")
(('ERROR', True), True, False, False)
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

FINAL_SERVER_STATES = frozenset(
    state for state, (_, final) in STATES.items() if final and state != "FAILED"
)
"""The final states a v1 server (the emulator) stores."""

ACTIVE_SERVER_STATES = ("QUEUED", "RUNNING")
"""The states of a job a v1 server still has to run: what counts toward limits and queues."""


def is_final(state: str) -> bool:
    """Whether a state a server reported is final; one this table does not know is not."""
    return STATES.get(state.strip().upper(), ("RUNNING", False))[1]
