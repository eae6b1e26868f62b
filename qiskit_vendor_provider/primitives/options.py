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
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)
from qiskit.passmanager import BasePassManager
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.run_options import (
    JOB_SETTING_NAMES,
    JobSettings,
    JobTags,
    Seconds,
    Seed,
    WholeNumber,
)

__all__ = [
    "DEFAULT_MAX_JOBS",
    "DEFAULT_PRECISION",
    "EXTRAPOLATORS",
    "TRANSPILE_OPTION_NAMES",
    "DynamicalDecouplingOptions",
    "EnvironmentOptions",
    "EstimatorOptions",
    "ExecutionOptions",
    "PrimitiveOptions",
    "ResilienceOptions",
    "RunOptions",
    "SamplerExecutionOptions",
    "SamplerOptions",
    "SimulatorOptions",
    "TwirlingOptions",
    "ZneOptions",
]

DEFAULT_MAX_JOBS = 100
DEFAULT_PRECISION = 0.015625
"""Qiskit's default estimator precision (4096 shots), before a device coarsens it."""

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
    if len(containing) > 1:
        # "seed" also matches seed_estimator; a job setting is the likelier intent.
        containing = [candidate for candidate in containing if candidate in JOB_SETTING_NAMES]
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


def _as_vendor_error(exc: ValidationError, owner: str, prefix: str = "") -> VendorValidationError:
    messages = []
    for error in exc.errors(include_url=False):
        where = ".".join([prefix] * bool(prefix) + [str(part) for part in error["loc"]])
        where = where or "options"
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
    _aliases: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **data: Any) -> None:
        data = self._aliased(data)
        unknown = set(data) - set(type(self).model_fields)
        if unknown:
            raise _unknown(unknown, [*type(self).model_fields, *self._aliases], self._owner)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _as_vendor_error(exc, self._owner) from None

    @classmethod
    def _aliased(cls, fields: dict[str, Any]) -> dict[str, Any]:
        return fields

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


# --- IBM's nested option groups -------------------------------------------------------
#
# Each group is a model of its own, so ``options.twirling.enable_gates = True`` is
# validated as it is set, exactly like a top-level option. A group that IBM has and this
# package does not offer still exists, so that setting one of its options is refused by
# name with what to use instead, rather than failing on an unknown attribute.

PaulTwirlStrategy = Literal["active", "active-accum", "active-circuit", "all"]
Auto = Literal["auto"]
PositiveWhole = Annotated[WholeNumber, Field(ge=1)]

EXTRAPOLATORS: tuple[str, ...] = (
    "linear",
    "exponential",
    "double_exponential",
    *(f"polynomial_degree_{k}" for k in range(1, 8)),
    "fallback",
)
"""Names ``resilience.zne.extrapolator`` takes, as IBM's ``ExtrapolatorType``."""


class _Group(_Checked):
    """A nested option group; its errors name the full path (``twirling.strategy``)."""

    _path: ClassVar[str] = ""

    def __init__(self, **data: Any) -> None:
        unknown = set(data) - set(type(self).model_fields)
        if unknown:
            raise _unknown(unknown, type(self).model_fields, self._path)
        try:
            BaseModel.__init__(self, **data)
        except ValidationError as exc:
            raise _as_vendor_error(exc, self._path, prefix=self._path) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            BaseModel.__setattr__(self, name, value)
            return
        if name not in type(self).model_fields:
            raise _unknown([name], type(self).model_fields, self._path)
        try:
            BaseModel.__setattr__(self, name, value)
        except ValidationError as exc:
            raise _as_vendor_error(exc, self._path, prefix=self._path) from None

    @model_validator(mode="before")
    @classmethod
    def _known_names(cls, data: Any) -> Any:
        # A dict given for the group (``options={"twirling": {...}}``) is checked for
        # unknown names with the same suggestions as keyword arguments.
        if isinstance(data, Mapping):
            unknown = set(data) - set(cls.model_fields)
            if unknown:
                raise _unknown(unknown, cls.model_fields, cls._path)
        return data


