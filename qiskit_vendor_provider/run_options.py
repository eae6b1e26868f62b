"""The options of ``VendorBackend.run``, declared once: names, types, defaults.

Everything that passes options to ``backend.run`` or checks them (the primitives, the
backend's ``_default_options`` and :func:`check_run_options`) reads them from here, so a
new option is added in one place. The IBM-style options ``run`` tolerates for code
written for IBM backends (``meas_level``, ``rep_delay``, ...) are not job options: they
are checked here too, beside the model.

:func:`check_run_options` validates with :class:`BackendRunOptions` and words each
failure for the option it is about; the device's limits on an option (``max_shots``,
``max_execution_time``, the ``rep_delay`` range) are the rule book's
(:mod:`~qiskit_vendor_provider.rules`), each asked once.

Two models, one inside the other:

* :class:`JobSettings` holds what a *caller* chooses per job and the primitives pass on
  unchanged: ``seed_simulator``, ``job_name``, ``job_tags``, ``max_execution_time``.
* :class:`BackendRunOptions` adds what the caller of ``backend.run`` sets for each call:
  ``shots``, ``memory`` and ``with_progress_bar``. ``parameter_binds`` is an argument of
  ``run()`` rather than an option (it is per circuit, not per job), so it is not a field;
  :func:`run_arguments` builds the whole keyword set, ``parameter_binds`` included.

The models validate strictly (``True`` is not a shot count) but raise pydantic's
``ValidationError``; callers turn that into their own error type and messages
(:func:`check_run_options` does for ``backend.run``).

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

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError

from qiskit_vendor_provider import rules
from qiskit_vendor_provider.api.models import MAX_TAGS, DeviceLimits
from qiskit_vendor_provider.errors import VendorValidationError

__all__ = [
    "ACCEPTED_RUN_OPTIONS",
    "COMPAT_RUN_OPTIONS",
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
    "check_label",
    "check_run_options",
    "default_run_options",
    "run_arguments",
    "text_problem",
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


# Accepted for code written for IBM backends (qiskit-experiments passes the first two on
# every run). The device measures to classified bits only, so only meas_level 2 is valid;
# rep_delay is checked against the device's range and has no effect in the emulator,
# whose shots each start from |0...0>; init_qubits=True is what every shot does already.
# docs/ibm-options.md lists them.
COMPAT_RUN_OPTIONS = ("meas_level", "meas_return", "rep_delay", "init_qubits")
# Every keyword run() takes, as "unknown run option" lists them: this package's options,
# the IBM-style ones above, and the session (taken out of the options before the check).
ACCEPTED_RUN_OPTIONS = (*RUN_OPTION_NAMES, *COMPAT_RUN_OPTIONS, "session")


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


def text_problem(text: str) -> str | None:
    r"""Why ``text`` cannot be a job name or tag (a control character), or None.

    A line break or NUL in a name would be printed raw by every job listing.

    >>> text_problem("vqe run 3"), text_problem("a\nb")
    (None, 'character 2 is a line break or control character')
    """
    for position, char in enumerate(text, start=1):
        if ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 or char in "\u2028\u2029":
            return f"character {position} is a line break or control character"
    return None


def check_label(value: object, what: str, *, max_length: int) -> str:
    """A job name or tag, checked: a string without control characters, not too long.

    Raises:
        VendorValidationError: naming the problem and the fix.
    """
    if not isinstance(value, str):
        raise VendorValidationError(f"{what}={value!r} must be a string")
    problem = text_problem(value)
    if problem is not None:
        raise VendorValidationError(
            f"{what}={value!r}: {problem}; use printable text only (no line breaks, tabs or NUL)"
        )
    if len(value) > max_length:
        raise VendorValidationError(
            f"{what} is {len(value)} characters long; the most is {max_length}"
        )
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_run_options(
    options: Mapping[str, Any],
    limits: DeviceLimits,
    rep_delay_range: tuple[float, float] | None = None,
    *,
    device: str | None = None,
) -> dict[str, Any]:
    """Validate run options against the device limits; return them with plain types.

    The options are validated by :class:`BackendRunOptions`; the device's limits on
    them by the rule book. The IBM-style options are checked and taken out (``rep_delay``
    is kept, as seconds: it is charged as device time).

    Args:
        options: The options, the backend's defaults updated with the call's.
        limits: The device's limits.
        rep_delay_range: The device's range of ``rep_delay`` in seconds (None: the
            device has no wait between shots to set, and any ``rep_delay`` is refused).
        device: The device's name, for messages.

    Raises:
        VendorValidationError: an unknown option or a bad value, with the valid choices
            (:class:`~qiskit_vendor_provider.rules.DeviceLimitError` for a value over a
            device limit).
    """
    unknown = sorted(set(options) - set(ACCEPTED_RUN_OPTIONS))
    if unknown:
        raise VendorValidationError(
            f"unknown run option(s) {', '.join(unknown)}; valid options: "
            f"{', '.join(ACCEPTED_RUN_OPTIONS)}"
        )
    given = dict(options)
    rep_delay = _check_ibm_options(given, rep_delay_range)
    try:
        model = BackendRunOptions.model_validate(given)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = str(first["loc"][0])
        raise _option_error(name, given[name], first, limits) from None
    checked = model.model_dump()
    rules.refuse("max_shots", rules.shots_problem(model.shots, limits, device))
    max_time = given.get("max_execution_time")
    rules.refuse("max_execution_time", rules.execution_time_problem(max_time, limits))
    if model.job_name is not None:
        check_label(model.job_name, "job_name", max_length=MAX_JOB_NAME_LENGTH)
    for tag in model.job_tags or []:
        check_label(tag, "job_tags item", max_length=MAX_TAG_LENGTH)
    checked["job_tags"] = list(model.job_tags or [])
    if rep_delay is not None:
        checked["rep_delay"] = rep_delay
    return checked


def _option_error(
    name: str, value: Any, error: Mapping[str, Any], limits: DeviceLimits
) -> VendorValidationError:
    """The error of an option the model refused, worded for that option."""
    if name == "shots":
        if _is_int(value):
            return rules.DeviceLimitError("max_shots", str(rules.shots_problem(int(value), limits)))
        return VendorValidationError(
            f"shots={value!r} is a {type(value).__name__}, not a whole number: give an int "
            f"from 1 to {limits.max_shots}, e.g. shots=1000"
        )
    if name == "max_execution_time":
        problem = rules.execution_time_problem(value, limits)
        return rules.DeviceLimitError("max_execution_time", str(problem))
    if name in ("job_name", "job_tags") and error["type"] == "string_too_long":
        what = "job_name" if name == "job_name" else "job_tags item"
        limit = MAX_JOB_NAME_LENGTH if name == "job_name" else MAX_TAG_LENGTH
        return VendorValidationError(
            f"{what} is {len(error['input'])} characters long; the most is {limit}"
        )
    if name == "job_tags" and error["type"] == "too_long" and len(error["loc"]) == 1:
        return VendorValidationError(f"job_tags has {len(value)} tags; the most is {MAX_TAGS}")
    messages = {
        "memory": f"memory={value!r} must be True or False",
        "seed_simulator": (
            f"seed_simulator={value!r} must be None or a whole number from 0 to 2**63 - 1"
        ),
        "job_name": f"job_name={value!r} must be a string",
        "job_tags": f"job_tags={value!r} must be a list of non-empty strings, e.g. ['calibration']",
        "with_progress_bar": (
            f"with_progress_bar={value!r} must be True, False or None (only in an "
            "interactive terminal)"
        ),
    }
    return VendorValidationError(messages[name])


def _check_ibm_options(
    checked: dict[str, Any], rep_delay_range: tuple[float, float] | None
) -> float | None:
    """Check and take out the IBM-style options; the ``rep_delay`` to keep, in seconds."""
    level = checked.pop("meas_level", 2)
    if not _is_int(level) or int(level) != 2:
        raise VendorValidationError(
            f"meas_level={level!r} is not available: the device returns classified bits "
            "(counts and memory) only; use meas_level=2 or leave it out"
        )
    meas_return = checked.pop("meas_return", None)
    if meas_return is not None and str(getattr(meas_return, "value", meas_return)) not in (
        "single",
        "avg",
    ):
        raise VendorValidationError(
            f"meas_return={meas_return!r} must be 'single' or 'avg' (it has no effect on "
            "classified results)"
        )
    rep_delay = checked.pop("rep_delay", None)
    problem = rules.rep_delay_problem(rep_delay, rep_delay_range)
    if problem is not None:
        raise VendorValidationError(problem)
    init_qubits = checked.pop("init_qubits", True)
    if init_qubits is not True:
        raise VendorValidationError(
            f"init_qubits={init_qubits!r} is not available: every shot starts with its qubits "
            "reset to |0>; use init_qubits=True or leave it out"
        )
    return None if rep_delay is None else float(rep_delay)
