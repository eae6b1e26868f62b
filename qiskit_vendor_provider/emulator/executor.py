"""The emulator's worker: takes queued jobs from the store, one at a time, and runs them."""

from __future__ import annotations

import logging
import threading
import traceback

from pydantic import ValidationError
from qiskit_aer import AerSimulator

from qiskit_vendor_provider.api.models import JobResult, JobSubmission
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.noise import noise_model_for
from qiskit_vendor_provider.emulator.simulation import make_simulator, simulate
from qiskit_vendor_provider.emulator.store import JobRecord, JobStore
from qiskit_vendor_provider.serialization import wire_to_circuit

logger = logging.getLogger(__name__)


class Executor:
    """A worker thread that runs queued jobs in submission order.

    One job runs at a time, as on a real device; Aer parallelises inside a job.

    Args:
        store: Where jobs are queued and results kept.
        catalog: The devices.
        poll_interval: How often, in seconds, to look for jobs queued by another process
            sharing the database (jobs queued here wake the worker at once).
    """

    def __init__(
        self, store: JobStore, catalog: DeviceCatalog, *, poll_interval: float = 0.5
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._poll_interval = poll_interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._simulators: dict[str, AerSimulator] = {}
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

    def simulator(self, device: str) -> AerSimulator:
        """The simulator of a device, built once."""
        if device not in self._simulators:
            self._simulators[device] = make_simulator(noise_model_for(self._catalog.spec(device)))
        return self._simulators[device]

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
            target = self._catalog.target(submission.device)
            circuits = [wire_to_circuit(p, target) for p in submission.programs]
            programs, elapsed = simulate(self.simulator(submission.device), submission, circuits)
        except (ValidationError, ValueError, RuntimeError, MemoryError) as exc:
            logger.info("emulator: job %s failed: %s", record.job_id, exc)
            self._store.fail(record.job_id, f"simulation failed: {type(exc).__name__}: {exc}")
        except Exception as exc:  # the worker outlives any one job
            logger.error("emulator: job %s crashed:\n%s", record.job_id, traceback.format_exc())
            self._store.fail(record.job_id, f"internal emulator error: {type(exc).__name__}: {exc}")
        else:
            result = JobResult(
                job_id=record.job_id,
                device=record.device,
                status="DONE",
                success=all(p.success for p in programs),
                results=programs,
                time_taken=elapsed,
            )
            self._store.finish(record.job_id, result.model_dump_json())