def _refuse(path: str, why: str) -> Any:
    """A validator that refuses every value of an option IBM has and we do not offer."""

    def check(value: Any) -> Any:
        if value is None:  # unset, as IBM's Unset: changes nothing
            return None
        raise ValueError(f"not offered: {why}")

    return BeforeValidator(check)


def _only(path: str, allowed: Any, why: str) -> Any:
    """A validator that takes one value (the one that changes nothing) and refuses others."""

    def check(value: Any) -> Any:
        if value is allowed or (type(value) is type(allowed) and value == allowed):
            return value
        raise ValueError(f"not offered: {why}")

    return BeforeValidator(check)


class TwirlingOptions(_Group):
    """Pauli twirling, IBM's ``options.twirling``.

    Attributes:
        enable_gates: Twirl 2-qubit gates (None: the Estimator's resilience level
            decides, True at level 2; the Sampler: False).
        enable_measure: Twirl measurements (None: the Estimator's level decides, True at
            levels 1 and 2; the Sampler: False).
        num_randomizations: Twirled variants per circuit, or "auto" (IBM's rule:
            ``ceil(shots / shots_per_randomization)``).
        shots_per_randomization: Shots of each variant, or "auto" (IBM's rule:
            ``max(64, ceil(shots / 32))`` when both are "auto",
            ``ceil(shots / num_randomizations)`` otherwise).
        strategy: Which qubits of a layer of 2-qubit gates get a Pauli frame: those of
            the layer (active), of the layers so far (active-accum), of the whole circuit
            (active-circuit) or every qubit of the circuit (all).
    """

    _path: ClassVar[str] = "twirling"

    enable_gates: StrictBool | None = None
    enable_measure: StrictBool | None = None
    num_randomizations: PositiveWhole | Auto = "auto"
    shots_per_randomization: PositiveWhole | Auto = "auto"
    strategy: PaulTwirlStrategy = "active-accum"


class DynamicalDecouplingOptions(_Group):
    """Dynamical decoupling, IBM's ``options.dynamical_decoupling``.

    Attributes:
        enable: Pad every idle period with a DD sequence.
        sequence_type: XX, XpXm (an X and an X of opposite phase) or XY4.
        extra_slack_distribution: Where the slack that does not divide evenly goes:
            the middle interval or the two edges.
        scheduling_method: ALAP or ASAP scheduling before padding.
        skip_reset_qubits: Leave qubits idle before their first gate (or right after a
            reset) undecoupled.
    """

    _path: ClassVar[str] = "dynamical_decoupling"

    enable: StrictBool = False
    sequence_type: Literal["XX", "XpXm", "XY4"] = "XX"
    extra_slack_distribution: Literal["middle", "edges"] = "middle"
    scheduling_method: Literal["alap", "asap"] = "alap"
    skip_reset_qubits: StrictBool = False


def _noise_factors(value: Any) -> Any:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValueError(f"expected a sequence of numbers, got {value!r}")
    factors = tuple(_real_number(item) for item in value)
    if not factors:
        raise ValueError("give at least one noise factor")
    if any(factor < 1.0 for factor in factors):
        raise ValueError("noise factors are at least 1 (1 is the circuit as it is)")
    return factors


def _extrapolated_factors(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValueError(f"expected a sequence of numbers, got {value!r}")
    factors = tuple(_real_number(item) for item in value)
    if any(factor < 0.0 for factor in factors):
        raise ValueError("extrapolated noise factors are at least 0")
    return factors


def _extrapolators(value: Any) -> Any:
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, Iterable) or not names:
        raise ValueError(f"expected an extrapolator name or a sequence of them, got {value!r}")
    names = tuple(names)
    bad = [name for name in names if name not in EXTRAPOLATORS]
    if bad:
        raise ValueError(f"unknown extrapolator(s) {bad!r}; valid: {', '.join(EXTRAPOLATORS)}")
    return value if isinstance(value, str) else names


