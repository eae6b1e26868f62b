"""Submit planned jobs through ``backend.run`` and hand back each program's experiments.

All jobs are submitted before the first is waited for, so the server can queue them
while the client waits. If a submission or a job fails, the jobs already submitted are
cancelled (best effort) and the error is raised.

Each job is waited for with ``VendorJob.result``, whose long poll answers the moment the
job ends (against a server without long polls, it polls with a growing interval). A
fixed polling schedule here had cost the 200-circuit benchmark a quarter of a second of
sleeping after its job was done.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from qiskit.result import Result
from qiskit.result.models import ExperimentResult

from qiskit_vendor_provider.api.models import WireProgram
from qiskit_vendor_provider.device_time import DeviceTimeEstimate
from qiskit_vendor_provider.errors import VendorError, VendorJobError
from qiskit_vendor_provider.primitives.packing import JobPlan, Program
from qiskit_vendor_provider.run_options import run_arguments

if TYPE_CHECKING:
    from qiskit_vendor_provider.backend import VendorBackend
    from qiskit_vendor_provider.job import VendorJob

__all__ = ["ProgramResults", "RunOutcome", "estimate_plans", "result_metadata", "run_plans"]

logger = logging.getLogger(__name__)

ProgramResults = list[tuple[Program, list[list[ExperimentResult]]]]
"""Per program (in plan order): per row, its experiments over the shot chunks, in order."""


@dataclass(frozen=True)
class RunOutcome:
    """What the jobs of one ``run()`` gave back.

    Attributes:
        programs: Each program's experiments (see :data:`ProgramResults`).
        job_ids: The vendor job id of each plan, in plan order.
    """

    programs: ProgramResults
    job_ids: list[str]

    def job_ids_by_pub(self, plans: Sequence[JobPlan], num_pubs: int) -> list[list[str]]:
        """Per PUB, the ids of the jobs that ran any of its programs, in submission order.

        Programs are tagged by PUB position, alone (Sampler) or first in a tuple
        (Estimator). A PUB that needed no job (identity observables only) has none.
        """
        ids: list[list[str]] = [[] for _ in range(num_pubs)]
        for plan, job_id in zip(plans, self.job_ids, strict=True):
            for program in plan.programs:
                tag = program.tag
                position = cast(int, tag[0] if isinstance(tag, tuple) else tag)
                if job_id not in ids[position]:
                    ids[position].append(job_id)
        return ids


def _arguments(plan: JobPlan, memory: bool, settings: dict[str, Any]) -> dict[str, Any]:
    """The keywords a plan's job is submitted (and estimated) with.

    The names come from the one run-options model; the plan fixes shots and seed. No
    ``parameter_binds``: each program carries its own rows of values.
    """
    settings = dict(settings)
    rep_delay = settings.pop("rep_delay", None)  # IBM's execution.rep_delay, a run option
    arguments = run_arguments(
        settings, shots=plan.shots, memory=memory, seed_simulator=plan.seed, parameter_binds=None
    )
    del arguments["parameter_binds"]
    if rep_delay is not None:
        arguments["rep_delay"] = rep_delay
    return arguments


def _programs(plan: JobPlan) -> list[WireProgram]:
    # Checked and written when they were planned: sent as they were sized.
    return [program.program() for program in plan.programs]


def _submit(
    backend: VendorBackend, plan: JobPlan, memory: bool, settings: dict[str, Any], *, last: bool
) -> VendorJob:
    # Only the last job may be held for its result: one held before the others are sent
    # would keep them from queueing while it runs.
    return backend.run_programs(
        [program.circuit for program in plan.programs],
        _programs(plan),
        early_result=last,
        **_arguments(plan, memory, settings),
    )


def estimate_plans(
    backend: VendorBackend,
    plans: Sequence[JobPlan],
    *,
    memory: bool,
    settings: dict[str, Any],
) -> DeviceTimeEstimate:
    """The device time of the jobs :func:`run_plans` would submit; submits nothing.

    Each plan's programs are estimated with the arguments ``run_plans`` submits them
    with, so the sum is what the jobs' ``usage()`` adds up to.
    """
    estimates = [
        backend.estimate_programs(_programs(plan), **_arguments(plan, memory, settings))
        for plan in plans
    ]
    return DeviceTimeEstimate(
        device_seconds=sum(estimate.device_seconds for estimate in estimates),
        overhead_seconds=sum(estimate.overhead_seconds for estimate in estimates),
        per_program=tuple(program for e in estimates for program in e.per_program),
        # The queue as last seen: the jobs would join it one after the other.
        pending_jobs=estimates[-1].pending_jobs if estimates else 0,
        num_jobs=len(estimates),
    )


def result_metadata(outcome: RunOutcome) -> dict[str, Any]:
    """The ``PrimitiveResult`` metadata: Qiskit's ``version`` and the vendor job ids.

    With the ids, the jobs (and their raw results) can be found again from any process:
    ``VendorProvider().retrieve_job(job_id)``, as IBM's results carry their job ids.
    """
    return {"version": 2, "job_ids": list(outcome.job_ids)}


def _cancel(jobs: Sequence[VendorJob]) -> None:
    for job in jobs:
        # Best effort: the error that made us cancel is the one worth raising.
        with contextlib.suppress(VendorError):
            job.cancel()


def run_plans(
    backend: VendorBackend,
    plans: Sequence[JobPlan],
    *,
    memory: bool,
    settings: dict[str, Any],
) -> RunOutcome:
    """Run the jobs and collect every program's experiments, and the jobs' ids.

    Args:
        backend: The device.
        plans: The jobs, as :func:`~.packing.plan_jobs` made them.
        memory: Ask for per-shot memory.
        settings: The job settings (:class:`~qiskit_vendor_provider.run_options.JobSettings`
            names); each plan's own seed replaces ``seed_simulator``.

    Returns:
        For each distinct program, in order of first appearance: per row, the
        experiments of its shot chunks in chunk order; and the job id of each plan.

    Raises:
        VendorJobError: a job failed, or an experiment in it did not succeed.
    """
    jobs: list[VendorJob] = []
    try:
        for index, plan in enumerate(plans):
            jobs.append(_submit(backend, plan, memory, settings, last=index == len(plans) - 1))
    except BaseException:
        _cancel(jobs)
        raise
    logger.info(
        "submitted %d job(s) to %s: %s",
        len(jobs),
        backend.name,
        ", ".join(job.job_id() for job in jobs),
    )
    results: list[Result] = []
    try:
        for job in jobs:
            # A progress bar per job would be noise here: the PUBs are the user's unit.
            results.append(job.result(with_progress_bar=False))
    except BaseException:
        # From the job being waited for on: an interrupt leaves it running, and
        # cancelling a job that already failed changes nothing.
        _cancel(jobs[len(results) :])
        raise
    return RunOutcome(_collect(plans, results), [job.job_id() for job in jobs])


def _collect(plans: Sequence[JobPlan], results: Sequence[Result]) -> ProgramResults:
    collected: dict[int, tuple[Program, list[list[ExperimentResult]]]] = {}
    for plan, result in zip(plans, results, strict=True):
        experiments = iter(result.results)
        for program in plan.programs:
            if id(program) not in collected:
                collected[id(program)] = (program, [[] for _ in range(program.num_experiments)])
            rows = collected[id(program)][1]
            for row in rows:
                experiment = next(experiments)
                if not experiment.success:
                    raise VendorJobError(
                        f"job {result.job_id}: circuit {program.circuit.name!r} failed: "
                        f"{getattr(experiment, 'status', None) or 'no status'}"
                    )
                row.append(experiment)
    return list(collected.values())
