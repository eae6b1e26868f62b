"""Job management: tag jobs, list them back, follow one, and find it again by id.

python examples/job_management.py
"""

from __future__ import annotations

from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import VendorProvider


def main() -> None:
    provider = VendorProvider()
    backend = provider.get_backend("trapped_ion_11q")

    bell = QuantumCircuit(2, 2, name="bell")
    bell.h(0)
    bell.cx(0, 1)
    bell.measure([0, 1], [0, 1])
    circuit = generate_preset_pass_manager(backend=backend, optimization_level=1).run(bell)

    jobs = [
        backend.run(circuit, shots=200, job_name=f"scan-{n}", job_tags=["example", f"run-{n}"])
        for n in range(3)
    ]
    print("submitted:", ", ".join(job.job_id() for job in jobs))
    limit = backend.job_limit()
    print(f"{limit.active_jobs} of {limit.maximum_jobs} jobs active right now")

    last = jobs[-1]
    status = last.wait_for_final_state(timeout=120)
    print(f"{last.name()} is {status.name}, created {last.creation_date():%Y-%m-%d %H:%M:%S %Z}")

    tagged = backend.jobs(limit=10, job_tags=["example"], job_name=r"^scan-")
    print("listed back by tag:", [job.name() for job in tagged][:3])

    again = provider.retrieve_job(last.job_id())
    print("counts of the retrieved job:", again.result().get_counts())

    # After a crash, resume() re-attaches to every journalled job not seen finished.
    reattached = provider.resume()
    print(f"journal: {len(provider.journal())} submissions; re-attached to {len(reattached)}")


if __name__ == "__main__":
    main()