class ZneOptions(_Group):
    """Zero-noise extrapolation, IBM's ``options.resilience.zne``.

    Attributes:
        amplifier: gate_folding (2-qubit gates chosen at random when a factor needs only
            some folded), gate_folding_front or gate_folding_back. IBM's "pea" is refused.
        noise_factors: Noise factors (at least 1) the circuit is run at.
        extrapolator: One name or a sequence tried in order (IBM's fallback): linear,
            exponential, double_exponential, polynomial_degree_k (k 1 to 7), fallback.
        extrapolated_noise_factors: Where the fits are evaluated for
            ``evs_extrapolated`` (None: ``(0, *noise_factors)``).
    """

    _path: ClassVar[str] = "resilience.zne"

    amplifier: Literal["gate_folding", "gate_folding_front", "gate_folding_back"] = "gate_folding"
    noise_factors: Annotated[tuple[float, ...], BeforeValidator(_noise_factors)] = (1.0, 3.0, 5.0)
    extrapolator: Annotated[str | tuple[str, ...], BeforeValidator(_extrapolators)] = (
        "exponential",
        "linear",
    )
    extrapolated_noise_factors: Annotated[
        tuple[float, ...] | None, BeforeValidator(_extrapolated_factors)
    ] = None

    @field_validator("amplifier", mode="before")
    @classmethod
    def _no_pea(cls, value: Any) -> Any:
        if value == "pea":
            raise ValueError(
                "resilience.zne.amplifier='pea' is not offered: probabilistic error "
                "amplification needs learned layer noise models; use 'gate_folding' (or "
                "'gate_folding_front' / 'gate_folding_back')"
            )
        return value

    def extrapolators(self) -> tuple[str, ...]:
        """The extrapolators as a tuple, in the order they are tried."""
        return (self.extrapolator,) if isinstance(self.extrapolator, str) else self.extrapolator

    def evaluation_points(self) -> tuple[float, ...]:
        """Where the fits are evaluated: ``extrapolated_noise_factors`` or ``(0, *factors)``."""
        if self.extrapolated_noise_factors is not None:
            return self.extrapolated_noise_factors
        return (0.0, *self.noise_factors)


_NO_PEC = (
    "probabilistic error cancellation needs learned layer noise models, which the "
    "vendor does not offer; use resilience.zne_mitigation=True (or resilience_level=2)"
)
_NO_LEARNING = (
    "layer noise learning serves PEC and PEA, neither of which is offered; use "
    "resilience.zne_mitigation=True with a gate_folding amplifier"
)
_MEASURE_LEARNING = (
    "the TREX calibration uses the measurement twirl's own randomizations; set "
    "twirling.num_randomizations / twirling.shots_per_randomization instead"
)


class MeasureNoiseLearningOptions(_Group):
    """IBM's ``resilience.measure_noise_learning``: refused (see the message)."""

    _path: ClassVar[str] = "resilience.measure_noise_learning"

    num_randomizations: Annotated[
        Any, _refuse("resilience.measure_noise_learning.num_randomizations", _MEASURE_LEARNING)
    ] = None
    shots_per_randomization: Annotated[
        Any,
        _refuse("resilience.measure_noise_learning.shots_per_randomization", _MEASURE_LEARNING),
    ] = None


class PecOptions(_Group):
    """IBM's ``resilience.pec``: refused, PEC is not offered."""

    _path: ClassVar[str] = "resilience.pec"

    max_overhead: Annotated[Any, _refuse("resilience.pec.max_overhead", _NO_PEC)] = None
    noise_gain: Annotated[Any, _refuse("resilience.pec.noise_gain", _NO_PEC)] = None


