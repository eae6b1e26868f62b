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
from typing import TYPE_CHECKING, Any

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

__all__ = ["ProgramResults", "estimate_plans", "run_plans"]

logger = logging.getLogger(__name__)

ProgramResults = list[tuple[Program, list[list[ExperimentResult]]]]
"""Per program (in plan order): per row, its experiments over the shot chunks, in order."""


def _arguments(plan: JobPlan, memory: bool, settings: dict[str, Any]) -> dict[str, Any]:
    """The keywords a plan's job is submitted (and estimated) with.

    The names come from the one run-options model; the plan fixes shots and seed. No
    ``parameter_binds``: each program carries its own rows of values.
    """
    arguments = run_arguments(
        settings, shots=plan.shots, memory=memory, seed_simulator=plan.seed, parameter_binds=None
    )
    del arguments["parameter_binds"]
    return arguments


def _programs(plan: JobPlan) -> list[WireProgram]:
    # Checked and written when they were planned: sent as they were sized.
    return [program.program() for program in plan.programs]


def _submit(
    backend: VendorBackend, plan: JobPlan, memory: bool, settings: dict[str, Any]
) -> VendorJob:
    return backend._run_programs(
        [program.circuit for program in plan.programs],
        _programs(plan),
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
        backend._estimate_programs(_programs(plan), **_arguments(plan, memory, settings))
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
) -> ProgramResults:
    """Run the jobs and collect every program's experiments.

    Args:
        backend: The device.
        plans: The jobs, as :func:`~.packing.plan_jobs` made them.
        memory: Ask for per-shot memory.
        settings: The job settings (:class:`~qiskit_vendor_provider.run_options.JobSettings`
            names); each plan's own seed replaces ``seed_simulator``.

    Returns:
        For each distinct program, in order of first appearance: per row, the
        experiments of its shot chunks in chunk order.

    Raises:
        VendorJobError: a job failed, or an experiment in it did not succeed.
    """
    jobs: list[VendorJob] = []
    try:
        for plan in plans:
            jobs.append(_submit(backend, plan, memory, settings))
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
    return _collect(plans, results)


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
