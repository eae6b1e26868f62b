"""The emulator recalibrates its noisy devices on a schedule, and keeps what it served.

Time is cut into epochs of :attr:`RecalibrationSchedule.period` seconds (a day by
default) counted from the Unix epoch. The first time a device is asked for in a database,
its device file's calibration is stored as the one of the current epoch. Whenever the
clock has passed into a later epoch, the next calibration is stored, drifted from the
latest one by a generator seeded with (device, schedule seed, epoch): calibration *k* is
a pure function of calibration *k - 1*, the device file and the seed. The database is
the source of truth: the extension happens inside one write transaction, rows are only
ever inserted (``INSERT OR IGNORE``), so two processes sharing a file store and serve
the same calibrations, whichever gets there first.

Drift is mean-reverting around the device file's figures (a log-normal step, then 30%
of the way back), so months of recalibration stay near the file. From time to time a
qubit or a coupler drops out (a TLS defect: ``operational: false``) and comes back a few
epochs later.

The history served by ``GET /v1/devices/{name}/calibration?at=`` is these rows, and a
job runs with the noise of the calibration recorded with it.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from qiskit.transpiler import Target

from qiskit_vendor_provider.api.models import Calibration, CalibrationInfo, DeviceSpec
from qiskit_vendor_provider.emulator.store import CalibrationRow, JobStore
from qiskit_vendor_provider.target import build_target

DAY = 86_400.0

_REVERSION = 0.7
"""Share of the last step's deviation from the device file that the next one keeps."""
_COHERENCE_SIGMA = 0.08
_ERROR_SIGMA = 0.12


@dataclass(frozen=True)
class RecalibrationSchedule:
    """When and how the emulator recalibrates its noisy devices.

    Attributes:
        period: Seconds between calibrations (a day by default; a test takes 1 with a
            clock of its own).
        seed: Seeds the drift and the defects: two emulators with the same seed and
            device files serve the same calibrations.
        clock: Seconds since the Unix epoch (``time.time``); tests inject their own.
        qubit_defect_rate: Chance per epoch that an in-service qubit drops out.
        coupler_defect_rate: Chance per epoch that an in-service coupler drops out.
        repair_rate: Chance per epoch that an element out of service comes back.
        drift: Scale of each step (1: T1 and T2 move about 8% a day, errors 12%).
        keep: How many calibrations per device are kept (older ones are forgotten: a
            job pinned to one is refused, naming those kept).
        max_catch_up: Most calibrations made at once after the emulator was stopped for
            long; beyond it, the latest epochs only are made.
    """

    period: float = DAY
    seed: int = 0
    clock: Callable[[], float] = field(default=time.time, compare=False)
    qubit_defect_rate: float = 0.004
    coupler_defect_rate: float = 0.004
    repair_rate: float = 0.5
    drift: float = 1.0
    keep: int = 60
    max_catch_up: int = 30

    def __post_init__(self) -> None:
        if not (math.isfinite(self.period) and self.period > 0):
            raise ValueError(f"recalibration period={self.period!r} must be positive seconds")
        if not (math.isfinite(self.drift) and self.drift >= 0):
            raise ValueError(f"recalibration drift={self.drift!r} must be a number >= 0")
        if self.keep < 1:
            raise ValueError(f"recalibration keep={self.keep!r} must be at least 1")

    def epoch(self, moment: float | None = None) -> int:
        """The epoch of ``moment`` (default: the clock's now)."""
        return math.floor((self.clock() if moment is None else moment) / self.period)


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def _digest(*parts: object) -> str:
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()


def _step(
    base: float | None, previous: float | None, rng: random.Random, sigma: float
) -> float | None:
    """A mean-reverting log-normal step from ``previous`` around ``base``."""
    if base is None or previous is None or base <= 0 or previous <= 0:
        return previous
    deviation = math.log(previous / base) * _REVERSION + rng.gauss(0.0, sigma)
    return base * math.exp(deviation)


def _operational(was: bool, nominal: bool, rng: random.Random, fail: float, fix: float) -> bool:
    """An element's service flag next epoch: it drops out, or comes back, by chance."""
    draw = rng.random()
    if not nominal:  # out of service in the device file: stays out
        return False
    return draw >= fail if was else draw < fix