class LayerNoiseLearningOptions(_Group):
    """IBM's ``resilience.layer_noise_learning``: refused, nothing here uses it."""

    _path: ClassVar[str] = "resilience.layer_noise_learning"

    max_layers_to_learn: Annotated[
        Any, _refuse("resilience.layer_noise_learning.max_layers_to_learn", _NO_LEARNING)
    ] = None
    shots_per_randomization: Annotated[
        Any, _refuse("resilience.layer_noise_learning.shots_per_randomization", _NO_LEARNING)
    ] = None
    num_randomizations: Annotated[
        Any, _refuse("resilience.layer_noise_learning.num_randomizations", _NO_LEARNING)
    ] = None
    layer_pair_depths: Annotated[
        Any, _refuse("resilience.layer_noise_learning.layer_pair_depths", _NO_LEARNING)
    ] = None


class ResilienceOptions(_Group):
    """Error mitigation of the Estimator, IBM's ``options.resilience``.

    Attributes:
        measure_mitigation: TREX readout mitigation (None: the resilience level
            decides, True at levels 1 and 2).
        zne_mitigation: Zero-noise extrapolation (None: the level decides, True at 2).
        zne: The ZNE options.
        pec_mitigation: Only False: PEC is not offered.
        measure_noise_learning, pec, layer_noise_learning, layer_noise_model: IBM's
            options of methods not offered; setting any is refused with the reason.
    """

    _path: ClassVar[str] = "resilience"

    measure_mitigation: StrictBool | None = None
    measure_noise_learning: MeasureNoiseLearningOptions = Field(
        default_factory=MeasureNoiseLearningOptions
    )
    zne_mitigation: StrictBool | None = None
    zne: ZneOptions = Field(default_factory=ZneOptions)
    pec_mitigation: Annotated[bool, _only("resilience.pec_mitigation", False, _NO_PEC)] = False
    pec: PecOptions = Field(default_factory=PecOptions)
    layer_noise_learning: LayerNoiseLearningOptions = Field(
        default_factory=LayerNoiseLearningOptions
    )
    layer_noise_model: Annotated[Any, _only("resilience.layer_noise_model", None, _NO_LEARNING)] = (
        None
    )


class EnvironmentOptions(_Group):
    """IBM's ``options.environment``.

    Attributes:
        log_level: Level set on the ``qiskit_vendor_provider`` logger when a run is
            planned (None: left as it is; IBM's default is "WARNING").
        job_tags: Tags of every job (the same as the top-level ``job_tags``, which wins).
        private: Only False: results are kept until the jobs are deleted.
    """

    _path: ClassVar[str] = "environment"

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] | None = None
    job_tags: JobTags | None = None
    private: Annotated[
        bool,
        _only(
            "environment.private",
            False,
            "the vendor keeps results until you delete the job; use job.delete() (or "
            "`qiskit-vendor jobs delete`) when a run is done",
        ),
    ] = False


_NO_SIMULATOR = (
    "the fake devices simulate their own calibrated noise on their own coupling and "
    "gates; pick the device you want with provider.get_backend(...), or use "
    "ideal_simulator for no noise"
)


class SimulatorOptions(_Group):
    """IBM's ``options.simulator``: only ``seed_simulator`` is taken."""

    _path: ClassVar[str] = "simulator"

    seed_simulator: Seed | None = None
    noise_model: Annotated[Any, _refuse("simulator.noise_model", _NO_SIMULATOR)] = None
    coupling_map: Annotated[Any, _refuse("simulator.coupling_map", _NO_SIMULATOR)] = None
    basis_gates: Annotated[Any, _refuse("simulator.basis_gates", _NO_SIMULATOR)] = None


