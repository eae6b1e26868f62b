"""The emulator's worker: takes queued jobs from the store, one at a time, and runs them."""

from __future__ import annotations

import logging
import threading
import traceback

from pydantic import ValidationError

from qiskit_vendor_provider.api.models import JobResult, JobSubmission, ProgramResult
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.simulation import JobRunner
from qiskit_vendor_provider.emulator.store import JobRecord, JobStore

logger = logging.getLogger(__name__)


class Executor:
    """A worker thread that runs queued jobs in submission order.

    One job runs at a time, as on a real device; Aer parallelises inside a job.

    Args:
        store: Where jobs are queued and results kept.
        catalog: The devices.
        poll_interval: How often, in seconds, to look for jobs queued by another process
            sharing the database (jobs queued here wake the worker at once).
        max_memory_mb: Memory one simulation may take; a larger program fails alone.
    """

    def __init__(
        self,
        store: JobStore,
        catalog: DeviceCatalog,
        *,
        poll_interval: float = 0.5,
        max_memory_mb: int = 4096,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._poll_interval = poll_interval
        self._max_memory_mb = max_memory_mb
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._runner: JobRunner | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the worker thread (no-op if it runs)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._loop, name="vendor-emulator-executor", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the running job, if any."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def notify(self) -> None:
        """Tell the worker a job was queued."""
        self._wake.set()

    def _simulate(self, submission: JobSubmission) -> tuple[list[ProgramResult], float]:
        if self._runner is None:
            self._runner = JobRunner(max_memory_mb=self._max_memory_mb)
        return self._runner.run(submission, self._catalog.spec(submission.device))

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                record = self._store.claim_next()
            except Exception:  # a locked or closing database must not kill the worker
                logger.exception("emulator: could not read the job queue")
                record = None
            if record is None:
                self._wake.wait(self._poll_interval)
                self._wake.clear()
                continue
            self.run(record)

    def run(self, record: JobRecord) -> None:
        """Run one claimed job and store its result or its error."""
        try:
            submission = JobSubmission.model_validate_json(record.submission)
            programs, elapsed = self._simulate(submission)
        except (ValidationError, ValueError, RuntimeError, MemoryError) as exc:
            logger.info("emulator: job %s failed: %s", record.job_id, exc)
            self._store.fail(record.job_id, f"simulation failed: {type(exc).__name__}: {exc}")
        except Exception as exc:  # the worker outlives any one job
            logger.error("emulator: job %s crashed:\n%s", record.job_id, traceback.format_exc())
            self._store.fail(record.job_id, f"internal emulator error: {type(exc).__name__}: {exc}")
        else:
            failed = [(i, p) for i, p in enumerate(programs) if not p.success]
            error = None
            if failed:
                index, first = failed[0]
                error = (
                    f"{len(failed)} of {len(programs)} programs failed; program {index}: "
                    f"{first.status}"
                )
            result = JobResult(
                job_id=record.job_id,
                device=record.device,
                status="DONE" if error is None else "ERROR",
                success=error is None,
                results=programs,
                time_taken=elapsed,
            )
            self._store.finish(record.job_id, result.model_dump_json(), error)
