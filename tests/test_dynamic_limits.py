"""Dynamic circuits at the edges: the wire, the device limits, and what must never hang."""

from __future__ import annotations

import math

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import BreakLoopOp, Parameter
from qiskit.circuit.classical import expr, types
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator

from qiskit_vendor_provider import CircuitValidationError, VendorProvider
from qiskit_vendor_provider.api import models
from qiskit_vendor_provider.emulator import Emulator
from qiskit_vendor_provider.emulator.service import ProblemError
from qiskit_vendor_provider.primitives import VendorSampler
from qiskit_vendor_provider.qiskit_compat import free_parameters
from qiskit_vendor_provider.serialization import WireFormatError, circuit_to_wire, wire_to_circuit
from tests.conftest import MockedApi
from tests.test_dynamic_circuits import SHOTS, assert_same_distribution

IDEAL = "ideal_simulator"
NOISY = "superconducting_27q"


def nested_ifs(depth: int) -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1, name=f"nested{depth}")
    circuit.measure(0, 0)

    def nest(level: int) -> None:
        if level == depth:
            circuit.x(0)
            return
        with circuit.if_test((circuit.clbits[0], 0)):
            nest(level + 1)

    nest(0)
    circuit.measure(0, 0)
    return circuit


def never_ending() -> QuantumCircuit:
    """A while_loop whose condition stays true: the qubit is flipped back each pass."""
    circuit = QuantumCircuit(1, 1, name="forever")
    circuit.x(0)
    circuit.measure(0, 0)
    with circuit.while_loop((circuit.clbits[0], 1)):
        circuit.x(0)
        circuit.x(0)
        circuit.measure(0, 0)
    return circuit


