"""Calibration history of the fake devices: daily snapshots that drift around the current one.

A real device is recalibrated every day or so; users ask for the calibration in force
when an old job ran (``backend.properties(datetime=...)``). Device files hold only the
current snapshot, so the emulator derives the earlier ones: one per day for
:data:`HISTORY_DAYS` days, each figure scaled by a factor drawn from a generator seeded
with the device name and the day, so every run of the emulator serves the same history.
"""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta
from functools import lru_cache

from qiskit_vendor_provider.api.models import Calibration, DeviceSpec

HISTORY_DAYS = 14
_COHERENCE_DRIFT = (0.8, 1.2)
_ERROR_DRIFT = (0.75, 1.35)


def _scaled(value: float | None, rng: random.Random, bounds: tuple[float, float]) -> float | None:
    return None if value is None else value * rng.uniform(*bounds)


def _drifted(current: Calibration, days_before: int, seed: int) -> Calibration:
    rng = random.Random(seed * 1000 + days_before)
    qubits = []
    for qubit in current.qubits:
        t1 = _scaled(qubit.t1, rng, _COHERENCE_DRIFT)
        t2 = _scaled(qubit.t2, rng, _COHERENCE_DRIFT)
        if t1 is not None and t2 is not None:
            t2 = min(t2, 2 * t1)
        readout = min(0.5, _scaled(qubit.readout_error, rng, _ERROR_DRIFT) or 0.0)
        qubits.append(qubit.model_copy(update={"t1": t1, "t2": t2, "readout_error": readout}))
    gates = [
        gate.model_copy(
            update={
                "error": None
                if gate.error is None
                else min(1.0, gate.error * rng.uniform(*_ERROR_DRIFT))
            }
        )
        for gate in current.gates
    ]
    return Calibration(
        timestamp=current.timestamp - timedelta(days=days_before), qubits=qubits, gates=gates
    )


@lru_cache(maxsize=32)
def _history(spec_json: str) -> tuple[Calibration, ...]:
    spec = DeviceSpec.model_validate_json(spec_json)
    current = spec.calibration
    if current is None:
        return ()
    seed = int.from_bytes(hashlib.sha256(spec.name.encode()).digest()[:4], "big")
    older = [_drifted(current, days, seed) for days in range(HISTORY_DAYS, 0, -1)]
    return (*older, current)


def calibration_history(spec: DeviceSpec) -> tuple[Calibration, ...]:
    """Every snapshot of a device's calibration, oldest first; empty if it has none."""
    return _history(spec.model_dump_json())
