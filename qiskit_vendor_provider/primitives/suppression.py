"""What the suppression and mitigation options come to for one PUB: one plan, decided once.

:class:`Suppression` resolves IBM's option tree (resilience level, explicit options
winning over it, twirling's "auto" counts) into what the primitives build, and
:func:`suppression_metadata` writes it back as IBM shapes its metadata.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from qiskit.transpiler import Target

from qiskit_vendor_provider.primitives.options import (
    EstimatorOptions,
    PrimitiveOptions,
    SamplerOptions,
)
from qiskit_vendor_provider.primitives.twirling import twirl_counts

__all__ = ["Suppression", "apply_log_level", "noiseless", "suppression_metadata"]


def noiseless(target: Target) -> bool:
    """Whether no operation of the device has an error (``ideal_simulator``)."""
    for name in target.operation_names:
        for properties in (target[name] or {}).values():
            if properties is not None and properties.error:
                return False
    return True


def apply_log_level(options: PrimitiveOptions) -> None:
    """Set ``environment.log_level`` (when given) on the package's logger."""
    if options.environment.log_level is not None:
        logging.getLogger("qiskit_vendor_provider").setLevel(options.environment.log_level)


@dataclass(frozen=True)
class Suppression:
    """The techniques applied to one PUB and their counts.

    Attributes:
        gate_twirling: 2-qubit gates are twirled.
        measure_twirling: Measurements are twirled.
        trex: Readout errors are mitigated with TREX (a calibration per measured set).
        zne: Noise factors run (``(1.0,)`` without ZNE).
        randomizations: Twirled variants (rows) per circuit and binding (1: none).
        shots_per_randomization: Shots of each variant (the job's shot count).
        strategy: Twirling strategy.
    """

    gate_twirling: bool
    measure_twirling: bool
    trex: bool
    zne: tuple[float, ...]
    randomizations: int
    shots_per_randomization: int
    strategy: str

    @property
    def twirled(self) -> bool:
        """Whether any twirl (so any randomisation row) is made."""
        return self.gate_twirling or self.measure_twirling

    @classmethod
    def for_estimator(cls, options: EstimatorOptions, shots: int) -> Suppression:
        """The plan of an Estimator PUB measured with ``shots`` shots per circuit."""
        return cls._make(
            options,
            shots,
            gate=options.gate_twirling(),
            measure=options.measure_twirling(),
            trex=options.trex(),
            zne=options.resilience.zne.noise_factors if options.zne() else (1.0,),
        )

    @classmethod
    def for_sampler(cls, options: SamplerOptions, shots: int) -> Suppression:
        """The plan of a Sampler PUB of ``shots`` shots."""
        return cls._make(
            options,
            shots,
            gate=options.gate_twirling(),
            measure=options.measure_twirling(),
            trex=False,
            zne=(1.0,),
        )

    @classmethod
    def _make(
        cls,
        options: PrimitiveOptions,
        shots: int,
        *,
        gate: bool,
        measure: bool,
        trex: bool,
        zne: tuple[float, ...],
    ) -> Suppression:
        if gate or measure:
            twirling = options.twirling
            count, per = twirl_counts(
                shots, twirling.num_randomizations, twirling.shots_per_randomization
            )
        else:
            count, per = 1, shots
        return cls(gate, measure, trex, zne, count, per, options.twirling.strategy)


def suppression_metadata(options: PrimitiveOptions, plan: Suppression | None) -> dict[str, Any]:
    """``twirling`` and ``dynamical_decoupling`` entries as IBM's result metadata has them."""
    dd = options.dynamical_decoupling
    metadata: dict[str, Any] = {
        "dynamical_decoupling": {
            "enable": dd.enable,
            "sequence_type": dd.sequence_type,
            "extra_slack_distribution": dd.extra_slack_distribution,
            "scheduling_method": dd.scheduling_method,
            "skip_reset_qubits": dd.skip_reset_qubits,
        },
    }
    if plan is not None:
        metadata["twirling"] = {
            "enable_gates": plan.gate_twirling,
            "enable_measure": plan.measure_twirling,
            "num_randomizations": plan.randomizations if plan.twirled else None,
            "shots_per_randomization": plan.shots_per_randomization if plan.twirled else None,
            "strategy": plan.strategy,
        }
    return metadata
