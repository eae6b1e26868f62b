"""Options of :class:`VendorSampler` and :class:`VendorEstimator`, validated when set.

The models are pydantic models with ``validate_assignment``: a bad value fails where it is
given (at construction, in ``set_options()`` or on ``options.name = value``), never later
inside a job. Every failure is a :class:`~qiskit_vendor_provider.VendorValidationError`;
an unknown name is answered with the list of valid ones.

Numbers are checked strictly on purpose: ``True`` is not a shot count and ``"yes"`` is not
a flag, although pydantic's lax mode would accept both.
"""

from __future__ import annotations

import difflib
import inspect
import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
)
from qiskit.passmanager import BasePassManager
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.run_options import (
    JOB_SETTING_NAMES,
    JobSettings,
    WholeNumber,
)

__all__ = [
    "DEFAULT_MAX_JOBS",
    "TRANSPILE_OPTION_NAMES",
    "EstimatorOptions",
    "PrimitiveOptions",
    "RunOptions",
    "SamplerOptions",
]

DEFAULT_MAX_JOBS = 100

# The device fixes the target, basis, coupling and dt; every other keyword of
# generate_preset_pass_manager is the user's to choose.
_FIXED_BY_DEVICE = frozenset(
    {"optimization_level", "backend", "target", "basis_gates", "coupling_map", "dt"}
)
TRANSPILE_OPTION_NAMES: tuple[str, ...] = tuple(
    name
    for name in inspect.signature(generate_preset_pass_manager).parameters
    if name not in _FIXED_BY_DEVICE and not name.startswith("_")
)
"""Keywords ``transpile_options`` may hold: those of ``generate_preset_pass_manager``."""


def _real_number(value: Any) -> Any:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number):
            return number
    raise ValueError(f"expected a finite number, got {value!r}")


RealNumber = Annotated[float, BeforeValidator(_real_number)]


def _suggestion(name: str, valid: list[str]) -> str | None:
    """The valid name the user most likely meant: a spelling slip, or a shortened name."""
    close = difflib.get_close_matches(name, valid, n=1)
    if close:
        return close[0]
    # "seed" for "seed_simulator": too short for difflib, but the intent is plain.
    containing = [candidate for candidate in valid if name.lower() in candidate]
    return containing[0] if len(containing) == 1 else None


def _unknown(names: Iterable[str], valid: Iterable[str], owner: str) -> VendorValidationError:
    valid = sorted(valid)
    parts = []
    for name in sorted(names):
        close = _suggestion(name, valid)
        parts.append(f"{name!r} (did you mean {close!r}?)" if close else repr(name))
    return VendorValidationError(
        f"unknown {owner} option(s) {', '.join(parts)}; valid options: {', '.join(valid)}"
    )


def _as_vendor_error(exc: ValidationError, owner: str) -> VendorValidationError:
    messages = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "options"
        # Strip pydantic's "Value error, " prefix: the message already says what is wrong.
        text = str(error["msg"]).removeprefix("Value error, ")
        messages.append(f"{where}={error.get('input')!r}: {text}")
    return VendorValidationError(f"invalid {owner} option: {'; '.join(messages)}")


