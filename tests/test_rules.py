"""The rule book: each device limit tested once, and the same verdict on every side.

Every rule is checked on its own against :func:`rules.check`, at the limit (passes) and
one past it (fails with the limit named). Then each case goes through the three places
that must use the rule book: ``backend.run`` (before any HTTP call), the primitives'
planning, and the emulator (a 4xx), which must all agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from qiskit_vendor_provider import VendorProvider, rules
from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.models import DeviceLimits, JobSubmission
from qiskit_vendor_provider.emulator import Emulator
from qiskit_vendor_provider.emulator.problems import ProblemError
from qiskit_vendor_provider.primitives.packing import make_program, plan_jobs
from qiskit_vendor_provider.serialization import circuit_to_wire
from tests.conftest import MockedApi

IDEAL = "ideal_simulator"


def flat(operations: int) -> QuantumCircuit:
    circuit = QuantumCircuit(1, name="flat")
    for _ in range(operations):
        circuit.x(0)
    return circuit


def nested(depth: int) -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1, name="nested")
    circuit.measure(0, 0)
    blocks = [circuit.if_test((circuit.clbits[0], 1)) for _ in range(depth)]
    for block in blocks:
        block.__enter__()
    circuit.x(0)
    for block in reversed(blocks):
        block.__exit__(None, None, None)
    return circuit


def looped(iterations: int, inner: int = 1) -> QuantumCircuit:
    circuit = QuantumCircuit(1, name="looped")
    with circuit.for_loop(range(iterations)):
        for _ in range(inner):
            circuit.x(0)
    return circuit


@dataclass(frozen=True)
class Rule:
    """One limit: a job at it and a job one past it, and the phrase its error has."""

    limit: str
    at: JobSubmission
    past: JobSubmission
    phrase: str


def job(
    *circuits: QuantumCircuit, shots: int = 10, max_execution_time: float | None = None
) -> JobSubmission:
    return JobSubmission(
        device=IDEAL,
        shots=shots,
        programs=[circuit_to_wire(c) for c in circuits],
        max_execution_time=max_execution_time,
    )


def sweep(rows: int) -> JobSubmission:
    theta = Parameter("t")
    circuit = QuantumCircuit(1, name="sweep")
    circuit.rx(theta, 0)
    program = circuit_to_wire(circuit, parameters=[theta], parameter_values=[[0.5]] * rows)
    return JobSubmission(device=IDEAL, shots=10, programs=[program])


LIMITS = DeviceLimits(
    max_shots=100,
    max_circuits=3,
    max_operations=50,
    max_payload_bytes=2_000,
    max_parameter_rows=5,
    max_loop_iterations=4,
    max_nesting_depth=2,
    max_execution_time=60,
)


def padded(extra: int) -> JobSubmission:
    """A job of exactly max_payload_bytes + ``extra`` bytes (padded in circuit metadata)."""
    circuit = flat(1)
    circuit.metadata = {"pad": ""}
    padding = LIMITS.max_payload_bytes - len(wire.encode_submission(job(circuit)))
    circuit.metadata = {"pad": "x" * (padding + extra)}
    return job(circuit)


RULES = [
    Rule("max_shots", job(flat(1), shots=100), job(flat(1), shots=101), "101 shots exceed"),
    Rule("max_circuits", job(*[flat(1)] * 3), job(*[flat(1)] * 4), "4 circuits exceed the 3"),
    Rule("max_payload_bytes", padded(0), padded(1), "over the 2000-byte limit"),
    Rule("max_operations", job(flat(50)), job(flat(51)), "has 51 operations"),
    Rule("max_parameter_rows", sweep(5), sweep(6), "has 6 rows of parameter values"),
    Rule("max_nesting_depth", job(nested(2)), job(nested(3)), "nests 3 deep"),
    Rule("max_loop_iterations", job(looped(4)), job(looped(5)), "runs 5 times"),
    Rule("max_operations", job(looped(4, 12)), job(looped(4, 13)), "may execute 53 operations"),
    Rule(
        "max_execution_time",
        job(flat(1), max_execution_time=60),
        job(flat(1), max_execution_time=61),
        "out of range: give seconds above 0 and at most 60",
    ),
]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.limit}:{rule.phrase[:24]}")
def test_each_rule_passes_at_the_limit_and_fails_past_it(rule: Rule) -> None:
    rules.check(rule.at, LIMITS)
    with pytest.raises(rules.DeviceLimitError, match=rule.phrase) as info:
        rules.check(rule.past, LIMITS)
    assert info.value.rule == rule.limit


def test_every_limit_of_the_api_has_a_rule() -> None:
    limits = set(DeviceLimits.model_fields) - {"default_shots"}
    covered = {name.strip() for key in rules.RULES for name in key.split(",")}
    assert limits == covered


# --------------------------------------------------------------------------- every side


@pytest.mark.parametrize(
    "rule", [r for r in RULES if r.limit != "max_shots"], ids=lambda r: r.limit
)
def test_backend_run_and_the_emulator_give_the_same_verdict(
    provider: VendorProvider, api: MockedApi, emulator: Emulator, rule: Rule
) -> None:
    backend = provider.get_backend(IDEAL)
    backend._spec = backend.spec.model_copy(update={"limits": LIMITS})
    past = rule.past
    before = len(api.calls())
    with pytest.raises(rules.DeviceLimitError, match=rule.phrase):
        rules.check(past, backend.limits)
    # The client: refused before any request.
    from qiskit_vendor_provider.serialization import wire_to_circuit

    circuits = [wire_to_circuit(p, backend.target) for p in past.programs]
    for circuit, program in zip(circuits, past.programs, strict=True):
        circuit.metadata = program.header.metadata
    binds = [
        {c.parameters[0]: [row[0] for row in p.parameter_values]} if p.parameters else {}
        for c, p in zip(circuits, past.programs, strict=True)
    ]
    with pytest.raises(rules.DeviceLimitError, match=rule.phrase):
        backend.run(
            circuits,
            parameter_binds=binds if any(binds) else None,
            shots=past.shots,
            max_execution_time=past.max_execution_time,
        )
    assert len(api.calls()) == before
    # The server, with the same limits: a 4xx that says the same.
    spec = emulator.catalog.spec(IDEAL).model_copy(update={"limits": LIMITS})
    from qiskit_vendor_provider.emulator.program_rules import check_programs

    with pytest.raises(ProblemError, match=rule.phrase) as info:
        check_programs(past, spec, emulator.catalog.target(IDEAL))
    assert info.value.status == (413 if rule.limit == "max_payload_bytes" else 422)


@pytest.mark.parametrize(
    "circuit",
    [flat(51), nested(3), looped(5), looped(4, 13)],
    ids=["operations", "nesting", "iterations", "executed"],
)
def test_packing_applies_the_same_program_rules(circuit: QuantumCircuit) -> None:
    with pytest.raises(rules.ProgramLimitError) as expected:
        rules.check_program(circuit_to_wire(circuit), LIMITS, device=IDEAL)
    with pytest.raises(rules.ProgramLimitError, match=re.escape(str(expected.value))):
        plan_jobs(
            [make_program(circuit)], 10, device=IDEAL, limits=LIMITS, settings={}, memory=False
        )
