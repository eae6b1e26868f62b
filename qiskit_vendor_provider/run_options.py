"""The options of ``VendorBackend.run``, declared once: names, types, defaults.

Everything that passes options to ``backend.run`` or checks them (the primitives, the
backend's ``_default_options`` and ``check_run_options``) reads them from here, so a new
option is added in one place. The IBM-style options ``run`` tolerates for code written
for IBM backends (``meas_level``, ``rep_delay``, ...) are not job options and are checked
in ``backend.py``.

Two models, one inside the other:

* :class:`JobSettings` holds what a *caller* chooses per job and the primitives pass on
  unchanged: ``seed_simulator``, ``job_name``, ``job_tags``, ``max_execution_time``.
* :class:`BackendRunOptions` adds what the caller of ``backend.run`` sets for each call:
  ``shots``, ``memory`` and ``with_progress_bar``. ``parameter_binds`` is an argument of
  ``run()`` rather than an option (it is per circuit, not per job), so it is not a field;
  :func:`run_arguments` builds the whole keyword set, ``parameter_binds`` included.

The models validate strictly (``True`` is not a shot count) but raise pydantic's
``ValidationError``; callers turn that into their own error type and messages.

>>> sorted(JobSettings.model_fields)
['job_name', 'job_tags', 'max_execution_time', 'seed_simulator']
>>> RUN_OPTION_NAMES  # doctest: +NORMALIZE_WHITESPACE
('shots', 'memory', 'seed_simulator', 'job_name', 'job_tags', 'max_execution_time',
 'with_progress_bar')
>>> BackendRunOptions().model_dump()["shots"]
1024
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from qiskit_vendor_provider.api.models import MAX_TAGS

__all__ = [
    "DEFAULT_SHOTS",
    "JOB_SETTING_NAMES",
    "MAX_JOB_NAME_LENGTH",
    "MAX_TAG_LENGTH",
    "RUN_OPTION_NAMES",
    "BackendRunOptions",
    "JobName",
    "JobSettings",
    "JobTags",
    "Seconds",
    "Seed",
    "WholeNumber",
    "default_run_options",
    "run_arguments",
]

DEFAULT_SHOTS = 1024
"""Shots of ``backend.run`` when none are given and the device sets no default."""
MAX_JOB_NAME_LENGTH = 256
MAX_TAG_LENGTH = 64


def _whole_number(value: Any) -> Any:
    # bool is an Integral in Python; as a shot count or a seed it is always a mistake.
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise ValueError(f"expected a whole number, got {value!r}")


def _seconds(value: Any) -> Any:
    # A number of seconds, int (as IBM's option is) or float; never a bool or a string.
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"expected a number of seconds, got {value!r}")


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
"""An int, or a numpy integer; never a bool, a float or a string."""
Seed = Annotated[WholeNumber, Field(ge=0, lt=2**63)]
"""A simulator seed: the API stores it as a signed 64-bit integer."""
Seconds = Annotated[float, BeforeValidator(_seconds), Field(gt=0, allow_inf_nan=False)]
"""A positive, finite number of seconds."""
JobName = Annotated[str, Field(max_length=MAX_JOB_NAME_LENGTH)]
JobTags = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=MAX_TAG_LENGTH)]],
    Field(max_length=MAX_TAGS),
]


class JobSettings(BaseModel):
    """Options a caller chooses for a job; the primitives pass them on as they are.

    Attributes:
        seed_simulator: Seed of the simulator (None: the server picks one).
        job_name: Name of the job.
        job_tags: Tags of the job.
        max_execution_time: Seconds the job may run on the device before it is stopped
            and ends in ERROR, as IBM's option of that name (None: the device's limit,
            ``backend.limits.max_execution_time``, which also bounds it).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    seed_simulator: Seed | None = None
    job_name: JobName | None = None
    job_tags: JobTags | None = None
    max_execution_time: Seconds | None = None


class _Sampling(BaseModel):
    """How the circuits of a call are sampled (what the primitives set themselves)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    shots: Annotated[WholeNumber, Field(ge=1)] = DEFAULT_SHOTS
    memory: StrictBool = False


# Bases in this order put shots and memory first in model_fields (pydantic collects
# fields along the reversed MRO), the order users read in "valid options: ..." messages.
class BackendRunOptions(JobSettings, _Sampling):
    """Every option ``VendorBackend.run`` takes, with its type and default.

    Attributes:
        shots: Shots per circuit (the device's ``default_shots`` replaces the default,
            and its ``max_shots`` bounds it).
        memory: Return per-shot memory as well as counts.
        seed_simulator: As in :class:`JobSettings`.
        job_name: As in :class:`JobSettings`.
        job_tags: As in :class:`JobSettings`.
        max_execution_time: As in :class:`JobSettings`.
        with_progress_bar: Show a progress bar while waiting (None: only in an
            interactive terminal).
    """

    with_progress_bar: StrictBool | None = None


JOB_SETTING_NAMES: tuple[str, ...] = tuple(JobSettings.model_fields)
"""The options the primitives' ``run_options`` may carry to ``backend.run``."""
RUN_OPTION_NAMES: tuple[str, ...] = tuple(BackendRunOptions.model_fields)
"""Every option of ``VendorBackend.run``, in declaration order."""


def default_run_options() -> dict[str, Any]:
    """The defaults of every run option, e.g. for ``BackendV2._default_options``.

    >>> default_run_options()["memory"], default_run_options()["job_tags"]
    (False, None)
    """
    return BackendRunOptions().model_dump()


def run_arguments(
    settings: Mapping[str, Any],
    *,
    shots: int,
    memory: bool,
    seed_simulator: int | None,
    parameter_binds: list[dict[Any, Any]] | None,
) -> dict[str, Any]:
    """The keyword arguments of one ``backend.run`` call.

    Args:
        settings: Job settings (names of :class:`JobSettings`); ``seed_simulator`` among
            them is ignored, since the caller passes the seed of this very job.
        shots: Shots of the job.
        memory: Whether per-shot memory is wanted.
        seed_simulator: Seed of this job.
        parameter_binds: Per circuit, its parameters' values (None: no sweeps).

    Returns:
        Every job setting (its default when ``settings`` lacks it), then the rest.

    Raises:
        ValueError: ``settings`` holds a name that is not a job setting.

    >>> run_arguments({"job_name": "vqe"}, shots=10, memory=False, seed_simulator=1,
    ...               parameter_binds=None)  # doctest: +NORMALIZE_WHITESPACE
    {'seed_simulator': 1, 'job_name': 'vqe', 'job_tags': None, 'max_execution_time': None,
     'shots': 10, 'memory': False, 'parameter_binds': None}
    """
    unknown = set(settings) - set(JOB_SETTING_NAMES)
    if unknown:
        raise ValueError(f"not job settings: {', '.join(sorted(unknown))}")
    arguments: dict[str, Any] = {
        name: settings.get(name, JobSettings.model_fields[name].default)
        for name in JOB_SETTING_NAMES
    }
    arguments.update(
        seed_simulator=seed_simulator,
        shots=shots,
        memory=memory,
        parameter_binds=parameter_binds,
    )
    return arguments
