"""``VendorSampler``: Qiskit's ``BackendSamplerV2`` with the vendor's limits, options and sweeps."""

from __future__ import annotations

import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from qiskit.circuit import QuantumCircuit
from qiskit.primitives import BackendSamplerV2, PrimitiveJob, PrimitiveResult
from qiskit.primitives.containers import BitArray, DataBin, SamplerPubLike, SamplerPubResult
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.result import QuasiDistribution
from qiskit.result.models import ExperimentResult

from qiskit_vendor_provider.api.shots import PackedMemory, shot_ints
from qiskit_vendor_provider.backend import VendorBackend
from qiskit_vendor_provider.device_time import DeviceTimeEstimate
from qiskit_vendor_provider.errors import VendorJobError, VendorValidationError
from qiskit_vendor_provider.primitives.base import (
    VendorPrimitiveMixin,
    initial_options,
    resolve_mode,
)
from qiskit_vendor_provider.primitives.decoding import register_layout, unpack_registers
from qiskit_vendor_provider.primitives.decoupling import check_device, decouple
from qiskit_vendor_provider.primitives.execution import (
    estimate_plans,
    result_metadata,
    run_plans,
)
from qiskit_vendor_provider.primitives.mitigation import (
    MAX_MITIGATED_BITS,
    assignment_inverse,
    quasi_probabilities,
)
from qiskit_vendor_provider.primitives.options import SamplerOptions
from qiskit_vendor_provider.primitives.packing import JobPlan, Program, plan_run
from qiskit_vendor_provider.primitives.preparation import CircuitPreparer, parameter_rows
from qiskit_vendor_provider.primitives.sampler_twirling import (
    SamplerTwirl,
    check_twirl_shots,
    twirl_rows,
    untwirl,
)
from qiskit_vendor_provider.primitives.suppression import (
    Suppression,
    apply_log_level,
    suppression_metadata,
)
from qiskit_vendor_provider.primitives.twirling import Frame
from qiskit_vendor_provider.qiskit_internals import start_job
from qiskit_vendor_provider.session import ExecutionMode

__all__ = ["VendorSampler"]


@dataclass(frozen=True)
class _Work:
    """Everything ``run()`` decided before any HTTP call: the PUBs and their jobs."""

    pubs: list[SamplerPub]
    plans: list[JobPlan]
    settings: dict[str, Any]
    inverses: list[list[NDArray[np.float64]] | None]
    options: SamplerOptions
    suppressions: list[Suppression]
    twirls: list[SamplerTwirl | None]


def _memory(experiment: ExperimentResult) -> Sequence[str]:
    memory = getattr(experiment.data, "memory", None)
    if isinstance(memory, PackedMemory):  # kept packed, decoded as it is
        return memory
    # Like BackendSamplerV2: a circuit without measurements read zeros on every shot.
    return list(memory) if memory else ["0x0"] * int(experiment.shots)


