"""A simulator process: ``python -m qiskit_vendor_provider.emulator.worker_process``.

The emulator's supervisor starts these and hands each one job at a time over its stdin;
the answer goes back over what was its stdout. Aer runs only here, so a segfault, an
abort or an out-of-memory kill ends this process and fails one job, never the process that
serves the API or runs the user's code.

The process stays warm between jobs (imports, Aer, each device's Target and noise) and
ends when its stdin closes, or at once when its parent dies (Linux: ``PR_SET_PDEATHSIG``).

A process is started one of two ways (see :mod:`~qiskit_vendor_provider.emulator.workers`):
as this module (:func:`main`), or forked from its host (``worker_fork``). Both then call
:func:`prepare` on their main thread and :func:`serve` with their pipes.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import faulthandler
import gc
import os
import signal
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from pydantic import ValidationError
from qiskit import QuantumCircuit

from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.models import DeviceSpec, JobResult, JobSubmission
from qiskit_vendor_provider.device_time import submission_device_time
from qiskit_vendor_provider.emulator.result_format import stored_result
from qiskit_vendor_provider.emulator.simulation import JobRunner, make_simulator
from qiskit_vendor_provider.emulator.worker_protocol import read_message, write_message

_PR_SET_PDEATHSIG = 1
_MIB = 1 << 20


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies; elsewhere stdin EOF does it."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)


def _virtual_memory() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def memory_ceiling(baseline: int, max_memory_mb: int) -> int:
    """The address space a worker may use: what it has after start-up, plus room to work.

    Aer refuses a simulation larger than ``max_memory_mb`` by itself; the ceiling is the
    backstop for whatever else grows (results, noise models, a fault in native code), so
    it leaves twice that, plus 1 GiB for thread stacks and allocator arenas.

    >>> memory_ceiling(1 << 30, 4096) // (1 << 20)
    10240
    """
    return baseline + (2 * max_memory_mb + 1024) * _MIB


def _limit_memory(max_memory_mb: int) -> None:
    baseline = _virtual_memory()
    if baseline is None:
        return
    try:
        import resource  # noqa: PLC0415 - POSIX only

        ceiling = memory_ceiling(baseline, max_memory_mb)
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    except (ImportError, ValueError, OSError):
        pass


def inject_fault(fault: str) -> None:
    """Misbehave as a test asked, before running a job (see ``EmulatorConfig.worker_faults``).

    ``segfault`` reads address 0, ``abort`` calls abort(3), ``kill`` sends SIGKILL to
    itself, ``exit`` leaves with status 3, ``memory`` allocates past the memory ceiling,
    and ``sleep=S`` waits S seconds, then runs the job as usual.
    """
    kind, _, argument = fault.partition("=")
    if kind == "segfault":
        ctypes.string_at(0)
    elif kind == "abort":
        os.abort()
    elif kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "exit":
        os._exit(3)
    elif kind == "memory":
        hog = [bytearray(256 * _MIB) for _ in range(1 << 16)]
        del hog
    elif kind == "sleep":
        time.sleep(float(argument))


def _run(
    runner: JobRunner,
    header: dict[str, Any],
    body: bytes,
    spec: DeviceSpec,
    charges: ThreadPoolExecutor,
) -> tuple[dict[str, Any], bytes]:
    job_id = header["job_id"]
    try:
        if header.get("fault"):
            inject_fault(header["fault"])
        submission = wire.decode_submission(body)
        circuits = runner.circuits(submission, spec)
        # The charge is worked out while Aer runs (it lets go of the GIL meanwhile).
        charge = charges.submit(_usage, submission, spec, runner, circuits)
        programs, elapsed = runner.run(submission, spec, circuits)
        usage_seconds = charge.result()
    except (ValidationError, ValueError, RuntimeError) as exc:
        return _failed(job_id, f"simulation failed: {type(exc).__name__}: {exc}")
    except MemoryError:
        return _failed(
            job_id,
            "simulation failed: the simulator process went over its memory ceiling; use "
            "fewer qubits or shots per job, or raise the emulator's max_memory_mb",
        )
    except Exception as exc:  # the process outlives any one job
        return _failed(job_id, f"internal emulator error: {type(exc).__name__}: {exc}")
    failed = [(i, p) for i, p in enumerate(programs) if not p.success]
    error = None
    if failed:
        index, first = failed[0]
        error = f"{len(failed)} of {len(programs)} programs failed; program {index}: {first.status}"
    result = JobResult(
        job_id=job_id,
        device=spec.name,
        status="DONE" if error is None else "ERROR",
        success=error is None,
        results=programs,
        time_taken=elapsed,
    )
    reply = {
        "kind": "result",
        "job_id": job_id,
        "ok": True,
        "error": error,
        "usage_seconds": usage_seconds,
    }
    return reply, stored_result(result)


def _usage(
    submission: JobSubmission,
    spec: DeviceSpec,
    runner: JobRunner,
    circuits: list[QuantumCircuit],
) -> float | None:
    """The device time the job is charged: the formula ``backend.estimate()`` uses.

    Computed here, where the job is already parsed, not in the host process.
    """
    try:
        seconds, _ = submission_device_time(submission, spec, runner.target(spec), circuits)
    except Exception:  # the result matters more than its price: sent with usage unknown
        traceback.print_exc()
        return None
    return seconds


def _failed(job_id: str, error: str) -> tuple[dict[str, Any], bytes]:
    return {"kind": "result", "job_id": job_id, "ok": False, "error": error}, b""


def serve(inbox: IO[bytes], outbox: IO[bytes], max_memory_mb: int) -> None:
    """Answer jobs from ``inbox`` on ``outbox`` until ``inbox`` closes.

    Runs on any thread; nothing here needs the main one (see :func:`prepare`).
    """
    runner = JobRunner(max_memory_mb=max_memory_mb)
    specs: dict[str, DeviceSpec] = {}
    # Made here, not at import: a pool's thread exists only in the process that started
    # it, and a forked process would wait forever on one made before the fork.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="device-time") as charges:
        _warm_up(charges, max_memory_mb)
        # Qiskit's and Aer's ~300k import-time objects live as long as the process: out
        # of the collector's view, they no longer cost a 0.1-0.2 s pause in a job's run.
        gc.freeze()
        write_message(outbox, {"kind": "ready", "pid": os.getpid()})
        while (message := read_message(inbox)) is not None:
            header, body = message
            if header.get("spec") is not None:
                specs[header["spec_key"]] = DeviceSpec.model_validate_json(header["spec"])
            reply, result = _run(runner, header, body, specs[header["spec_key"]], charges)
            write_message(outbox, reply, result)


def _warm_up(charges: ThreadPoolExecutor, max_memory_mb: int) -> None:
    """Do now what every first job would do: start the charge's thread and Aer's.

    A spare does it before any job is sent (measured: a first job took 13 ms in the
    process, the next ones 4 ms, the difference mostly these threads' start). Nothing
    here is needed: a failure is left for the first job to meet and report.
    """
    with contextlib.suppress(Exception):
        charges.submit(int).result()
        probe = QuantumCircuit(1, 1)
        probe.measure(0, 0)
        make_simulator(max_memory_mb=max_memory_mb).run(probe, shots=1).result()


def prepare(parent: int, max_memory_mb: int) -> None:
    """Make this process a simulator process; on its main thread, before :func:`serve`.

    It dies with ``parent``, ignores Ctrl-C (the user's, and the supervisor decides when
    it ends), dumps a Python stack on a native crash (into the host's log) and gets its
    memory ceiling, measured from what it uses now.
    """
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    faulthandler.enable(sys.stderr)
    _limit_memory(max_memory_mb)


def main(argv: list[str] | None = None) -> None:
    """Serve jobs over stdin/stdout; see the module's docstring."""
    parser = argparse.ArgumentParser(prog="qiskit_vendor_provider.emulator.worker_process")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--max-memory-mb", type=int, default=4096)
    args = parser.parse_args(argv)
    # The protocol gets stdout's pipe to itself; anything printed goes to stderr.
    outbox = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    prepare(args.parent, args.max_memory_mb)
    with contextlib.suppress(BrokenPipeError):  # the supervisor went away mid-answer
        serve(sys.stdin.buffer, outbox, args.max_memory_mb)


if __name__ == "__main__":
    main()
