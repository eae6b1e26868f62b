"""Result bytes and client memory of per-shot results, packed (API 1.3) against hex.

Run: ``python benchmarks/memory.py`` (``--shots`` to change the large job).

1. The "distinct" workload of ``benchmarks/primitives.py`` (200 different 5-qubit
   circuits, 1,000 shots, the sampler on ``ideal_simulator``): the bytes of its result
   answers as a client before 1.3 reads them (hex memory and counts), as a 1.3 client
   reads them (packed memory, counts counted by the client), and as they would be with
   packed memory and counts both sent (the choice not taken).
2. One job of 1,000,000 shots x 20 qubits with ``memory=True`` on ``ideal_simulator``,
   run by a separate emulator process: the client's peak RSS growth from just before
   ``job.result()`` to the Result in hand (``VmHWM`` reset through
   ``/proc/self/clear_refs``), against the packed result size, and the time it took.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from primitives import emulator_process, workloads
from qiskit import QuantumCircuit

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.api.versions import API_VERSION_HEADER
from qiskit_vendor_provider.primitives import VendorSampler

DEVICE = "ideal_simulator"


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def distinct_bytes() -> None:
    # The very workload benchmarks/primitives.py times.
    circuits = next(w for w in workloads() if w.name.startswith("distinct")).pubs
    provider = VendorProvider()
    backend = provider.get_backend(DEVICE)
    job = VendorSampler(backend=backend).run(circuits, shots=1000)
    ids = sorted({i for pub in job.result() for i in pub.metadata["job_ids"]})
    session = provider.client.session
    sizes: dict[str, int] = {"hex (before, API 1.2)": 0, "packed (API 1.3)": 0}
    with_counts = 0
    for job_id in ids:
        url = f"{provider.client.base_url}/v1/jobs/{job_id}/result"
        for label, version in (("hex (before, API 1.2)", "1.2"), ("packed (API 1.3)", "1.3")):
            answer = session.get(url, headers={API_VERSION_HEADER: version}, timeout=60)
            answer.raise_for_status()
            sizes[label] += len(answer.content)
            if version == "1.2":
                old = answer.json()
            else:
                new = answer.json()
        for program_old, program_new in zip(old["results"], new["results"], strict=True):
            for row_old, row_new in zip(program_old["data"], program_new["data"], strict=True):
                row_new["counts"] = row_old["counts"]
        with_counts += len(json.dumps(new, separators=(",", ":")))
    sizes["packed + counts (not taken)"] = with_counts
    print(f"distinct: 200 circuits of 5q, 1000 shots: {len(ids)} job(s), result bytes")
    before = sizes["hex (before, API 1.2)"]
    for label, size in sizes.items():
        print(f"  {label:30} {size:>10,} bytes  {size / before:6.3f}x")


def large_memory(shots: int) -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        emulator_process(Path(folder) / "jobs.sqlite3") as url,
    ):
        provider = VendorProvider(url=url)
        backend = provider.get_backend(DEVICE)
        circuit = QuantumCircuit(20)
        circuit.h(range(20))
        circuit.measure_all()
        job = backend.run(circuit, shots=shots, memory=True, seed_simulator=3)
        job.wait_for_final_state(timeout=600)
        time.sleep(0.2)
        before = _status_kib("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
        started = time.perf_counter()
        result = job.result()
        took = time.perf_counter() - started
        peak = _status_kib("VmHWM")
        memory: Any = result.data(0)["memory"]
        packed = memory.packed.nbytes
        growth = (peak - before) * 1024
        print(f"memory=True, {shots:,} shots x 20 qubits on {DEVICE} (separate emulator process)")
        print(
            f"  packed result size    {packed:>12,} bytes (base64 on the wire: "
            f"{len(base64.b64encode(memory.packed.tobytes())):,})"
        )
        ratio = growth / packed
        print(f"  client peak RSS growth{growth:>12,} bytes = {ratio:.2f}x the packed size")
        print(f"  job.result() took     {took:.3f} s (job submitted and finished before)")
        started = time.perf_counter()
        counts = result.get_counts()
        print(
            f"  result.get_counts()   {time.perf_counter() - started:.3f} s, "
            f"{len(counts):,} outcomes"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=1_000_000)
    parser.add_argument("--skip-distinct", action="store_true")
    args = parser.parse_args()
    if not args.skip_distinct:
        distinct_bytes()
    large_memory(args.shots)


if __name__ == "__main__":
    main()