class ExecutionOptions(_Group):
    """IBM's ``options.execution``.

    Attributes:
        init_qubits: Only True: every shot starts with its qubits reset.
        rep_delay: Wait between shots, seconds, within the device's ``rep_delay_range``
            (charged as device time).
        meas_type: Sampler only, and only "classified": the devices return bits.
    """

    _path: ClassVar[str] = "execution"

    init_qubits: Annotated[
        bool,
        _only(
            "execution.init_qubits",
            True,
            "every shot starts with its qubits reset to |0>; leave it True",
        ),
    ] = True
    rep_delay: Seconds | None = None


class SamplerExecutionOptions(ExecutionOptions):
    """IBM's Sampler ``options.execution``, with ``meas_type``."""

    meas_type: Annotated[
        str,
        _only(
            "execution.meas_type",
            "classified",
            "the devices return classified bits only (no kerneled IQ data); use 'classified'",
        ),
    ] = "classified"


def _merge(into: dict[str, Any], changes: Mapping[str, Any], groups: Iterable[str]) -> None:
    """Merge ``changes`` into ``into``, descending into the dicts of option groups.

    ``into`` holds fresh dicts for the groups (a model dump); any other value is the
    option's own object and is replaced, never changed in place.
    """
    for name, given in changes.items():
        value = given.model_dump(round_trip=True) if isinstance(given, _Group) else given
        if name in groups and isinstance(value, Mapping) and isinstance(into.get(name), dict):
            inner = into[name]
            nested = {key for key, item in inner.items() if isinstance(item, dict)}
            _merge(inner, value, nested)
        else:
            into[name] = value


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
    # IBM's groups, under IBM's names (see docs/ibm-options.md).
    twirling: TwirlingOptions = Field(default_factory=TwirlingOptions)
    dynamical_decoupling: DynamicalDecouplingOptions = Field(
        default_factory=DynamicalDecouplingOptions
    )
    environment: EnvironmentOptions = Field(default_factory=EnvironmentOptions)
    simulator: SimulatorOptions = Field(default_factory=SimulatorOptions)
    execution: ExecutionOptions = Field(default_factory=ExecutionOptions)
    experimental: Annotated[
        Any,
        _only(
            "experimental",
            None,
            "there are no experimental options; every option is documented in docs/primitives.md",
        ),
    ] = None

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
        # IBM's spellings first, so the top-level options of the same meaning win.
        if self.simulator.seed_simulator is not None:
            settings["seed_simulator"] = self.simulator.seed_simulator
        if self.environment.job_tags is not None:
            settings["job_tags"] = list(self.environment.job_tags)
        for name in JOB_SETTING_NAMES:
            value = getattr(self, name)
            if value is not None:
                settings[name] = value
        if self.execution.rep_delay is not None:
            settings["rep_delay"] = self.execution.rep_delay
        return settings

    def rep_delay(self) -> float | None:
        """``execution.rep_delay``, sent with every job (checked against the device's range)."""
        return self.execution.rep_delay

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
        fields = self._aliased(dict(fields))
        unknown = set(fields) - set(type(self).model_fields)
        if unknown:
            raise _unknown(unknown, type(self).model_fields, self._owner)
        merged: dict[str, Any] = {}
        groups = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, _Group):
                merged[name] = value.model_dump(round_trip=True)
                groups.append(name)
            else:
                merged[name] = value  # objects (pass managers) as they are
        # A dict for a group changes only the options it names, as IBM's update() does.
        _merge(merged, fields, groups)
        copy = type(self)(**merged)
        # Private state (the device's default resilience level) travels with the copy.
        for name, value in (self.__pydantic_private__ or {}).items():
            setattr(copy, name, value)
        return copy

    def copied(self) -> PrimitiveOptions:
        """An independent copy: later changes to either leave the other as it was."""
        return self.updated({})

    @classmethod
    def _aliased(cls, fields: dict[str, Any]) -> dict[str, Any]:
        """Older or IBM spellings moved to where the option lives now."""
        return fields


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
    execution: SamplerExecutionOptions = Field(default_factory=SamplerExecutionOptions)

    def gate_twirling(self) -> bool:
        """Whether 2-qubit gates are twirled (IBM's Sampler default: no)."""
        return bool(self.twirling.enable_gates)

    def measure_twirling(self) -> bool:
        """Whether measurements are twirled (IBM's Sampler default: no)."""
        return bool(self.twirling.enable_measure)


