"""Execution modes: a small VQE-style loop in a Session, and independent jobs in a Batch.

python examples/execution_modes.py

The session's jobs run back to back on the device; leaving the ``with`` block closes it.
The batch's jobs are queued together. Both run on the embedded emulator when no URL or
token is configured.
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp

from qiskit_vendor_provider import Batch, Session, SessionClosedError, VendorProvider
from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler


def main() -> None:
    provider = VendorProvider()
    backend = provider.get_backend("ideal_simulator")

    # A one-parameter ansatz; <Z> = cos(theta), minimal (-1) at theta = pi.
    theta = Parameter("theta")
    ansatz = QuantumCircuit(1)
    ansatz.ry(theta, 0)
    observable = SparsePauliOp("Z")

    with Session(backend=backend, max_time=300, max_idle=10) as session:
        estimator = VendorEstimator(mode=session, options={"seed_simulator": 11})
        value, step = 0.5, 1.0
        for _ in range(8):
            # Each iteration waits for the last result: the session keeps the device.
            pub = (ansatz, observable, [[value - step], [value], [value + step]])
            left, middle, right = estimator.run([pub], precision=0.05).result()[0].data.evs
            best = int(np.argmin([left, middle, right]))
            value += (best - 1) * step
            if best == 1:  # the middle is lowest: look closer
                step /= 2
        details = session.details()
        print(f"session {session.session_id}: {details.job_count} jobs, state {details.state}")
        print(f"theta = {value:.2f} (pi is 3.14), <Z> = {float(min(left, middle, right)):.2f}")
    print("after the with block the session is", session.status())
    try:
        session.run(ansatz.assign_parameters([value]), shots=10)
    except SessionClosedError as error:
        print("refused, nothing sent:", str(error).split(";")[0])

    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure_all()
    with Batch(backend=backend) as batch:
        sampler = VendorSampler(mode=batch, options={"seed_simulator": 5})
        results = sampler.run([bell, bell], shots=200).result()
        jobs = provider.jobs(session_id=batch.session_id, limit=None)
        print(f"batch {batch.session_id}: {len(jobs)} job(s)")
        for index, result in enumerate(results):
            print(f"pub {index}: {dict(sorted(result.data.meas.get_counts().items()))}")


if __name__ == "__main__":
    main()
