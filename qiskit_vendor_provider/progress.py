"""The progress bar shown while a job is waited for."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from qiskit.providers import JobStatus
from tqdm import tqdm


def show_progress(option: bool | None, stream: TextIO | None = None) -> bool:
    """Whether to show a progress bar.

    ``True`` or ``False`` decide. ``None`` (the default) shows one only in an interactive
    session (a REPL or IPython) whose stderr is a terminal, so scripts, pipes, logs and
    CI never get one unless they ask.
    """
    if option is not None:
        return bool(option)
    stream = stream or sys.stderr
    interactive = hasattr(sys, "ps1") or "IPython" in sys.modules
    return interactive and stream.isatty()


class WaitProgress:
    """A one-line bar on stderr: the job's state, queue position and time waited.

    Args:
        job_id: The job waited for.
        enabled: Whether to draw anything.
    """

    def __init__(self, job_id: str, enabled: bool) -> None:
        self._bar = (
            tqdm(total=None, file=sys.stderr, bar_format="{desc} [{elapsed}]", leave=True)
            if enabled
            else None
        )
        self._job_id = job_id

    def update(self, status: JobStatus, queue_position: int | None) -> None:
        """Show the state just seen."""
        if self._bar is None:
            return
        where = f" (position {queue_position} in queue)" if queue_position else ""
        self._bar.set_description_str(f"job {self._job_id}: {status.name}{where}")
        self._bar.refresh()

    def __enter__(self) -> WaitProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.close()