def drifted(
    base: Calibration,
    previous: Calibration,
    rng: random.Random,
    schedule: RecalibrationSchedule,
) -> Calibration:
    """The calibration after ``previous``: each figure stepped, defects drawn.

    Args:
        base: The device file's calibration, which the figures revert towards.
        previous: The latest calibration served.
        rng: The epoch's generator (every draw is made whatever the figures, so the
            sequence does not depend on which are present).
        schedule: The defect and repair rates.
    """
    coherence_sigma = _COHERENCE_SIGMA * schedule.drift
    error_sigma = _ERROR_SIGMA * schedule.drift
    qubits = []
    for nominal, last in zip(base.qubits, previous.qubits, strict=True):
        t1 = _step(nominal.t1, last.t1, rng, coherence_sigma)
        t2 = _step(nominal.t2, last.t2, rng, coherence_sigma)
        if t1 is not None and t2 is not None:
            t2 = min(t2, 2 * t1)
        t2_star = last.t2_star
        if nominal.t2_star is not None and nominal.t2 and t2 is not None:
            # Slow dephasing keeps its share of the echo time: T2* stays below T2.
            t2_star = nominal.t2_star * t2 / nominal.t2
        readout = _step(nominal.readout_error, last.readout_error, rng, error_sigma)
        operational = _operational(
            last.operational,
            nominal.operational,
            rng,
            schedule.qubit_defect_rate,
            schedule.repair_rate,
        )
        qubits.append(
            last.model_copy(
                update={
                    "t1": t1,
                    "t2": t2,
                    "t2_star": t2_star,
                    "readout_error": min(0.5, readout or 0.0),
                    "operational": operational,
                }
            )
        )
    couplers = _coupler_flags(base, previous, rng, schedule)
    gates = []
    for nominal_gate, last_gate in zip(base.gates, previous.gates, strict=True):
        error = _step(nominal_gate.error, last_gate.error, rng, error_sigma)
        update: dict[str, object] = {"error": None if error is None else min(1.0, error)}
        pair = frozenset(last_gate.qubits)
        if len(pair) == 2:
            update["operational"] = couplers[pair] and nominal_gate.operational
        gates.append(last_gate.model_copy(update=update))
    return previous.model_copy(update={"qubits": qubits, "gates": gates})


def _coupler_flags(
    base: Calibration, previous: Calibration, rng: random.Random, schedule: RecalibrationSchedule
) -> dict[frozenset[int], bool]:
    """Each coupler's service flag next epoch (both directions of a pair share it)."""
    was: dict[frozenset[int], bool] = {}
    nominal: dict[frozenset[int], bool] = {}
    for base_gate, last_gate in zip(base.gates, previous.gates, strict=True):
        pair = frozenset(last_gate.qubits)
        if len(pair) == 2:
            was[pair] = was.get(pair, True) and last_gate.operational
            nominal[pair] = nominal.get(pair, True) and base_gate.operational
    return {
        pair: _operational(
            was[pair],
            nominal[pair],
            rng,
            schedule.coupler_defect_rate,
            schedule.repair_rate,
        )
        for pair in sorted(was, key=sorted)
    }


PERIOD_ENV = "QISKIT_VENDOR_RECALIBRATION_SECONDS"
"""Environment variable: seconds between calibrations of every emulator made without one."""
SEED_ENV = "QISKIT_VENDOR_CALIBRATION_SEED"
"""Environment variable: the seed of the drift and defects (an integer)."""


def schedule_from_env() -> RecalibrationSchedule:
    """The default schedule: daily, seed 0, unless :data:`PERIOD_ENV`/:data:`SEED_ENV` say.

    Raises:
        ValueError: a variable that is not a number, naming it.
    """
    period, seed = os.environ.get(PERIOD_ENV), os.environ.get(SEED_ENV)
    try:
        return RecalibrationSchedule(
            period=DAY if not period else float(period), seed=int(seed) if seed else 0
        )
    except ValueError as exc:
        raise ValueError(
            f"{PERIOD_ENV}={period!r} must be positive seconds and {SEED_ENV}={seed!r} an "
            f"integer ({exc})"
        ) from None