def test_trapped_ion_refuses_control_flow_before_any_http_call(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("trapped_ion_11q")
    assert not {"if_else", "while_loop", "for_loop", "switch_case"} & backend.target.operation_names
    before = len(api.calls())
    with pytest.raises(CircuitValidationError, match="does not support classical control flow"):
        backend.run(nested_ifs(1))
    assert len(api.calls()) == before


def test_nesting_deeper_than_the_device_allows_is_refused_before_http(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend(NOISY)
    assert backend.limits.max_nesting_depth == 3
    pm = generate_preset_pass_manager(backend=backend, optimization_level=0, initial_layout=[0])
    backend.run(pm.run(nested_ifs(3)), shots=10).result()  # at the limit: runs
    before = len(api.calls())
    with pytest.raises(CircuitValidationError, match=r"nests 4 deep; device .* allows 3"):
        backend.run(pm.run(nested_ifs(4)), shots=10)
    assert len(api.calls()) == before


def test_a_for_loop_over_the_limit_is_refused_and_one_at_the_limit_runs(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend(NOISY)
    limit = backend.limits.max_loop_iterations

    def loop(count: int) -> QuantumCircuit:
        circuit = QuantumCircuit(1, 1)
        with circuit.for_loop(range(count)):
            circuit.x(0)
        circuit.measure(0, 0)
        return circuit

    counts = backend.run(loop(limit), shots=200, seed_simulator=1).result().get_counts()
    assert counts.get("0", 0) > 150  # an even number of x: mostly back to 0
    before = len(api.calls())
    with pytest.raises(CircuitValidationError, match=f"runs {limit + 1} times.*at most {limit}"):
        backend.run(loop(limit + 1))
    assert len(api.calls()) == before


def test_nested_loops_that_would_run_too_many_operations_are_refused(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend(NOISY)
    circuit = QuantumCircuit(1, 1)
    with circuit.for_loop(range(100)), circuit.for_loop(range(100)):
        for _ in range(11):
            circuit.x(0)
    with pytest.raises(CircuitValidationError, match="may execute 110101 operations"):
        backend.run(circuit)


def test_a_while_loop_that_never_ends_stops_at_the_device_limit(
    provider: VendorProvider,
) -> None:
    """The worker is never held: the loop runs max_loop_iterations times, then the shot ends."""
    backend = provider.get_backend(IDEAL)
    counts = backend.run(never_ending(), shots=50, seed_simulator=1).result().get_counts()
    assert counts == {"1": 50}


def test_server_refuses_what_a_client_did_not_check(emulator: Emulator) -> None:
    """Programs written by hand reach the emulator's rules, which give 422s, never 500s."""
    too_deep = circuit_to_wire(nested_ifs(4))
    with pytest.raises(ProblemError, match="nests 4 deep") as info:
        emulator.check_submission(models.JobSubmission(device=NOISY, shots=10, programs=[too_deep]))
    assert info.value.status == 422

    on_ion = circuit_to_wire(nested_ifs(1))
    with pytest.raises(ProblemError, match="does not run 'if_else'"):
        emulator.check_submission(
            models.JobSubmission(device="trapped_ion_11q", shots=10, programs=[on_ion])
        )

    stray = circuit_to_wire(nested_ifs(1)).model_dump()
    stray["num_qubits"] = 2
    stray["instructions"][1]["blocks"][0][0]["qubits"] = [1]  # x on 1: not listed by the if_else
    with pytest.raises(ProblemError, match="does not list"):
        emulator.check_submission(
            models.JobSubmission(
                device=IDEAL, shots=10, programs=[models.WireProgram.model_validate(stray)]
            )
        )


def _switch_program(cases: list[list[object]]) -> models.WireProgram:
    x = {"name": "x", "qubits": [0]}
    return models.WireProgram.model_validate(
        {
            "num_qubits": 1,
            "num_clbits": 1,
            "header": {"name": "p"},
            "instructions": [
                {"name": "measure", "qubits": [0], "clbits": [0]},
                {
                    "name": "switch_case",
                    "qubits": [0],
                    "clbits": [0],
                    "target": {"kind": "register", "clbits": [0]},
                    "cases": cases,
                    "blocks": [[x] for _ in cases],
                },
            ],
        }
    )


@pytest.mark.parametrize(
    ("program", "fragment"),
    [
        (_switch_program([["default"], [1]]), "cases after the default are unreachable"),
        (_switch_program([[0], [0]]), "duplicate case value 0"),
        (_switch_program([[0], [1], ["default"]]), None),
    ],
    ids=["default first", "duplicate case", "default last"],
)
def test_hand_written_switches_are_checked_by_the_server(
    emulator: Emulator, program: models.WireProgram, fragment: str | None
) -> None:
    submission = models.JobSubmission(device=IDEAL, shots=10, programs=[program])
    if fragment is None:
        emulator.check_submission(submission)
        return
    with pytest.raises(ProblemError, match=fragment) as info:
        emulator.check_submission(submission)
    assert info.value.status == 422


def test_a_value_that_does_not_fit_its_type_is_refused(emulator: Emulator) -> None:
    program = circuit_to_wire(nested_ifs(1)).model_dump()
    program["instructions"][1]["condition"] = {
        "kind": "binary",
        "op": "EQUAL",
        "operands": [
            {"kind": "register", "clbits": [0]},
            {"kind": "value", "value": 7, "type": {"kind": "uint", "width": 1}},
        ],
    }
    submission = models.JobSubmission(
        device=IDEAL, shots=10, programs=[models.WireProgram.model_validate(program)]
    )
    with pytest.raises(ProblemError, match="the value 7 does not fit in its type"):
        emulator.check_submission(submission)


def test_conditions_on_clbits_out_of_range_are_refused_by_the_models() -> None:
    program = circuit_to_wire(nested_ifs(1)).model_dump()
    program["instructions"][1]["condition"]["clbits"] = [5]
    with pytest.raises(ValueError, match="uses clbit 5, but the program has 1 clbits"):
        models.WireProgram.model_validate(program)


def test_the_wire_keeps_conditions_registers_loops_and_parameters(
    provider_session: VendorProvider,
) -> None:
    backend = provider_session.get_backend(IDEAL)
    reg = ClassicalRegister(2, "r")
    flag = ClassicalRegister(1, "f")
    circuit = QuantumCircuit(QuantumRegister(3, "q"), reg, flag)
    theta = Parameter("theta")
    index = Parameter("i")
    circuit.h([0, 1])
    circuit.measure([0, 1], reg)
    condition = expr.logic_and(expr.equal(reg, 2), expr.logic_not(flag[0]))
    with circuit.if_test(condition) as else_, circuit.for_loop(range(3), loop_parameter=index):
        circuit.rx(theta + 0.5 * index, 2)
    with else_:
        circuit.ry(theta, 2)
    circuit.measure(2, flag[0])
    wire = circuit_to_wire(circuit, parameter_values=[[0.3]], parameters=[theta])
    back = wire_to_circuit(
        models.WireProgram.model_validate_json(wire.model_dump_json()), backend.target
    )
    # The parameters a user binds (Qiskit < 2.4 also lists the loop's i in back.parameters).
    assert [p.name for p in free_parameters(back)] == ["theta"]
    if_else = back.data[4].operation
    assert if_else.name == "if_else"
    assert if_else.condition.type == types.Bool()
    loop = if_else.blocks[0].data[0].operation
    assert loop.name == "for_loop" and list(loop.params[0]) == [0, 1, 2]
    # Sweeps inside blocks: the server binds each row, Aer the same rows locally.
    values = [0.3, 2.0]
    ours = backend.run(circuit, parameter_binds=[{theta: values}], shots=SHOTS, seed_simulator=4)
    for row, value in enumerate(values):
        bound = circuit.assign_parameters({theta: value})
        reference = AerSimulator().run(bound, shots=SHOTS, seed_simulator=9).result().get_counts()
        assert_same_distribution(ours.result().get_counts(row), reference)


def test_parameter_sweeps_inside_blocks_through_the_sampler(
    provider_session: VendorProvider,
) -> None:
    backend = provider_session.get_backend(IDEAL)
    theta = Parameter("theta")
    circuit = QuantumCircuit(2, 2)
    circuit.x(0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.ry(theta, 1)
    circuit.measure(1, 1)
    angles = [0.0, math.pi / 2, math.pi]
    sampler = VendorSampler(backend=backend, options={"seed_simulator": 2})
    result = sampler.run([(circuit, [[a] for a in angles])], shots=SHOTS).result()[0]
    ones = result.data.c.get_counts
    for row, angle in enumerate(angles):
        counts = ones(row)
        p = math.sin(angle / 2) ** 2
        measured = counts.get("11", 0) / SHOTS
        assert abs(measured - p) <= 5 * math.sqrt(p * (1 - p) / SHOTS) + 1 / SHOTS, counts
        assert set(counts) <= {"01", "11"}


def test_memory_of_mid_circuit_measurements_keeps_qiskit_bit_order(
    provider_session: VendorProvider,
) -> None:
    """Clbit 0 is the rightmost character, for the counts and for every shot's memory."""
    backend = provider_session.get_backend(IDEAL)
    circuit = QuantumCircuit(2, 3)
    circuit.x(0)
    circuit.measure(0, 0)  # 1
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(0)
    circuit.measure(0, 1)  # 0: reset by feed-forward
    circuit.x(1)
    circuit.measure(1, 2)  # 1
    result = backend.run(circuit, shots=20, memory=True).result()
    assert result.get_memory() == ["101"] * 20
    assert result.get_counts() == {"101": 20}


def test_break_loop_and_classical_variables_get_a_clear_error() -> None:
    circuit = QuantumCircuit(1, 1)
    with circuit.for_loop(range(2)):
        circuit.append(BreakLoopOp(1, 1), [0], [0])
    with pytest.raises(WireFormatError, match="no break_loop or continue_loop"):
        circuit_to_wire(circuit)

    variables = QuantumCircuit(1, 1)
    flag = variables.add_var("flag", True)
    with variables.if_test(flag):
        variables.x(0)
    with pytest.raises(WireFormatError, match="classical variable"):
        circuit_to_wire(variables)


def test_the_preset_pass_manager_routes_inside_blocks(provider_session: VendorProvider) -> None:
    backend = provider_session.get_backend(NOISY)
    circuit = QuantumCircuit(3, 1)
    circuit.h(0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.cx(0, 2)  # not coupled under the trivial layout
        circuit.cx(2, 1)
    pm = generate_preset_pass_manager(backend=backend, optimization_level=1, seed_transpiler=1)
    isa = pm.run(circuit)
    block = next(i for i in isa.data if i.operation.name == "if_else").operation.blocks[0]
    assert {i.operation.name for i in block.data} <= backend.target.operation_names
    backend.run(isa, shots=10).result()  # validated on both sides, runs


def test_an_uncoupled_gate_inside_a_block_is_named(provider_session: VendorProvider) -> None:
    backend = provider_session.get_backend(NOISY)
    circuit = QuantumCircuit(27, 1)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.ecr(0, 26)
    with pytest.raises(CircuitValidationError, match=r"in a block 1 deep.*cannot apply 'ecr'"):
        backend.run(circuit)


def test_listing_control_flow_keeps_static_programs_scheduled() -> None:
    """Control flow has no duration: it must not make the whole device unschedulable."""
    from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
    from qiskit_vendor_provider.emulator.simulation import PreparedDevice

    device = PreparedDevice.from_spec(DeviceCatalog.from_directories().spec(NOISY))
    assert device.durations is not None
    circuit = QuantumCircuit(27, 1)
    circuit.x(13)
    circuit.delay(1000, 13)
    circuit.measure(13, 0)
    prepared = device.prepare(circuit)
    assert "delay" not in {i.operation.name for i in prepared.data}  # became relaxation


def test_angles_inside_blocks_get_the_native_form(provider_session: VendorProvider) -> None:
    backend = provider_session.get_backend(NOISY)
    circuit = QuantumCircuit(1, 1)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.rz(5.0, 0)
        circuit.sx(0)
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
    block = next(i for i in isa.data if i.operation.name == "if_else").operation.blocks[0]
    angles = [float(i.operation.params[0]) for i in block.data if i.operation.name == "rz"]
    assert angles and all(-math.pi < angle <= math.pi for angle in angles), angles
