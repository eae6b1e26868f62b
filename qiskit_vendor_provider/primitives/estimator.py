"""``VendorEstimator``: ``BackendEstimatorV2`` with the vendor's limits, options and sweeps."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from qiskit.circuit import QuantumCircuit
from qiskit.primitives import BackendEstimatorV2, PrimitiveJob, PrimitiveResult
from qiskit.primitives.containers import DataBin, EstimatorPubLike, PubResult
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.result.models import ExperimentResult
from qiskit.transpiler import PassManager
from qiskit.transpiler.passes import Optimize1qGatesDecomposition

from qiskit_vendor_provider.api.models import DeviceLimits
from qiskit_vendor_provider.api.shots import shot_ints
from qiskit_vendor_provider.backend import VendorBackend
from qiskit_vendor_provider.device_time import DeviceTimeEstimate
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.primitives.base import (
    VendorPrimitiveMixin,
    initial_options,
    resolve_mode,
)
from qiskit_vendor_provider.primitives.decoupling import check_device, decouple
from qiskit_vendor_provider.primitives.execution import (
    estimate_plans,
    result_metadata,
    run_plans,
)
from qiskit_vendor_provider.primitives.mitigation import calibration_circuit, mitigate
from qiskit_vendor_provider.primitives.options import DEFAULT_PRECISION, EstimatorOptions
from qiskit_vendor_provider.primitives.packing import JobPlan, Program, plan_run
from qiskit_vendor_provider.primitives.pauli_measurement import (
    MeasurementBasis,
    basis_change_circuit,
    combine,
    free_register_name,
    is_identity,
    measurement_bases,
    pauli_expectations,
)
from qiskit_vendor_provider.primitives.preparation import CircuitPreparer, parameter_rows
from qiskit_vendor_provider.primitives.suppression import (
    Suppression,
    apply_log_level,
    noiseless,
    suppression_metadata,
)
from qiskit_vendor_provider.primitives.twirling import Frame, balanced_masks, twirl
from qiskit_vendor_provider.primitives.zne import REQUIRED_POINTS, extrapolate, fold
from qiskit_vendor_provider.qiskit_internals import start_job
from qiskit_vendor_provider.session import ExecutionMode

__all__ = ["VendorEstimator", "default_precision", "shots_for_precision"]

QISKIT_DEFAULT_PRECISION = DEFAULT_PRECISION  # the name this module gave it before


def shots_for_precision(precision: float) -> int:
    """Shots per circuit for a precision, as ``BackendEstimatorV2`` counts them.

    >>> shots_for_precision(0.015625), shots_for_precision(0.01)
    (4096, 10000)
    """
    return math.ceil(1.0 / precision**2)


def default_precision(limits: DeviceLimits) -> float:
    """Qiskit's default precision, coarsened until one job's shots are enough for it.

    >>> from qiskit_vendor_provider.api.models import DeviceLimits
    >>> default_precision(DeviceLimits(max_shots=100_000))
    0.015625
    >>> precision = default_precision(DeviceLimits(max_shots=1000))
    >>> round(precision, 4), shots_for_precision(precision)
    (0.0316, 1000)
    """
    precision = DEFAULT_PRECISION
    if shots_for_precision(precision) <= limits.max_shots:
        return precision
    precision = 1.0 / math.sqrt(limits.max_shots)
    # Rounding can leave 1/p**2 a hair above max_shots; nudge p up until it is not.
    while shots_for_precision(precision) > limits.max_shots:
        precision = float(np.nextafter(precision, 1.0))
    return precision


@dataclass(frozen=True)
class _Measurement:
    """One measurement-basis circuit of a PUB and what its rows mean.

    Attributes:
        basis: The basis, the terms it measures and their clbit masks.
        param_indices: Per row, the index in the PUB's bindings array.
        offset: Clbits of the PUB's own circuit, below the measurement register.
        group: Index in ``_Sweep.bases``, or for a calibration a number past them: the
            counts of all twirl variants of one group are merged.
        flip: Clbits of the measurement register whose qubit got an ``X`` before being
            measured (a twirl); they are flipped back before counting.
        factor: Index of the ZNE noise factor the circuit was folded to.
        flips: Per randomisation row, the ``flip`` of that row (None: no twirl rows);
            row ``r`` of the program is binding ``r // len(flips)``.
    """

    basis: MeasurementBasis
    param_indices: list[tuple[int, ...]]
    offset: int
    group: int = 0
    flip: int = 0
    factor: int = 0
    flips: NDArray[np.int64] | None = None


@dataclass(frozen=True)
class _Sweep:
    """A PUB's broadcast shape and its measurements, with parametrized circuits.

    Attributes:
        parameter_indices: Per position of the PUB's shape, the index in its bindings.
        observables: Per position, the observable (Pauli label to coefficient).
        measurements: The PUB's measurement circuits, in program-tag order.
        bases: The distinct bases measured, in group order.
        calibrations: Per basis, the group of its readout calibration (None: unmitigated).
        shots: Shots each basis (all its twirl variants together) is measured with.
    """

    parameter_indices: NDArray[Any]
    observables: NDArray[Any]
    measurements: list[_Measurement]
    bases: list[MeasurementBasis]
    calibrations: list[int | None]
    shots: int
    suppression: Suppression


@dataclass(frozen=True)
class _Work:
    """Everything ``run()`` decided before any HTTP call: PUBs, their sweeps and jobs."""

    pubs: list[EstimatorPub]
    sweeps: list[_Sweep]
    plans: list[JobPlan]
    settings: dict[str, Any]
    options: EstimatorOptions


class VendorEstimator(VendorPrimitiveMixin[EstimatorOptions], BackendEstimatorV2):  # type: ignore[misc]
    """An Estimator V2 for vendor devices: ``BackendEstimatorV2`` plus what it cannot do.

    Same PUBs, same ``PrimitiveResult`` (``evs``, ``stds``, metadata) as
    ``BackendEstimatorV2`` on the same backend, and in addition:

    * **Server-side sweeps.** Each measurement-basis circuit of a PUB goes on the wire once
      with the table of the PUB's parameter values; the server binds every row.
    * **Device limits handled.** The default precision never asks for more shots than
      one job allows; a finer precision is met by splitting its shots over jobs (counts
      merged), up to ``max_jobs`` jobs per run, beyond which :meth:`run` fails before
      any HTTP call. Circuits are packed by ``max_circuits`` and payload size.
    * **Validated options** (see :class:`~.EstimatorOptions`) and transpilation of circuits
      that are not yet ISA; the observables then follow the circuit's layout.

    Args:
        backend: A vendor device, from ``provider.get_backend(...)``.
        mode: As in IBM Runtime's ``EstimatorV2``: a vendor device, or a
            :class:`~qiskit_vendor_provider.Session` or :class:`~qiskit_vendor_provider.Batch`
            to run every job in. Give ``mode`` or ``backend``, not both.
        options: A dict of option values or an :class:`~.EstimatorOptions`.

    Example:
        >>> from qiskit import QuantumCircuit
        >>> from qiskit.quantum_info import SparsePauliOp
        >>> from qiskit_vendor_provider import VendorProvider
        >>> from qiskit_vendor_provider.primitives import VendorEstimator
        >>> backend = VendorProvider().get_backend("ideal_simulator")
        >>> estimator = VendorEstimator(backend=backend, options={"seed_simulator": 1})
        >>> bell = QuantumCircuit(2)
        >>> _ = bell.h(0), bell.cx(0, 1)
        >>> result = estimator.run([(bell, SparsePauliOp(["ZZ", "XX"]))]).result()
        >>> float(result[0].data.evs)
        2.0
    """

    def __init__(
        self,
        *,
        backend: VendorBackend | None = None,
        mode: VendorBackend | ExecutionMode | None = None,
        options: Mapping[str, Any] | EstimatorOptions | None = None,
    ) -> None:
        backend, self._session = resolve_mode(backend, mode, "VendorEstimator")
        super().__init__(backend=backend)
        self._options = initial_options(
            EstimatorOptions, options, {"default_precision": default_precision(backend.limits)}
        )
        self._noiseless = noiseless(backend.target)
        self._options._noiseless = self._noiseless
        self._preparer = CircuitPreparer(backend)
        self._preparer.pass_manager(self._options)
        # Basis changes (h, sdg) in the device's own one-qubit operations, per qubit.
        self._basis_translation = PassManager([Optimize1qGatesDecomposition(target=backend.target)])

    def run(
        self, pubs: Iterable[EstimatorPubLike], *, precision: float | None = None
    ) -> PrimitiveJob[PrimitiveResult[PubResult]]:
        """Run PUBs; every check, transpilation and job plan happens before this returns.

        Args:
            pubs: ``(circuit, observables, parameter_values, precision)`` tuples.
            precision: Precision of PUBs that give none (default:
                ``options.default_precision``).

        Returns:
            The job; its ``result()`` is a ``PrimitiveResult`` of ``PubResult``.

        Raises:
            ValueError: a precision that is not positive (as in ``BackendEstimatorV2``),
                or an observable that is not Hermitian.
            CircuitValidationError: a circuit cannot run on the device.
            VendorValidationError: a precision that needs more than ``options.max_jobs``
                jobs, or another device limit that splitting cannot help.
        """
        options = self._current_options()
        if precision is None:
            precision = _default_precision(options)
        coerced = [EstimatorPub.coerce(pub, precision) for pub in pubs]
        for position, pub in enumerate(coerced):
            # BackendEstimatorV2 refuses it too; coerce() lets 0 through.
            if pub.precision <= 0.0:
                raise ValueError(
                    f"PUB {position}: precision must be greater than 0, not {pub.precision}"
                )
        work = self._plan(coerced, options)
        return start_job(PrimitiveJob(self._execute, work))

    def estimate(
        self, pubs: Iterable[EstimatorPubLike], *, precision: float | None = None
    ) -> DeviceTimeEstimate:
        """The device time :meth:`run` with these arguments would be charged; submits nothing.

        The PUBs are checked, transpiled and planned into jobs (measurement bases, shots
        for the precision) exactly as :meth:`run` does; the estimate sums
        :meth:`VendorBackend.estimate <qiskit_vendor_provider.backend.VendorBackend.estimate>`
        over those jobs.
        """
        options = self._current_options()
        chosen = _default_precision(options) if precision is None else precision
        coerced = [EstimatorPub.coerce(pub, chosen) for pub in pubs]
        for position, pub in enumerate(coerced):
            if pub.precision <= 0.0:
                raise ValueError(
                    f"PUB {position}: precision must be greater than 0, not {pub.precision}"
                )
        work = self._plan(coerced, options)
        return estimate_plans(self.backend, work.plans, memory=False, settings=work.settings)

    def _current_options(self) -> EstimatorOptions:
        options = cast(EstimatorOptions, self._options.copied())
        options._noiseless = self._noiseless
        return options

    def _plan(self, pubs: list[EstimatorPub], options: EstimatorOptions) -> _Work:
        apply_log_level(options)
        settings = options.job_settings()
        limits = self.backend.limits
        if options.dynamical_decoupling.enable:
            check_device(self.backend.target)
        if options.zne():
            _check_noise_factors(options)
        sweeps = []
        # A job has one shot count, so PUBs are packed per shot count, as the parent does.
        programs_by_shots: dict[int, list[Program]] = defaultdict(list)
        for position, pub in enumerate(pubs):
            plan = Suppression.for_estimator(options, shots_for_precision(pub.precision))
            twirls = plan.randomizations
            shots = plan.shots_per_randomization
            chunks = math.ceil(shots / limits.max_shots)
            if chunks > options.max_jobs:
                raise VendorValidationError(
                    f"PUB {position}: precision {pub.precision:g} needs {shots} shots per "
                    f"circuit{' (per twirl variant)' if twirls > 1 else ''}, {chunks} jobs "
                    f"of at most {limits.max_shots} shots on "
                    f"{self.backend.name!r}, over max_jobs={options.max_jobs}. The finest "
                    f"precision within {options.max_jobs} jobs is "
                    f"{1 / math.sqrt(options.max_jobs * limits.max_shots * twirls):.3g}; ask "
                    "for that or coarser, or raise max_jobs with set_options()"
                )
            sweep, programs = self._prepare_pub(pub, position, options, plan)
            sweeps.append(sweep)
            programs_by_shots[shots].extend(programs)
        plans = plan_run(
            programs_by_shots,
            device=self.backend.name,
            limits=limits,
            settings=settings,
            memory=False,
            session_id=self._session_id,
            max_jobs=options.max_jobs,
            remedy=(
                (
                    " (measure_mitigation adds twirled and calibration circuits)"
                    if options.trex()
                    else ""
                )
                + (" (ZNE runs every circuit once per noise factor)" if options.zne() else "")
                + "; ask for a coarser precision or fewer PUBs"
            ),
        )
        return _Work(pubs, sweeps, plans, settings, options)

    def _prepare_pub(  # noqa: PLR0915 - the PUB's bookkeeping, kept in one place
        self, pub: EstimatorPub, position: int, options: EstimatorOptions, plan: Suppression
    ) -> tuple[_Sweep, list[Program]]:
        """The PUB's measurement circuits as parametrized programs, with their bookkeeping.

        Observables and bindings broadcast to the PUB's shape; bindings that need the same
        Pauli terms share measurement circuits, one program per basis (and ZNE noise
        factor), whose rows are those bindings, each repeated once per twirl
        randomisation with that randomisation's frame angles. Identity terms need no
        circuit.
        """
        circuit, transpiled = self._preparer.to_isa(pub.circuit, position, options)
        observables = pub.observables
        if transpiled:
            observables = _apply_layout(observables, circuit.layout, circuit.num_qubits)
        bindings = pub.parameter_values
        param_shape = bindings.shape
        param_indices = np.fromiter(np.ndindex(param_shape), dtype=object).reshape(param_shape)
        bc_param_ind, bc_obs = np.broadcast_arrays(param_indices, observables)
        labels_by_index: dict[tuple[int, ...], set[str]] = defaultdict(set)
        for index in np.ndindex(*bc_param_ind.shape):
            labels_by_index[tuple(bc_param_ind[index])].update(bc_obs[index])
        indices_by_labels: dict[frozenset[str], list[tuple[int, ...]]] = defaultdict(list)
        for param_index, needed in labels_by_index.items():
            indices_by_labels[frozenset(needed)].append(param_index)
        names = [p.name for p in pub.circuit.parameters]
        values = bindings.as_array(names).reshape(bindings.size, len(names))
        values = parameter_rows(values, names, list(circuit.parameters), index=position)
        register = free_register_name(circuit)
        # Seeded from seed_estimator (else the simulator seed) and the PUB, so a seeded
        # run is reproducible.
        seed = options.seed_estimator
        if seed is None:
            seed = options.job_settings().get("seed_simulator")
        rng = np.random.default_rng(None if seed is None else [int(seed), position])
        frame = Frame.for_operations(self.backend.target.operation_names) if plan.twirled else None
        measurements: list[_Measurement] = []
        programs: list[Program] = []
        bases: list[MeasurementBasis] = []

        def add(meas_circuit: QuantumCircuit, measurement: _Measurement, rows: Any) -> None:
            user = list(meas_circuit.parameters)
            flips = None
            if frame is not None:
                measured = meas_circuit.cregs[-1]
                twirled = twirl(
                    meas_circuit,
                    frame,
                    gates=plan.gate_twirling,
                    measured=list(measured) if plan.measure_twirling else [],
                    count=plan.randomizations,
                    rng=rng,
                    strategy=plan.strategy,
                    masks=balanced_masks(len(measured), plan.randomizations, rng),
                )
                meas_circuit = twirled.circuit
                columns = {p: rows[:, i] for i, p in enumerate(user)}
                count = plan.randomizations
                expanded = {p: np.repeat(v, count) for p, v in columns.items()}
                for i, parameter in enumerate(twirled.parameters):
                    expanded[parameter] = np.tile(twirled.values[:, i], len(rows))
                rows = np.column_stack(
                    [expanded[p] for p in meas_circuit.parameters] or [np.zeros(len(rows) * count)]
                )[:, : len(meas_circuit.parameters)]
                flips = twirled.flips
                measurement = _Measurement(
                    measurement.basis,
                    measurement.param_indices,
                    measurement.offset,
                    measurement.group,
                    0,
                    measurement.factor,
                    flips,
                )
            if options.dynamical_decoupling.enable:
                meas_circuit = decouple(
                    meas_circuit, self.backend.target, options.dynamical_decoupling
                )
            self._preparer.check(meas_circuit, position)
            measurements.append(measurement)
            programs.extend(
                self._preparer.programs(
                    meas_circuit,
                    rows,
                    tag=(position, len(measurements) - 1),
                    index=position,
                    options=options,
                    row_block=plan.randomizations if frame is not None else 1,
                )
            )

        amplifier = options.resilience.zne.amplifier
        for labels, indices in indices_by_labels.items():
            flat = [int(np.ravel_multi_index(i, param_shape)) if i else 0 for i in indices]
            rows = values[flat]
            for basis in measurement_bases(labels, abelian_grouping=options.abelian_grouping):
                group = len(bases)
                bases.append(basis)
                base = self._measurement_circuit(circuit, basis, register)
                for factor, noise in enumerate(plan.zne):
                    folded = fold(base, noise, amplifier, rng)
                    measurement = _Measurement(basis, indices, circuit.num_clbits, group, 0, factor)
                    add(folded, measurement, rows)
        calibrations: list[int | None] = [None] * len(bases)
        if plan.trex:
            # One calibration per distinct set of measured qubits, shared by its bases.
            groups: dict[tuple[int, ...], int] = {}
            for which, basis in enumerate(bases):
                if basis.qubits not in groups:
                    group = groups[basis.qubits] = len(bases) + len(groups)
                    calibration = MeasurementBasis("", basis.qubits, (), ())
                    add(
                        self._calibration_circuit(circuit, basis.qubits, register),
                        _Measurement(calibration, [()], circuit.num_clbits, group),
                        np.zeros((1, 0)),
                    )
                calibrations[which] = groups[basis.qubits]
        shots = plan.randomizations * plan.shots_per_randomization
        sweep = _Sweep(bc_param_ind, bc_obs, measurements, bases, calibrations, shots, plan)
        return sweep, programs

    def _calibration_circuit(
        self, circuit: QuantumCircuit, qubits: tuple[int, ...], register: str
    ) -> QuantumCircuit:
        """The measurement of ``|0...0>`` on ``qubits``, in native operations.

        It keeps the PUB circuit's qubits and (unused) clbits, so its measurement register
        sits at the same offset as in the measurement circuits it calibrates; it is
        twirled like them.
        """
        suffix = self._basis_translation.run(
            calibration_circuit(circuit.num_qubits, qubits, register)
        )
        combined = circuit.copy_empty_like()
        combined.metadata = {}
        combined.add_register(suffix.cregs[0])
        combined.compose(suffix, qubits=combined.qubits, clbits=suffix.cregs[0], inplace=True)
        return combined

    def _measurement_circuit(
        self, circuit: QuantumCircuit, basis: MeasurementBasis, register: str
    ) -> QuantumCircuit:
        """``circuit`` followed by the basis change and measurements, in native operations.

        The measurement register comes after the circuit's own clbits, so its outcome is
        the shot's integer shifted right by ``circuit.num_clbits``.
        """
        change = basis_change_circuit(circuit.num_qubits, basis, register)
        suffix = self._basis_translation.run(change)
        combined = circuit.copy()
        combined.add_register(suffix.cregs[0])
        combined.compose(suffix, qubits=combined.qubits, clbits=suffix.cregs[0], inplace=True)
        combined.metadata = {}  # the wire needs none of the user's bookkeeping
        return combined

    def _execute(self, work: _Work) -> PrimitiveResult[PubResult]:
        """Run every job (all submitted before any is waited for); compute the values."""
        # Per (PUB, group, noise factor, binding index): outcome (twirls undone) to shots.
        counts: dict[tuple[int, int, int, tuple[int, ...]], dict[int, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        ran = run_plans(self.backend, work.plans, memory=False, settings=work.settings)
        for program, rows in ran.programs:
            position, which = _estimator_tag(program)
            measurement = work.sweeps[position].measurements[which]
            flips = measurement.flips
            for offset, experiments in enumerate(rows):
                row = program.first_row + offset
                if flips is None:
                    binding, flip = row, measurement.flip
                else:
                    binding, flip = divmod(row, len(flips))
                    flip = int(flips[flip])
                param_index = measurement.param_indices[binding]
                key = (position, measurement.group, measurement.factor, param_index)
                merged = counts[key]
                for outcome, count in _measured_counts(experiments, measurement.offset).items():
                    merged[outcome ^ flip] += count
        # Per PUB, per noise factor, per binding index: label -> (expectation, variance).
        estimates: list[dict[int, dict[tuple[int, ...], dict[str, tuple[float, float]]]]] = [
            defaultdict(lambda: defaultdict(dict)) for _ in work.pubs
        ]
        for (position, group, factor, param_index), basis_counts in counts.items():
            sweep = work.sweeps[position]
            if group >= len(sweep.bases):
                continue  # a calibration, used below by the bases it calibrates
            basis = sweep.bases[group]
            expectations, variances = pauli_expectations(basis_counts, basis.masks)
            calibration = sweep.calibrations[group]
            if calibration is not None:
                scales, scale_variances = pauli_expectations(
                    counts[position, calibration, 0, ()], basis.masks
                )
                expectations, variances = mitigate(expectations, variances, scales, scale_variances)
            values = estimates[position][factor][param_index]
            for label, expectation, variance in zip(
                basis.terms, expectations.tolist(), variances.tolist(), strict=True
            ):
                values[label] = (expectation, variance)
        results = [
            self._pub_result(pub, sweep, pub_values, work.options)
            for pub, sweep, pub_values in zip(work.pubs, work.sweeps, estimates, strict=True)
        ]
        for result, job_ids in zip(
            results, ran.job_ids_by_pub(work.plans, len(work.pubs)), strict=True
        ):
            result.metadata["job_ids"] = job_ids
        metadata = result_metadata(ran)
        first = work.sweeps[0].suppression if work.sweeps else None
        metadata.update(suppression_metadata(work.options, first))
        metadata["resilience"] = _resilience_metadata(work.options)
        return PrimitiveResult(results, metadata=metadata)

    @staticmethod
    def _pub_result(
        pub: EstimatorPub,
        sweep: _Sweep,
        values: Mapping[int, Mapping[tuple[int, ...], Mapping[str, tuple[float, float]]]],
        options: EstimatorOptions,
    ) -> PubResult:
        """``evs`` and ``stds`` over the PUB's shape, and ``BackendEstimatorV2``'s metadata.

        With ZNE, the values at each noise factor are extrapolated to zero
        (``evs_extrapolated``, ``stds_extrapolated``, ``evs_noise_factors``,
        ``stds_noise_factors``, as IBM's results have them).
        """
        shots = sweep.shots
        plan = sweep.suppression
        shape = sweep.parameter_indices.shape
        factors = len(plan.zne)
        evs_nf = np.zeros((*shape, factors), dtype=np.float64)
        stds_nf = np.zeros((*shape, factors), dtype=np.float64)
        empty: dict[str, tuple[float, float]] = {}
        for factor in range(factors):
            by_index = values.get(factor, {})
            for index in np.ndindex(*shape):
                param_index = tuple(sweep.parameter_indices[index])
                evs_nf[(*index, factor)], stds_nf[(*index, factor)] = combine(
                    cast(Mapping[str, float], sweep.observables[index]),
                    by_index.get(param_index, empty),
                    shots,
                )
        metadata: dict[str, Any] = {
            "target_precision": pub.precision,
            "shots": shots,
            "circuit_metadata": pub.circuit.metadata,
        }
        if plan.twirled:
            metadata["num_randomizations"] = plan.randomizations
        if any(calibration is not None for calibration in sweep.calibrations):
            distinct = set(sweep.calibrations)
            metadata["measure_mitigation"] = {
                "method": "TREX",
                "twirls": plan.randomizations,
                "calibration_circuits": len(distinct),
                "calibration_shots": len(distinct) * shots,
            }
        if factors == 1 and plan.zne == (1.0,) and not options.zne():
            evs, stds = evs_nf[..., 0], stds_nf[..., 0]
            return PubResult(DataBin(evs=evs, stds=stds, shape=evs.shape), metadata=metadata)
        zne = options.resilience.zne
        names = zne.extrapolators()
        points = np.array(zne.evaluation_points())
        evs, stds, evs_ex, stds_ex, chosen = _extrapolate_terms(
            sweep, values, np.array(plan.zne), names, points
        )
        metadata["resilience"] = {
            "zne": {
                "noise_factors": list(plan.zne),
                "extrapolator": list(names),
                "extrapolated_noise_factors": points.tolist(),
                # IBM's: per position, the extrapolator its terms used, or "multiple".
                "extrapolators": chosen,
                "amplifier": zne.amplifier,
            }
        }
        data = DataBin(
            evs=evs,
            stds=stds,
            evs_noise_factors=evs_nf,
            stds_noise_factors=stds_nf,
            ensemble_stds_noise_factors=stds_nf,
            evs_extrapolated=evs_ex,
            stds_extrapolated=stds_ex,
            shape=evs.shape,
        )
        return PubResult(data, metadata=metadata)


def _extrapolate_terms(
    sweep: _Sweep,
    values: Mapping[int, Mapping[tuple[int, ...], Mapping[str, tuple[float, float]]]],
    x: NDArray[np.float64],
    names: tuple[str, ...],
    points: NDArray[np.float64],
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Each observable extrapolated term by term, as IBM does.

    Every Pauli term is fitted on its own: ``evs`` sums each term's chosen zero-noise
    value times its coefficient (terms may choose different extrapolators), and
    ``evs_extrapolated`` sums, per extrapolator, every term's fit with that one. Errors
    add as :func:`~.pauli_measurement.combine` adds them (``sum |c| s``).

    Returns:
        ``evs``, ``stds`` (the PUB's shape), ``evs_extrapolated``, ``stds_extrapolated``
        (shape, extrapolators, points) and per position the extrapolator used, or
        "multiple" when its terms used several (IBM's metadata).
    """
    shape = sweep.parameter_indices.shape
    shots = sweep.shots
    evs = np.zeros(shape)
    stds = np.zeros(shape)
    evs_ex = np.zeros((*shape, len(names), len(points)))
    stds_ex = np.zeros((*shape, len(names), len(points)))
    chosen = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        param_index = tuple(sweep.parameter_indices[index])
        observable = cast(Mapping[str, float], sweep.observables[index])
        used: set[str] = set()
        for label, coefficient in observable.items():
            weight = float(coefficient)
            if is_identity(label):
                evs[index] += weight
                evs_ex[index] += weight
                continue
            y = np.array([values[factor][param_index][label][0] for factor in range(len(x))])
            variances = [values[factor][param_index][label][1] for factor in range(len(x))]
            sigma = np.sqrt(np.array(variances) / shots)
            term_ex, term_ex_stds, zero, zero_std, name = extrapolate(names, x, y, sigma, points)
            evs[index] += weight * float(zero[0])
            stds[index] += abs(weight) * float(zero_std[0])
            evs_ex[index] += weight * term_ex
            stds_ex[index] += abs(weight) * term_ex_stds
            used.add(name)
        chosen[index] = used.pop() if len(used) == 1 else ("multiple" if used else names[0])
    return evs, stds, evs_ex, stds_ex, chosen


def _check_noise_factors(options: EstimatorOptions) -> None:
    """Refuse an extrapolator the noise factors are too few to fit, as IBM does."""
    zne = options.resilience.zne
    for name in zne.extrapolators():
        if len(zne.noise_factors) < REQUIRED_POINTS[name]:
            raise VendorValidationError(
                f"resilience.zne.extrapolator {name!r} needs at least "
                f"{REQUIRED_POINTS[name]} noise factors, and resilience.zne.noise_factors "
                f"has {len(zne.noise_factors)} {tuple(zne.noise_factors)}; add noise "
                "factors or choose another extrapolator"
            )


def _default_precision(options: EstimatorOptions) -> float:
    """``default_precision``, or the precision ``default_shots`` gives (IBM: it wins)."""
    if options.default_shots is None:
        return options.default_precision
    precision = 1.0 / math.sqrt(options.default_shots)
    while shots_for_precision(precision) > options.default_shots:
        precision = float(np.nextafter(precision, 1.0))
    return precision


def _resilience_metadata(options: EstimatorOptions) -> dict[str, Any]:
    """IBM's ``metadata["resilience"]``: what was in effect."""
    metadata: dict[str, Any] = {
        "resilience_level": options.level(),
        "measure_mitigation": options.trex(),
        "zne_mitigation": options.zne(),
        "pec_mitigation": False,
    }
    if options.zne():
        zne = options.resilience.zne
        metadata["zne"] = {
            "noise_factors": list(zne.noise_factors),
            "extrapolator": list(zne.extrapolators()),
            "amplifier": zne.amplifier,
        }
    return metadata


def _estimator_tag(program: Program) -> tuple[int, int]:
    """The (PUB position, measurement index) an estimator program was made for."""
    return cast(tuple[int, int], program.tag)


def _measured_counts(experiments: list[ExperimentResult], offset: int) -> dict[int, int]:
    """Counts of the measurement register alone, summed over the shot chunks.

    Keys are the hex integers of all clbits; the PUB circuit's own clbits are the lowest
    ``offset`` bits, so shifting them out leaves the basis measurement, whatever registers
    the PUB circuit has (loose clbits included).
    """
    merged: dict[int, int] = defaultdict(int)
    for experiment in experiments:
        counts = experiment.data.counts
        for value, count in zip(shot_ints(counts), counts.values(), strict=True):
            merged[value >> offset] += int(count)
    return dict(merged)


def _apply_layout(observables: Any, layout: Any, num_qubits: int) -> Any:
    """The observables moved onto the transpiled circuit's physical qubits.

    ``ObservablesArray.apply_layout`` exists from Qiskit 2.1; on 2.0 each observable is
    moved as a ``SparsePauliOp``.
    """
    if hasattr(observables, "apply_layout"):
        return observables.apply_layout(layout, num_qubits)
    from qiskit.primitives.containers.observables_array import (  # noqa: PLC0415
        ObservablesArray,
    )
    from qiskit.quantum_info import SparsePauliOp  # noqa: PLC0415

    moved = np.empty(observables.shape, dtype=object)
    for index in np.ndindex(observables.shape):
        terms = observables[index]
        operator = SparsePauliOp.from_list(list(terms.items())).apply_layout(layout, num_qubits)
        moved[index] = operator
    return ObservablesArray(moved)