class CalibrationBook:
    """Every noisy device's calibrations: made on schedule, kept in the job store.

    Args:
        store: The job store whose database keeps the calibrations.
        specs: The devices (as their files give them).
        schedule: When and how to recalibrate.
    """

    def __init__(
        self, store: JobStore, specs: Iterable[DeviceSpec], schedule: RecalibrationSchedule
    ) -> None:
        self._store = store
        self._specs = {spec.name: spec for spec in specs}
        self.schedule = schedule
        self._lock = threading.Lock()
        self._rows: dict[str, list[CalibrationRow]] = {}
        self._seen_epoch: dict[str, int] = {}
        self._targets: OrderedDict[tuple[str, str], Target] = OrderedDict()
        self._parsed: OrderedDict[str, Calibration] = OrderedDict()

    def _parse(self, row: CalibrationRow) -> Calibration:
        """A stored calibration, parsed once (every submission reads the current one)."""
        with self._lock:
            found = self._parsed.get(row.calibration_id)
        if found is None:
            found = Calibration.model_validate_json(row.body)
            with self._lock:
                self._parsed[row.calibration_id] = found
                while len(self._parsed) > 64:
                    self._parsed.popitem(last=False)
        return found

    # ------------------------------------------------------------- making

    def _first(self, spec: DeviceSpec, epoch: int) -> CalibrationRow:
        base = spec.calibration
        assert base is not None
        calibration_id = base.calibration_id or (
            f"{spec.name}-{epoch}-{_digest(spec.model_dump_json(), self.schedule.seed)[:8]}"
        )
        first = base.model_copy(update={"calibration_id": calibration_id})
        return CalibrationRow(
            epoch, calibration_id, base.timestamp.timestamp(), first.model_dump_json()
        )

    def _extend(
        self, spec: DeviceSpec, now: int
    ) -> Callable[[CalibrationRow | None], list[CalibrationRow]]:
        def extend(latest: CalibrationRow | None) -> list[CalibrationRow]:
            if latest is None:
                return [self._first(spec, now)]
            if latest.epoch >= now:
                return []
            base = spec.calibration
            assert base is not None
            previous = Calibration.model_validate_json(latest.body)
            rows = []
            start = max(latest.epoch + 1, now - self.schedule.max_catch_up + 1)
            timestamp = latest.timestamp
            for epoch in range(start, now + 1):
                seed = _digest(spec.name, self.schedule.seed, epoch)
                rng = random.Random(int(seed[:16], 16))
                timestamp = max(epoch * self.schedule.period, timestamp + 1e-3)
                calibration_id = f"{spec.name}-{epoch}-{seed[:8]}"
                previous = drifted(base, previous, rng, self.schedule).model_copy(
                    update={"timestamp": _utc(timestamp), "calibration_id": calibration_id}
                )
                rows.append(
                    CalibrationRow(epoch, calibration_id, timestamp, previous.model_dump_json())
                )
            return rows

        return extend

    def _rows_of(self, name: str) -> list[CalibrationRow]:
        """The device's calibrations up to now, made (and stored) if the clock moved on."""
        spec = self._specs[name]
        now = self.schedule.epoch()
        with self._lock:
            if self._seen_epoch.get(name) == now and name in self._rows:
                return self._rows[name]
        self._store.extend_calibrations(name, self._extend(spec, now), self.schedule.keep)
        rows = self._store.calibrations(name)
        with self._lock:
            self._rows[name] = rows
            self._seen_epoch[name] = now
        return rows

    # ------------------------------------------------------------- reading

    def calibrated(self, name: str) -> bool:
        """Whether device ``name`` has calibrations (an ideal simulator has none)."""
        return self._specs[name].calibration is not None

    def current(self, name: str) -> Calibration | None:
        """The calibration in force now (None for a device without one)."""
        if not self.calibrated(name):
            return None
        return self._parse(self._rows_of(name)[-1])

    def kept(self, name: str) -> list[CalibrationInfo]:
        """The calibrations kept for a device, oldest first."""
        if not self.calibrated(name):
            return []
        return [
            CalibrationInfo(calibration_id=row.calibration_id, timestamp=_utc(row.timestamp))
            for row in self._rows_of(name)
        ]

    def by_id(self, name: str, calibration_id: str) -> Calibration | None:
        """A kept calibration by its id (None if not kept)."""
        if not self.calibrated(name):
            return None
        for row in self._rows_of(name):
            if row.calibration_id == calibration_id:
                return self._parse(row)
        return None

    def at(self, name: str, moment: datetime) -> Calibration | None:
        """The calibration in force at ``moment`` (None before the first kept)."""
        if not self.calibrated(name):
            return None
        found = [r for r in self._rows_of(name) if r.timestamp <= moment.timestamp()]
        return self._parse(found[-1]) if found else None

    def spec(self, name: str, calibration: Calibration | None) -> DeviceSpec:
        """Device ``name`` with ``calibration`` in place of its file's."""
        spec = self._specs[name]
        if calibration is None:
            return spec
        return spec.model_copy(update={"calibration": calibration})

    def target(self, spec: DeviceSpec) -> Target:
        """The Target of a device at one of its calibrations (a few are kept built)."""
        key = (spec.name, spec.calibration.calibration_id or "" if spec.calibration else "")
        with self._lock:
            if key in self._targets:
                self._targets.move_to_end(key)
                return self._targets[key]
        built = build_target(spec)
        with self._lock:
            self._targets[key] = built
            while len(self._targets) > 16:
                self._targets.popitem(last=False)
        return built