class VendorSampler(VendorPrimitiveMixin[SamplerOptions], BackendSamplerV2):  # type: ignore[misc]
    """A Sampler V2 for vendor devices: ``BackendSamplerV2`` plus what it cannot do.

    It takes the same PUBs and returns the same ``PrimitiveResult`` (shapes, dtypes,
    ``num_bits``, register names, metadata) as ``BackendSamplerV2`` on the same backend,
    and in addition:

    * **Server-side sweeps.** A parametrized PUB goes on the wire once, with its table of
      parameter values; the server binds and simulates every row. Angles that are not
      affine in the parameters, or a ``bound_pass_manager``, make it bind here instead.
    * **Device limits handled.** Defaults come from the device; shots over the device's
      per-job maximum are split over jobs and the samples merged in order; PUBs are
      packed into as few jobs as ``max_circuits`` and the payload limit allow.
    * **Twirling** (IBM's ``twirling`` options): the randomizations are rows of one
      program, and each row's measurement flips are undone before the samples are
      returned, so the bits are those of the untwirled circuit, the PUB's shots of them.
    * **Validated options** (see :class:`~.SamplerOptions`), and transpilation of
      circuits that are not yet ISA, as Qiskit's V1 ``BackendSampler`` offered.
    * Everything that can be wrong fails in :meth:`run`, before any HTTP call.

    Args:
        backend: A vendor device, from ``provider.get_backend(...)``.
        mode: As in IBM Runtime's ``SamplerV2``: a vendor device, or a
            :class:`~qiskit_vendor_provider.Session` or :class:`~qiskit_vendor_provider.Batch`
            to run every job in. Give ``mode`` or ``backend``, not both.
        options: A dict of option values or a :class:`~.SamplerOptions`.

    Example:
        >>> from qiskit import QuantumCircuit
        >>> from qiskit_vendor_provider import VendorProvider
        >>> from qiskit_vendor_provider.primitives import VendorSampler
        >>> backend = VendorProvider().get_backend("ideal_simulator")
        >>> sampler = VendorSampler(backend=backend, options={"seed_simulator": 1})
        >>> bell = QuantumCircuit(2)
        >>> _ = bell.h(0), bell.cx(0, 1), bell.measure_all()
        >>> counts = sampler.run([bell], shots=100).result()[0].data.meas.get_counts()
        >>> sorted(counts), sum(counts.values())
        (['00', '11'], 100)
    """

    def __init__(
        self,
        *,
        backend: VendorBackend | None = None,
        mode: VendorBackend | ExecutionMode | None = None,
        options: Mapping[str, Any] | SamplerOptions | None = None,
    ) -> None:
        backend, self._session = resolve_mode(backend, mode, "VendorSampler")
        super().__init__(backend=backend)
        limits = backend.limits
        self._options = initial_options(
            SamplerOptions, options, {"default_shots": min(limits.default_shots, limits.max_shots)}
        )
        self._preparer = CircuitPreparer(backend)
        self._preparer.pass_manager(self._options)

    def run(
        self, pubs: Iterable[SamplerPubLike], *, shots: int | None = None
    ) -> PrimitiveJob[PrimitiveResult[SamplerPubResult]]:
        """Run PUBs; every check, transpilation and job plan happens before this returns.

        Args:
            pubs: ``(circuit, parameter_values, shots)`` tuples, or circuits.
            shots: Shots of PUBs that give none (default: ``options.default_shots``).

        Returns:
            The job; its ``result()`` is a ``PrimitiveResult`` of ``SamplerPubResult``.

        Raises:
            CircuitValidationError: a circuit cannot run on the device (or is not ISA with
                ``skip_transpilation=True``).
            VendorValidationError: the run breaks a device limit that splitting cannot
                help, or needs more than ``options.max_jobs`` jobs.
        """
        options = self._current_options()
        coerced = _coerce(pubs, shots, options)
        for position, pub in enumerate(coerced):
            if not pub.circuit.cregs:
                # BackendSamplerV2's warning, in its words: code may filter on them.
                warnings.warn(
                    f"The {position}-th pub's circuit has no output classical registers and "
                    "so the result will be empty. Did you mean to add measurement "
                    "instructions?",
                    UserWarning,
                    stacklevel=2,
                )
        work = self._plan(coerced, options)
        return start_job(PrimitiveJob(self._execute, work))

    def estimate(
        self, pubs: Iterable[SamplerPubLike], *, shots: int | None = None
    ) -> DeviceTimeEstimate:
        """The device time :meth:`run` with these arguments would be charged; submits nothing.

        The PUBs are checked, transpiled and planned into jobs exactly as :meth:`run`
        does; the estimate sums :meth:`VendorBackend.estimate
        <qiskit_vendor_provider.backend.VendorBackend.estimate>` over those jobs.
        """
        options = self._current_options()
        work = self._plan(_coerce(pubs, shots, options), options)
        return estimate_plans(self.backend, work.plans, memory=True, settings=work.settings)

    def _current_options(self) -> SamplerOptions:
        """An independent copy of the options, as a run uses them."""
        return cast(SamplerOptions, self._options.copied())

    def _plan(self, pubs: list[SamplerPub], options: SamplerOptions) -> _Work:
        apply_log_level(options)
        if options.dynamical_decoupling.enable:
            check_device(self.backend.target)
        settings = options.job_settings()
        # A job has one shot count, so PUBs are packed per shot count, as the parent does.
        programs_by_shots: dict[int, list[Program]] = defaultdict(list)
        inverses: list[list[NDArray[np.float64]] | None] = []
        suppressions: list[Suppression] = []
        twirls: list[SamplerTwirl | None] = []
        for position, pub in enumerate(pubs):
            plan = Suppression.for_sampler(options, pub.shots)
            if plan.twirled:
                check_twirl_shots(plan, pub.shots, position)
            circuit, programs, twirl = self._programs(pub, position, options, plan)
            # A twirled PUB's rows each run shots_per_randomization shots.
            programs_by_shots[plan.shots_per_randomization].extend(programs)
            suppressions.append(plan)
            twirls.append(twirl)
            inverses.append(
                self._readout_inverses(circuit, position) if options.measure_mitigation else None
            )
        plans = plan_run(
            programs_by_shots,
            device=self.backend.name,
            limits=self.backend.limits,
            settings=settings,
            memory=True,
            session_id=self._session_id,
            max_jobs=options.max_jobs,
            remedy="; ask for fewer shots or PUBs",
        )
        return _Work(pubs, plans, settings, inverses, options, suppressions, twirls)

    def _programs(
        self, pub: SamplerPub, position: int, options: SamplerOptions, plan: Suppression
    ) -> tuple[QuantumCircuit, list[Program], SamplerTwirl | None]:
        """The PUB's programs: its ISA circuit (twirled, decoupled) with its rows.

        Twirled, the rows are every binding once per randomization (binding-major), so
        all variants travel as one program with a longer table.
        """
        circuit, _ = self._preparer.to_isa(pub.circuit, position, options)
        bindings = pub.parameter_values
        names = [p.name for p in pub.circuit.parameters]
        values = bindings.as_array(names).reshape(bindings.size, len(names))
        rows = parameter_rows(values, names, list(circuit.parameters), index=position)
        twirl: SamplerTwirl | None = None
        measured = circuit
        if plan.twirled:
            seed = options.job_settings().get("seed_simulator")
            # Seeded from the simulator seed and the PUB, so a seeded run is reproducible.
            rng = np.random.default_rng(None if seed is None else [int(seed), position])
            frame = Frame.for_operations(self.backend.target.operation_names)
            circuit, rows, twirl = twirl_rows(circuit, rows, plan, pub.shots, frame=frame, rng=rng)
        if options.dynamical_decoupling.enable:
            circuit = decouple(circuit, self.backend.target, options.dynamical_decoupling)
        if twirl is not None:
            self._preparer.check(circuit, position)
        programs = self._preparer.programs(
            circuit,
            rows,
            tag=position,
            index=position,
            options=options,
            row_block=twirl.count if twirl is not None else 1,
        )
        return measured, programs, twirl

    def _readout_inverses(
        self, circuit: QuantumCircuit, position: int
    ) -> list[NDArray[np.float64]]:
        """Per classical bit, the inverse assignment matrix of the qubit measured into it.

        The qubit is the one the bit's last measurement reads (the result holds the last
        value written). A bit no measurement writes gets the identity.

        Raises:
            VendorValidationError: too many classical bits for a dense correction, or a
                qubit whose readout error is 0.5 or more (no correction exists).
        """
        if circuit.num_clbits > MAX_MITIGATED_BITS:
            raise VendorValidationError(
                f"PUB {position}: measure_mitigation corrects at most {MAX_MITIGATED_BITS} "
                f"classical bits (it holds 2**bits quasi-probabilities), the circuit has "
                f"{circuit.num_clbits}; measure fewer bits or set measure_mitigation=False"
            )
        measured: dict[int, int] = {}
        for instruction in circuit.data:
            if instruction.operation.name == "measure":
                qubit = circuit.find_bit(instruction.qubits[0]).index
                measured[circuit.find_bit(instruction.clbits[0]).index] = qubit
        target = self.backend.target
        inverses = []
        for clbit in range(circuit.num_clbits):
            qubit = measured.get(clbit)
            properties = None if qubit is None else target["measure"].get((qubit,))
            error = 0.0 if properties is None or properties.error is None else properties.error
            if error >= 0.5:
                raise VendorValidationError(
                    f"PUB {position}: qubit {qubit} of {self.backend.name!r} has readout "
                    f"error {error:g}, which no correction can undo; measure another qubit "
                    "or set measure_mitigation=False"
                )
            inverses.append(assignment_inverse(error))
        return inverses

    def _execute(self, work: _Work) -> PrimitiveResult[SamplerPubResult]:
        """Run every job of the run (all submitted before any is waited for) and decode."""
        memory: list[list[Sequence[str] | None]] = [
            [None] * (pub.parameter_values.size * (1 if twirl is None else twirl.count))
            for pub, twirl in zip(work.pubs, work.twirls, strict=True)
        ]
        outcome = run_plans(self.backend, work.plans, memory=True, settings=work.settings)
        for program, rows in outcome.programs:
            slots = memory[cast(int, program.tag)]  # sampler programs are tagged by PUB
            for offset, experiments in enumerate(rows):
                if len(experiments) == 1:
                    slots[program.first_row + offset] = _memory(experiments[0])
                else:  # shots split over jobs: the chunks' samples, in chunk order
                    slots[program.first_row + offset] = [
                        sample for experiment in experiments for sample in _memory(experiment)
                    ]
        results = []
        job_ids = outcome.job_ids_by_pub(work.plans, len(work.pubs))
        for pub, rows_memory, inverses, pub_job_ids, twirl in zip(
            work.pubs, memory, work.inverses, job_ids, work.twirls, strict=True
        ):
            # Each variant's flips undone on its own samples: the user sees the bits of
            # the untwirled circuit.
            pub_memory = rows_memory if twirl is None else untwirl(rows_memory, twirl)
            result = _pub_result(pub, pub_memory)
            result.metadata["job_ids"] = pub_job_ids
            if twirl is not None:
                result.metadata["num_randomizations"] = twirl.count
                result.metadata["shots_per_randomization"] = twirl.shots_per_variant
            if inverses is not None:
                result.metadata["quasi_dists"] = _quasi_dists(pub, pub_memory, inverses)
            results.append(result)
        metadata = result_metadata(outcome)
        first = work.suppressions[0] if work.suppressions else None
        metadata.update(suppression_metadata(work.options, first))
        return PrimitiveResult(results, metadata=metadata)