class _Checked(BaseModel):
    """A model whose construction and assignment raise VendorValidationError."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, arbitrary_types_allowed=True
    )
    _owner: ClassVar[str] = "primitive"

    def __init__(self, **data: Any) -> None:
        unknown = set(data) - set(type(self).model_fields)
        if unknown:
            raise _unknown(unknown, type(self).model_fields, self._owner)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _as_vendor_error(exc, self._owner) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            super().__setattr__(name, value)
            return
        if name not in type(self).model_fields:
            raise _unknown([name], type(self).model_fields, self._owner)
        try:
            super().__setattr__(name, value)
        except ValidationError as exc:
            raise _as_vendor_error(exc, self._owner) from None


class RunOptions(_Checked, JobSettings):
    """What ``run_options`` may pass on to :meth:`VendorBackend.run`.

    The fields are :class:`~qiskit_vendor_provider.run_options.JobSettings`'s, declared
    there once. ``shots`` and ``memory`` are not among them: the primitive sets those itself.
    """

    _owner: ClassVar[str] = "run_options"


class PrimitiveOptions(_Checked, JobSettings):
    """Options shared by the vendor Sampler and Estimator.

    Attributes:
        seed_simulator: Seed of the simulator (None: the server picks one per job). When
            shots are split over jobs, the first job uses this seed and later ones seeds
            derived from it, so no two jobs repeat the same samples.
        run_options: Passed on to ``backend.run()``: ``seed_simulator``, ``job_name``,
            ``job_tags``. The options of the same names win when they are set.
        job_name: Name of every job the primitive submits.
        job_tags: Tags of every job the primitive submits.
        skip_transpilation: Send PUB circuits as they are. When False (the default), a
            circuit that does not already run on the device (not an ISA circuit) is
            transpiled with ``optimization_level`` and ``transpile_options``; ISA circuits
            are always sent untouched.
        optimization_level: Preset pass manager level (0-3) for circuits that need
            transpiling.
        transpile_options: Further keywords of ``generate_preset_pass_manager`` (see
            :data:`TRANSPILE_OPTION_NAMES`), e.g. ``seed_transpiler``. When
            ``seed_simulator`` is set and ``seed_transpiler`` is not, the transpiler is
            seeded with ``seed_simulator``, so a seeded run is reproducible as a whole.
        bound_pass_manager: A pass manager run on each circuit after its parameters are
            bound. Binding then happens in this process, one circuit per parameter set,
            instead of on the server.
        max_jobs: The most jobs one ``run()`` may submit. A run that would need more (a
            precision or shot count far beyond the device's per-job limit) fails before
            any HTTP call.
    """

    # seed_simulator, job_name and job_tags are JobSettings' fields.
    run_options: dict[str, Any] | None = None
    skip_transpilation: StrictBool = False
    optimization_level: Annotated[WholeNumber, Field(ge=0, le=3)] = 1
    transpile_options: dict[str, Any] = Field(default_factory=dict)
    bound_pass_manager: BasePassManager | None = None
    max_jobs: Annotated[WholeNumber, Field(ge=1)] = DEFAULT_MAX_JOBS

    @field_validator("run_options")
    @classmethod
    def _check_run_options(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        RunOptions(**value)
        return dict(value)

    @field_validator("transpile_options")
    @classmethod
    def _check_transpile_options(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = set(value) - set(TRANSPILE_OPTION_NAMES)
        if unknown:
            raise _unknown(unknown, TRANSPILE_OPTION_NAMES, "transpile")
        return dict(value)

    def job_settings(self) -> dict[str, Any]:
        """The job settings (``seed_simulator``, ``job_name``, ``job_tags``) of every job.

        ``run_options`` supplies them; an option of the same name, when set, wins.
        """
        settings = RunOptions(**(self.run_options or {})).model_dump()
        for name in JOB_SETTING_NAMES:
            value = getattr(self, name)
            if value is not None:
                settings[name] = value
        return settings

    def pass_manager_keywords(self) -> dict[str, Any]:
        """The keywords of ``generate_preset_pass_manager``, the device's aside.

        ``transpile_options``, plus ``seed_transpiler`` from the simulator seed when only
        that is set: the layout and routing passes draw random numbers, and a run seeded
        for the simulator alone would still sample different qubits each time.

        >>> PrimitiveOptions(seed_simulator=7).pass_manager_keywords()
        {'optimization_level': 1, 'seed_transpiler': 7}
        >>> PrimitiveOptions(
        ...     seed_simulator=7, transpile_options={"seed_transpiler": 3}
        ... ).pass_manager_keywords()
        {'optimization_level': 1, 'seed_transpiler': 3}
        """
        keywords = {"optimization_level": self.optimization_level, **self.transpile_options}
        seed = self.job_settings().get("seed_simulator")
        if seed is not None and "seed_transpiler" not in keywords:
            keywords["seed_transpiler"] = seed
        return keywords

    def updated(self, fields: Mapping[str, Any]) -> PrimitiveOptions:
        """A validated copy with ``fields`` changed; this object is left as it was."""
        unknown = set(fields) - set(type(self).model_fields)
        if unknown:
            raise _unknown(unknown, type(self).model_fields, self._owner)
        merged = {name: getattr(self, name) for name in type(self).model_fields}
        merged.update(fields)
        return type(self)(**merged)


class SamplerOptions(PrimitiveOptions):
    """Options of :class:`~qiskit_vendor_provider.primitives.VendorSampler`.

    Attributes:
        default_shots: Shots of a PUB that gives none (default: the device's default).
            More than the device allows in one job is fine: the shots are split over jobs
            and the samples merged in order.
        measure_mitigation: Also return readout-corrected quasi-probabilities, in each
            PUB result's ``metadata["quasi_dists"]``, computed from the device's
            calibrated readout errors (no extra shots). The samples stay raw.
    """

    _owner: ClassVar[str] = "VendorSampler"

    default_shots: Annotated[WholeNumber, Field(ge=1)] = 1024
    measure_mitigation: StrictBool = False


class EstimatorOptions(PrimitiveOptions):
    """Options of :class:`~qiskit_vendor_provider.primitives.VendorEstimator`.

    Attributes:
        default_precision: Precision of a PUB that gives none; it takes
            ``ceil(1 / precision**2)`` shots per circuit, as in ``BackendEstimatorV2``.
            The default is Qiskit's 0.015625 (4096 shots), coarsened when needed so that it
            never asks for more shots than one job on the device allows.
        abelian_grouping: Measure qubit-wise commuting Pauli terms together.
        measure_mitigation: Correct readout errors with twirled readout-error extinction
            (TREX, see :mod:`~qiskit_vendor_provider.primitives.mitigation`). Each
            measurement circuit's shots are spread over 8 twirled variants, and one
            calibration circuit per set of measured qubits is added, with as many shots
            as a measurement circuit; those shots count toward ``max_jobs``.
    """

    _owner: ClassVar[str] = "VendorEstimator"

    default_precision: Annotated[RealNumber, Field(gt=0)] = 0.015625
    abelian_grouping: StrictBool = True
    measure_mitigation: StrictBool = False
