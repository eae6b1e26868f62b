"""Large-body benchmark: how long the server takes to accept a job near a device's limit.

    python benchmarks/large_body.py [--megabytes 49] [--device ideal_simulator]
                                    [--layout columns|arrays|objects]

Serves the emulator over loopback in this process (so its memory can be read), POSTs one
job of identical 400-operation programs whose JSON body is about ``--megabytes`` MB, and
meanwhile times a status request every 50 ms. ``--layout`` picks how the programs' plain
operations are written: as columns (what the client sends), as arrays, or as one object
per operation (what older clients sent). A body over the device's ``max_payload_bytes``
measures how fast and how cheaply it is refused (a 413). It prints the server time to
accept (or refuse) the job, the process's peak RSS and its RSS afterwards against the
baseline before the POST, and the status latency while the body was parsed and validated.
A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import requests
from qiskit import QuantumCircuit

from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.models import WireProgram
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, EmulatorServer
from qiskit_vendor_provider.serialization import circuit_to_wire


def _status_kib(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return float("nan")


def program_bytes(program: WireProgram, layout: str) -> bytes:
    """One program's JSON with its plain operations in ``layout``."""
    if layout == "columns":
        return wire.encode_program(program)
    fields = program.model_dump(mode="json", exclude={"ops"}, exclude_defaults=True)
    operations = program.ops.operations() if program.ops is not None else []
    if layout == "arrays":
        fields["instructions"] = [[n, q, c, p] if p else [n, q, c] for n, q, c, p in operations]
    else:
        fields["instructions"] = [
            {"name": n, "qubits": q, "clbits": c, "params": p} for n, q, c, p in operations
        ]
    return wire.dumps(fields)


def body_of(
    megabytes: float, device: str, max_circuits: int, layout: str = "columns"
) -> tuple[bytes, int]:
    """A job of ``megabytes`` MB: identical programs of rz/cx pairs, at most ``max_circuits``."""
    pairs = 200
    while True:
        circuit = QuantumCircuit(5, 5)
        for i in range(pairs):
            circuit.rz(0.1 + i * 1e-3, i % 5)
            circuit.cx(i % 5, (i + 1) % 5)
        circuit.measure(range(5), range(5))
        program = program_bytes(circuit_to_wire(circuit), layout)
        count = max(1, int(megabytes * 1e6 / len(program)))
        if count <= max_circuits:
            break
        pairs *= 2
    envelope = wire.dumps({"device": device, "shots": 1})[:-1]
    return envelope + b',"programs":[' + b",".join([program] * count) + b"]}", count


def server_steps(emulator: Emulator, body: bytes) -> dict[str, float]:
    """CPU seconds of each step the server takes with a job body, run here in turn."""
    started = time.process_time()
    submission = wire.decode_submission(body)
    parsed = time.process_time()
    emulator.check_submission(submission, size=len(body))
    checked = time.process_time()
    info, _ = emulator.submit("bench", submission, None, body=body)
    stored = time.process_time()
    emulator.cancel("bench", info.job_id)
    # submit() checks again before it stores: only the store is its own.
    return {
        "decode": parsed - started,
        "rules and checks": checked - parsed,
        "store": (stored - checked) - (checked - parsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=49.0)
    parser.add_argument("--device", default="ideal_simulator")
    parser.add_argument("--layout", choices=("columns", "arrays", "objects"), default="columns")
    args = parser.parse_args()
    # One simulator process at most, and the job cancelled at once: this measures the
    # server, not the simulation.
    # The store on disk, as a server keeps it: an in-memory database would count the
    # stored job as the server's memory.
    database = Path(tempfile.mkdtemp()) / "jobs.sqlite3"
    emulator = Emulator(EmulatorConfig(database=database, workers=1))
    limits = emulator.catalog.spec(args.device).limits
    body, count = body_of(args.megabytes, args.device, limits.max_circuits, args.layout)
    print(
        f"body: {len(body) / 1e6:.1f} MB, {count} programs in the {args.layout} layout on "
        f"{args.device} (limit {limits.max_payload_bytes / 1e6:.0f} MB)"
    )
    with EmulatorServer(emulator) as server:
        session = requests.Session()
        session.get(f"{server.url}/v1/devices", timeout=30)
        baseline = _status_kib("VmRSS")
        latencies: list[float] = []
        done = threading.Event()

        def probe() -> None:
            while not done.is_set():
                started = time.perf_counter()
                requests.get(f"{server.url}/v1/devices/{args.device}/status", timeout=60)
                latencies.append(time.perf_counter() - started)
                done.wait(0.05)

        prober = threading.Thread(target=probe)
        prober.start()
        started = time.perf_counter()
        answer = session.post(
            f"{server.url}/v1/jobs",
            data=body,
            headers={"content-type": "application/json"},
            timeout=600,
        )
        accepted = time.perf_counter() - started
        del body  # the client's copy: what stays is the server's
        done.set()
        prober.join()
        if answer.ok:
            session.post(f"{server.url}/v1/jobs/{answer.json()['job_id']}/cancel", timeout=60)
        time.sleep(0.5)  # the memory is handed back after the answer is sent
        print(f"answer: HTTP {answer.status_code} in {accepted:.2f} s")
        print(
            f"RSS: baseline {baseline:.0f} MB, peak {_status_kib('VmHWM'):.0f} MB, "
            f"after {_status_kib('VmRSS'):.0f} MB"
        )
        ordered = sorted(latencies)
        print(
            f"status during the upload: {len(ordered)} requests, p50 "
            f"{1000 * ordered[len(ordered) // 2]:.0f} ms, max {1000 * ordered[-1]:.0f} ms"
        )

    if not answer.ok:
        return
    # After the HTTP run, so that its baseline and peak are the server's alone; the
    # body is built again (the HTTP run let go of its copy).
    body, _ = body_of(args.megabytes, args.device, limits.max_circuits, args.layout)
    steps = server_steps(emulator, body)
    print(
        "server work, in-process (CPU s): "
        + ", ".join(f"{name} {seconds:.2f}" for name, seconds in steps.items())
        + f"; total {sum(steps.values()):.2f}"
    )


if __name__ == "__main__":
    main()