def _coerce(
    pubs: Iterable[SamplerPubLike], shots: int | None, options: SamplerOptions
) -> list[SamplerPub]:
    """The PUBs with their shots, in IBM's order of precedence.

    A PUB's own shots, then ``run(shots=...)``, then, with twirling on and both of
    ``num_randomizations`` and ``shots_per_randomization`` given as numbers, their
    product; then ``default_shots``.
    """
    if shots is None:
        shots = options.default_shots
        twirling = options.twirling
        counts = (twirling.num_randomizations, twirling.shots_per_randomization)
        twirled = options.gate_twirling() or options.measure_twirling()
        if twirled and all(isinstance(count, int) for count in counts):
            shots = int(counts[0]) * int(counts[1])
    return [SamplerPub.coerce(pub, shots) for pub in pubs]


def _quasi_dists(
    pub: SamplerPub, memory: Sequence[Sequence[str] | None], inverses: list[NDArray[np.float64]]
) -> NDArray[Any]:
    """Per binding (in the PUB's shape), the readout-corrected quasi-distribution.

    Keys are integers over all the circuit's classical bits (bit ``k``: clbit ``k``), as
    ``QuasiDistribution.binary_probabilities()`` spells them.
    """
    shape = pub.parameter_values.shape
    dists = np.empty(len(memory), dtype=object)
    for index, row in enumerate(memory):
        counts = Counter(shot_ints(row or []))
        dists[index] = QuasiDistribution(
            quasi_probabilities(counts, inverses), shots=sum(counts.values())
        )
    return dists.reshape(shape)


def _pub_result(pub: SamplerPub, memory: Sequence[Sequence[str] | None]) -> SamplerPubResult:
    """The PUB's samples, one ``BitArray`` per classical register, as BackendSamplerV2 has them."""
    rows = [row for row in memory if row is not None]
    if len(rows) != len(memory):
        raise VendorJobError(
            f"the jobs returned no samples for {len(memory) - len(rows)} binding(s)"
        )
    shape = pub.parameter_values.shape
    layout = register_layout(pub.circuit)
    arrays = unpack_registers(rows, shape, pub.shots, layout, pub.circuit.num_clbits)
    return SamplerPubResult(
        DataBin(
            **{item.name: BitArray(arrays[item.name], item.num_bits) for item in layout},
            shape=shape,
        ),
        metadata={"shots": pub.shots, "circuit_metadata": pub.circuit.metadata},
    )
