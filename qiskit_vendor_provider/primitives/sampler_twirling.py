"""Twirling for the Sampler: twirled variants as parameter rows, flips undone per row.

The Estimator only needs counts, merged over variants; the Sampler returns every shot,
so each variant's measurement flips must be undone on its own samples before they reach
the user, and the shots of the variants must add up to the PUB's shots. This module is
that bookkeeping, on top of :func:`~qiskit_vendor_provider.primitives.twirling.twirl`:

* :func:`twirlable_measurements`: which measurements may be twirled (the terminal ones);
* :func:`twirl_rows`: the twirled circuit and its table of rows (bindings x variants);
* :func:`untwirl`: per binding, the variants' samples with their flips undone, trimmed
  evenly to the PUB's shots.

Rows are binding-major: row ``b * count + r`` is binding ``b`` in variant ``r``, so the
samples of one binding are its variants' samples one after the other (variant 0 first),
as IBM's results flatten the randomization axis into the shots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from qiskit.circuit import Clbit, ControlFlowOp, QuantumCircuit

from qiskit_vendor_provider.api.shots import shot_ints
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.primitives.suppression import Suppression
from qiskit_vendor_provider.primitives.twirling import Frame, balanced_masks, twirl

__all__ = [
    "SamplerTwirl",
    "check_twirl_shots",
    "twirl_rows",
    "twirlable_measurements",
    "untwirl",
    "variant_shots",
]


def twirlable_measurements(circuit: QuantumCircuit) -> list[Clbit]:
    """The clbits whose measurement is twirled: terminal, top-level, written once.

    A measurement is twirled by an ``X`` before it and the recorded bit flipped back
    after the run. That is only right when nothing after the measurement sees the
    flipped qubit or the flipped bit, so a measurement is twirled when

    * nothing but barriers acts on its qubit afterwards (else the ``X`` would change
      the rest of the circuit: a mid-circuit measurement would need a second ``X``);
    * no other instruction writes or reads its clbit (a condition would branch on the
      flipped value; a second measurement into it makes the last one the result);
    * it is not inside a control-flow block (its bit is a condition's input, or runs a
      variable number of times).

    Other measurements are measured as they are, like IBM's rule of twirling only the
    measurements not involved in conditional logic.

    Returns:
        The clbits, in the circuit's clbit order.
    """
    writers: dict[Clbit, int] = {}
    touched_later_q: set[object] = set()
    touched_later_c: set[Clbit] = set()
    control_flow_bits: set[Clbit] = set()
    terminal: set[Clbit] = set()
    for instruction in reversed(circuit.data):
        operation = instruction.operation
        if isinstance(operation, ControlFlowOp):
            control_flow_bits.update(instruction.clbits)
        if operation.name == "measure":
            (qubit,), (clbit,) = instruction.qubits, instruction.clbits
            writers[clbit] = writers.get(clbit, 0) + 1
            if qubit not in touched_later_q and clbit not in touched_later_c:
                terminal.add(clbit)
        if operation.name != "barrier":
            touched_later_q.update(instruction.qubits)
        touched_later_c.update(instruction.clbits)
    return [
        clbit
        for clbit in circuit.clbits
        if clbit in terminal and writers[clbit] == 1 and clbit not in control_flow_bits
    ]


@dataclass(frozen=True)
class SamplerTwirl:
    """A PUB's twirled variants and how to read their samples back.

    Attributes:
        count: Variants per binding (``num_randomizations``).
        shots_per_variant: Shots each variant runs (``shots_per_randomization``).
        shots: The PUB's shots: samples returned per binding.
        flips: Per variant, the integer whose set bits are the clbits to flip back
            (bit ``k``: clbit ``k``, as in the wire's sample integers).
        twirled_bits: How many measurements were twirled.
    """

    count: int
    shots_per_variant: int
    shots: int
    flips: tuple[int, ...]
    twirled_bits: int


def check_twirl_shots(plan: Suppression, shots: int, position: int) -> None:
    """Refuse a PUB whose variants cannot give its shots (IBM refuses it too).

    Raises:
        VendorValidationError: ``num_randomizations * shots_per_randomization`` is less
            than the PUB's shots.
    """
    available = plan.randomizations * plan.shots_per_randomization
    if available < shots:
        raise VendorValidationError(
            f"PUB {position}: twirling.num_randomizations={plan.randomizations} x "
            f"twirling.shots_per_randomization={plan.shots_per_randomization} = {available} "
            f"shots, fewer than the PUB's {shots}; raise either, set one to 'auto', or ask "
            "for fewer shots"
        )


def twirl_rows(
    circuit: QuantumCircuit,
    rows: NDArray[np.float64],
    plan: Suppression,
    shots: int,
    *,
    frame: Frame,
    rng: np.random.Generator,
) -> tuple[QuantumCircuit, NDArray[np.float64], SamplerTwirl]:
    """The twirled circuit and its rows: every binding of ``rows`` once per variant.

    Args:
        circuit: An ISA circuit.
        rows: One row per binding, columns in ``circuit.parameters`` order.
        plan: The PUB's suppression plan (``plan.twirled`` is true).
        shots: The PUB's shots.
        frame: How the device writes a Pauli frame.
        rng: Source of the random Paulis.

    Returns:
        The circuit with frame parameters, its rows (binding-major, columns in its
        ``parameters`` order) and the bookkeeping to undo the flips.
    """
    measured = twirlable_measurements(circuit) if plan.measure_twirling else []
    count = plan.randomizations
    taken = {parameter.name for parameter in circuit.parameters}
    name = "_twirl"
    while any(existing.startswith(name) for existing in taken):
        name = "_" + name  # a user parameter already spells it: pick a name it cannot
    twirled = twirl(
        circuit,
        frame,
        gates=plan.gate_twirling,
        measured=measured,
        count=count,
        rng=rng,
        strategy=plan.strategy,
        name=name,
        masks=balanced_masks(len(measured), count, rng),
    )
    columns = {parameter: rows[:, i] for i, parameter in enumerate(circuit.parameters)}
    expanded = {parameter: np.repeat(values, count) for parameter, values in columns.items()}
    for i, parameter in enumerate(twirled.parameters):
        expanded[parameter] = np.tile(twirled.values[:, i], len(rows))
    out = twirled.circuit
    table = np.zeros((len(rows) * count, len(out.parameters)), dtype=np.float64)
    for i, parameter in enumerate(out.parameters):
        table[:, i] = expanded[parameter]
    clbit_index = [circuit.find_bit(clbit).index for clbit in measured]
    flips = tuple(
        sum(1 << index for k, index in enumerate(clbit_index) if int(mask) >> k & 1)
        for mask in twirled.flips
    )
    bookkeeping = SamplerTwirl(count, plan.shots_per_randomization, shots, flips, len(measured))
    return out, table, bookkeeping


def variant_shots(shots: int, count: int) -> list[int]:
    """How many of the PUB's ``shots`` each of ``count`` variants gives: as even as can be.

    The first ``shots % count`` variants give one more; every variant runs at least
    that many shots (``count * shots_per_variant >= shots``), and the rest of its shots
    are not returned.

    >>> variant_shots(1000, 16)
    [63, 63, 63, 63, 63, 63, 63, 63, 62, 62, 62, 62, 62, 62, 62, 62]
    """
    base, extra = divmod(shots, count)
    return [base + (1 if variant < extra else 0) for variant in range(count)]


def untwirl(memory: Sequence[Sequence[str] | None], twirl: SamplerTwirl) -> list[list[str] | None]:
    """Per binding, its variants' samples with their flips undone, ``twirl.shots`` of them.

    Args:
        memory: Per row (binding-major), the samples as hex strings (None: missing).
        twirl: The PUB's bookkeeping.

    Returns:
        Per binding, the samples (None when a variant's samples are missing).
    """
    takes = variant_shots(twirl.shots, twirl.count)
    bindings: list[list[str] | None] = []
    for start in range(0, len(memory), twirl.count):
        samples: list[str] | None = []
        for variant, take in enumerate(takes):
            row = memory[start + variant]
            if row is None or samples is None:
                samples = None
                continue
            flip = twirl.flips[variant]
            if flip:
                samples.extend(hex(value ^ flip) for value in shot_ints(row[:take]))
            else:
                samples.extend(row[:take])
        bindings.append(samples)
    return bindings
