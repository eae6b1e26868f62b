"""PUB circuits → programs for one device: transpile when needed, sweep on the server when possible.

Two decisions live here:

* **Transpile or not.** A circuit that already runs on the device as it is (an ISA
  circuit, checked with the same :func:`~qiskit_vendor_provider.validation.validate_circuit`
  the backend and the server use) is never touched, so V2 code that transpiles itself gets
  exactly its circuits run. Any other circuit is transpiled with the options' preset pass
  manager, unless ``skip_transpilation`` is set, in which case it fails here, before any
  HTTP call.
* **Bind on the server or here.** A parametrized circuit becomes one program carrying
  its whole table of values; the server binds every row. When an angle is not affine in
  the parameters (the wire format cannot carry it), or a ``bound_pass_manager`` must see
  each bound circuit, the circuit is bound here instead: one program per parameter set.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.passmanager import BasePassManager
from qiskit.transpiler import TranspilerError, generate_preset_pass_manager

from qiskit_vendor_provider.errors import (
    CircuitValidationError,
    FaultyElementError,
    VendorValidationError,
)
from qiskit_vendor_provider.primitives.options import PrimitiveOptions
from qiskit_vendor_provider.primitives.packing import Program, make_program
from qiskit_vendor_provider.serialization import WireFormatError
from qiskit_vendor_provider.validation import validate_circuit

if TYPE_CHECKING:
    from qiskit_vendor_provider.backend import VendorBackend

__all__ = ["CircuitPreparer", "parameter_rows"]

logger = logging.getLogger(__name__)


def parameter_rows(
    values: NDArray[np.float64],
    names: Sequence[str],
    parameters: Sequence[Parameter],
    *,
    index: int,
) -> NDArray[np.float64]:
    """Columns of ``values`` (named ``names``) in the order of ``parameters``.

    Transpiling can drop a parameter whose gates optimise away, so the table is taken
    by name for the parameters the circuit to be run still has.

    Raises:
        VendorValidationError: a value is NaN or infinite, in any column: a value for a
            parameter the transpiler removed is as wrong as any other (Qiskit's reference
            primitives refuse it too), and would otherwise pass unseen.
    """
    if not np.isfinite(values).all():
        raise VendorValidationError(
            f"PUB {index}: the parameter values hold NaN or infinite numbers; give finite "
            "numbers for every parameter"
        )
    column = {name: index for index, name in enumerate(names)}
    return values[:, [column[p.name] for p in parameters]]


class CircuitPreparer:
    """Makes PUB circuits runnable on one device and turns them into programs.

    Args:
        backend: The device.
    """

    def __init__(self, backend: VendorBackend) -> None:
        self._backend = backend
        self._cached: tuple[dict[str, Any], BasePassManager] | None = None

    def pass_manager(self, options: PrimitiveOptions) -> BasePassManager:
        """The preset pass manager for ``optimization_level`` and ``transpile_options``.

        Seeded from ``seed_simulator`` when no ``seed_transpiler`` is given
        (:meth:`~.PrimitiveOptions.pass_manager_keywords`).

        Raises:
            VendorValidationError: ``transpile_options`` holds a value the pass manager
                does not accept.
        """
        keywords = options.pass_manager_keywords()
        if self._cached is not None and self._cached[0] == keywords:
            return self._cached[1]
        try:
            manager = generate_preset_pass_manager(backend=self._backend, **keywords)
        except Exception as exc:
            # Qiskit raises TypeError, ValueError or TranspilerError for a bad value; the
            # user needs to hear which option it was, whatever the class.
            raise VendorValidationError(
                f"transpile_options={options.transpile_options!r} with optimization_level="
                f"{options.optimization_level} do not make a pass manager for "
                f"{self._backend.name!r}: {type(exc).__name__}: {exc}"
            ) from None
        self._cached = (keywords, manager)
        return manager

    def to_isa(
        self, circuit: QuantumCircuit, index: int, options: PrimitiveOptions
    ) -> tuple[QuantumCircuit, bool]:
        """The circuit as the device runs it, and whether it had to be transpiled.

        Raises:
            CircuitValidationError: the circuit is not ISA and ``skip_transpilation`` is set,
                or it cannot run on the device even after transpiling.
        """
        target = self._backend.target
        try:
            validate_circuit(
                circuit, target, device=self._backend.name, index=index, allow_parameters=True
            )
        except CircuitValidationError as exc:
            if options.skip_transpilation:
                raise type(exc)(
                    f"PUB {index}: {exc} (skip_transpilation=True sends circuits as they are; "
                    "set it to False to let the primitive transpile them)"
                ) from None
            refusal = exc
        else:
            return circuit, False
        try:
            isa: QuantumCircuit = self.pass_manager(options).run(circuit)
        except TranspilerError as exc:
            if isinstance(refusal, FaultyElementError):
                # A circuit laid out for an earlier calibration: the faulty element is
                # what the user must hear of, not the transpiler's failure to place it.
                raise FaultyElementError(f"PUB {index}: {refusal}") from None
            # Qiskit's words for what the device cannot do (control flow on a device
            # without it, say), in this package's error, with the PUB it concerns.
            raise CircuitValidationError(
                f"PUB {index} cannot run on device {self._backend.name!r}: {exc}; change "
                "the circuit, or pick a device that supports it (see `qiskit-vendor devices`)"
            ) from None
        validate_circuit(isa, target, device=self._backend.name, index=index, allow_parameters=True)
        return isa, True

    def check(self, circuit: QuantumCircuit, index: int) -> None:
        """Raise :class:`CircuitValidationError` unless the circuit runs on the device as is.

        For circuits the primitive builds (the Estimator's measurement circuits), so that
        they too fail here rather than in a job.
        """
        validate_circuit(
            circuit,
            self._backend.target,
            device=self._backend.name,
            index=index,
            allow_parameters=True,
        )

    def programs(
        self,
        circuit: QuantumCircuit,
        rows: NDArray[np.float64],
        *,
        tag: Hashable,
        index: int,
        options: PrimitiveOptions,
        row_block: int = 1,
    ) -> list[Program]:
        """Programs that run ``circuit`` once per row of ``rows``.

        Args:
            circuit: An ISA circuit.
            rows: One row of values per binding, columns in ``circuit.parameters`` order
                (zero columns for a circuit without parameters).
            tag: Bookkeeping for the caller, kept on every program.
            index: The PUB's position, for messages.
            options: The primitive's options.
            row_block: Consecutive rows the caller pools (the randomizations of one
                binding); said on the wire so the server may share work between them.

        Raises:
            VendorValidationError: a bound circuit that no longer runs on the device
                after ``bound_pass_manager``.
        """
        parameters = tuple(circuit.parameters)
        if len(rows) == 0:
            return []
        if not parameters:
            if len(rows) == 1:
                return [make_program(circuit, tag=tag)]
            # A parameter-free circuit broadcast over a shape runs once per position: one
            # program with a table of empty rows, which the server runs once per row. So
            # every row is on the wire, counted by the rule book and by the device time.
            return [
                make_program(circuit, parameters=(), rows=rows[:, :0], tag=tag, row_block=row_block)
            ]
        if options.bound_pass_manager is None:
            try:
                return [
                    make_program(
                        circuit, parameters=parameters, rows=rows, tag=tag, row_block=row_block
                    )
                ]
            except WireFormatError as exc:
                # The error's own advice ("bind the parameters") is what happens next.
                reason = str(exc).split("; ")[0]
                logger.warning(
                    "PUB %d: %s, which the wire format cannot carry; its %d parameter set(s) "
                    "are bound in this process and sent as %d circuits",
                    index,
                    reason,
                    len(rows),
                    len(rows),
                )
        return self._bound_programs(
            circuit, parameters, rows, tag=tag, index=index, options=options
        )

    def _bound_programs(
        self,
        circuit: QuantumCircuit,
        parameters: tuple[Parameter, ...],
        rows: NDArray[np.float64],
        *,
        tag: Hashable,
        index: int,
        options: PrimitiveOptions,
    ) -> list[Program]:
        bound = [
            circuit.assign_parameters(dict(zip(parameters, row, strict=True)))
            for row in rows.tolist()
        ]
        if options.bound_pass_manager is not None:
            bound = list(options.bound_pass_manager.run(bound))
        programs = []
        for row, circuit_row in enumerate(bound):
            if options.bound_pass_manager is not None:
                validate_circuit(
                    circuit_row, self._backend.target, device=self._backend.name, index=index
                )
            programs.append(make_program(circuit_row, tag=tag, first_row=row))
        return programs