class EstimatorOptions(PrimitiveOptions):
    """Options of :class:`~qiskit_vendor_provider.primitives.VendorEstimator`.

    Attributes:
        default_precision: Precision of a PUB that gives none; it takes
            ``ceil(1 / precision**2)`` shots per circuit, as in ``BackendEstimatorV2``.
            The default is Qiskit's 0.015625 (4096 shots), coarsened when needed so that it
            never asks for more shots than one job on the device allows.
        abelian_grouping: Measure qubit-wise commuting Pauli terms together.
        default_shots: Shots per circuit and configuration; when set it overrides
            ``default_precision`` (as at IBM).
        resilience_level: IBM's levels: 0 none; 1 TREX with measurement twirling;
            2 level 1 plus ZNE with gate twirling. None: 1 on a noisy device, 0 on
            ``ideal_simulator`` (nothing to mitigate there; IBM's default is 1).
            Options set explicitly win over what the level implies.
        resilience: TREX, ZNE (and IBM's refused PEC/PEA learning options).
        seed_estimator: Seed of the twirling and folding randomness (default: from
            ``seed_simulator``).

    ``measure_mitigation``, the older spelling of ``resilience.measure_mitigation``, is a
    property: reading it gives the value in effect.
    """

    _owner: ClassVar[str] = "VendorEstimator"
    _aliases: ClassVar[tuple[str, ...]] = ("measure_mitigation",)

    default_precision: Annotated[RealNumber, Field(gt=0)] = DEFAULT_PRECISION
    default_shots: Annotated[WholeNumber, Field(ge=1)] | None = None
    abelian_grouping: StrictBool = True
    resilience_level: Annotated[WholeNumber, Field(ge=0, le=2)] | None = None
    resilience: ResilienceOptions = Field(default_factory=ResilienceOptions)
    seed_estimator: Seed | None = None
    _noiseless: bool = False

    @classmethod
    def _aliased(cls, fields: dict[str, Any]) -> dict[str, Any]:
        if "measure_mitigation" not in fields:
            return fields
        fields = dict(fields)
        value = fields.pop("measure_mitigation")
        resilience = fields.get("resilience")
        if isinstance(resilience, _Group):
            resilience = resilience.model_dump(round_trip=True)
        fields["resilience"] = {**(resilience or {}), "measure_mitigation": value}
        return fields

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "measure_mitigation":
            self.resilience.measure_mitigation = value
            return
        super().__setattr__(name, value)

    @property
    def measure_mitigation(self) -> bool:
        """The older spelling of ``resilience.measure_mitigation``: the value in effect."""
        return self.trex()

    def level(self) -> int:
        """The resilience level in effect (the device's default when none is set)."""
        if self.resilience_level is not None:
            return self.resilience_level
        return 0 if self._noiseless else 1

    def trex(self) -> bool:
        """Whether readout errors are mitigated with TREX."""
        chosen = self.resilience.measure_mitigation
        return self.level() >= 1 if chosen is None else chosen

    def zne(self) -> bool:
        """Whether zero-noise extrapolation is done."""
        chosen = self.resilience.zne_mitigation
        return self.level() >= 2 if chosen is None else chosen

    def gate_twirling(self) -> bool:
        """Whether 2-qubit gates are twirled."""
        chosen = self.twirling.enable_gates
        return self.level() >= 2 if chosen is None else chosen

    def measure_twirling(self) -> bool:
        """Whether measurements are twirled (always with TREX, which needs it)."""
        chosen = self.twirling.enable_measure
        return self.trex() or (self.level() >= 1 if chosen is None else chosen)
