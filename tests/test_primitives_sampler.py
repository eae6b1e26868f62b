"""VendorSampler: server-side sweeps, the fallback, and the same answers as the references."""

from __future__ import annotations

import json
import logging
import math
import random

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, Clbit, Parameter, ParameterVector, QuantumRegister
from qiskit.dagcircuit import DAGCircuit
from qiskit.primitives import BackendSamplerV2
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.providers import BackendV2, Options
from qiskit.result import Result
from qiskit.transpiler import (
    PassManager,
    Target,
    TransformationPass,
    generate_preset_pass_manager,
)
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import SamplerV2 as AerSamplerV2

from qiskit_vendor_provider import CircuitValidationError, VendorProvider, VendorValidationError
from qiskit_vendor_provider.primitives import VendorSampler
from qiskit_vendor_provider.primitives.decoding import register_layout, unpack_registers
from tests.conftest import MockedApi
from tests.helpers import assert_metadata_extends, sent_operation_names


def layered_circuit(num_qubits: int = 8, layers: int = 2) -> QuantumCircuit:
    """An ansatz of ry/rz layers and a cx ladder: the sweep of the benchmark, smaller."""
    angles = ParameterVector("t", 2 * num_qubits * layers)
    circuit = QuantumCircuit(num_qubits, name="ansatz")
    it = iter(angles)
    for _ in range(layers):
        for qubit in range(num_qubits):
            circuit.ry(next(it), qubit)
            circuit.rz(next(it), qubit)
        for qubit in range(num_qubits - 1):
            circuit.cx(qubit, qubit + 1)
    circuit.measure_all()
    return circuit


def sigma_bound(p: float, shots: int, sigmas: float = 5.0) -> float:
    """Tolerance for a difference of two independent estimates of ``p`` from ``shots`` each."""
    variance = max(p * (1 - p), 1.0 / shots)
    return sigmas * math.sqrt(2 * variance / shots)


def assert_same_distribution(a: dict[str, int], b: dict[str, int], shots: int) -> None:
    for key in set(a) | set(b):
        pa, pb = a.get(key, 0) / shots, b.get(key, 0) / shots
        assert abs(pa - pb) <= sigma_bound((pa + pb) / 2, shots), (key, a, b)


# --------------------------------------------------------------------------- sweeps


def test_a_sweep_goes_on_the_wire_once_with_its_table(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.rx(theta, 0)
    circuit.measure_all()
    values = np.linspace(0, math.pi, 12).reshape(3, 4, 1)
    shots = 400
    result = VendorSampler(backend=backend, options={"seed_simulator": 1}).run(
        [(circuit, values)], shots=shots
    )
    pub = result.result()[0]
    (call,) = api.calls("POST", "/v1/jobs")
    (program,) = json.loads(call.request.body)["programs"]
    assert program["parameters"] == ["theta"]
    assert len(program["parameter_values"]) == 12
    assert len(sent_operation_names(program)) == 3  # rx, barrier, measure: the circuit once
    assert pub.data.meas.shape == (3, 4)
    for index in np.ndindex(3, 4):
        p_one = math.sin(values[index][0] / 2) ** 2
        observed = pub.data.meas[index].get_counts().get("1", 0) / shots
        assert abs(observed - p_one) <= 5 * math.sqrt(max(p_one * (1 - p_one), 1 / shots) / shots)


def test_request_for_1000_bindings_is_at_most_twice_one_bound_circuit_plus_values(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = layered_circuit()
    values = np.random.default_rng(3).uniform(0, 2 * math.pi, (1000, circuit.num_parameters))
    sampler = VendorSampler(backend=backend)
    sampler.run([(circuit, values)], shots=10).result()
    sweep = len(api.calls("POST", "/v1/jobs")[-1].request.body)
    sampler.run([circuit.assign_parameters(values[0])], shots=10).result()
    bound = len(api.calls("POST", "/v1/jobs")[-1].request.body)
    values_bytes = len(json.dumps(values.tolist(), separators=(",", ":")))
    assert sweep <= 2 * (bound + values_bytes)
    # And the growth is the values alone: 999 more rows cost no more than their numbers.
    sampler.run([(circuit, values[:1])], shots=10).result()
    one_row = len(api.calls("POST", "/v1/jobs")[-1].request.body)
    assert sweep - one_row <= 1.05 * values_bytes


def test_non_affine_angles_fall_back_to_client_side_binding(
    provider: VendorProvider, api: MockedApi, caplog: pytest.LogCaptureFixture
) -> None:
    backend = provider.get_backend("ideal_simulator")
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.rx(theta * theta, 0)
    circuit.measure_all()
    # theta**2 = 0, pi, pi/2: outcomes 0, 1 and a fair coin.
    roots = np.sqrt([0.0, math.pi, math.pi / 2]).reshape(3, 1)
    shots = 2000
    with caplog.at_level(logging.WARNING, logger="qiskit_vendor_provider.primitives"):
        pub = VendorSampler(backend=backend, options={"seed_simulator": 8}).run(
            [(circuit, roots)], shots=shots
        )
        data = pub.result()[0].data.meas
    assert "not affine" in caplog.text
    (call,) = api.calls("POST", "/v1/jobs")
    programs = json.loads(call.request.body)["programs"]
    assert len(programs) == 3
    assert all(not program.get("parameters") for program in programs)
    assert data.shape == (3,)
    assert data[0].get_counts() == {"0": shots}
    assert data[1].get_counts() == {"1": shots}
    assert abs(data[2].get_counts()["1"] / shots - 0.5) <= sigma_bound(0.5, shots)


def test_bound_pass_manager_runs_on_every_bound_circuit(
    provider: VendorProvider, api: MockedApi
) -> None:
    seen: list[QuantumCircuit] = []

    class Record(TransformationPass):  # type: ignore[misc]
        def run(self, dag: DAGCircuit) -> DAGCircuit:
            seen.append(dag)
            return dag

    backend = provider.get_backend("ideal_simulator")
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.rx(theta, 0)
    circuit.measure_all()
    sampler = VendorSampler(
        backend=backend, options={"bound_pass_manager": PassManager([Record()])}
    )
    pub = sampler.run([(circuit, [[0.0], [math.pi]])], shots=16).result()[0]
    assert len(seen) == 2
    (call,) = api.calls("POST", "/v1/jobs")
    assert len(json.loads(call.request.body)["programs"]) == 2
    assert [pub.data.meas[i].get_counts() for i in range(2)] == [{"0": 16}, {"1": 16}]


# --------------------------------------------------------------------------- transpilation


def test_circuits_that_are_not_isa_are_transpiled(provider: VendorProvider) -> None:
    backend = provider.get_backend("superconducting_27q")
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    circuit.measure_all()
    sampler = VendorSampler(
        backend=backend, options={"seed_simulator": 4, "transpile_options": {"seed_transpiler": 4}}
    )
    counts = sampler.run([circuit], shots=1000).result()[0].data.meas.get_counts()
    assert counts.get("000", 0) + counts.get("111", 0) > 850  # GHZ through a noisy device
    with pytest.raises(CircuitValidationError):
        # The generic wrapper sends what it is given, and the device refuses it.
        BackendSamplerV2(backend=backend).run([circuit]).result()


def test_skip_transpilation_sends_circuits_as_they_are(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("superconducting_27q")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    sampler = VendorSampler(backend=backend, options={"skip_transpilation": True})
    before = len(api.calls())
    with pytest.raises(CircuitValidationError, match="skip_transpilation=True"):
        sampler.run([circuit])
    assert len(api.calls()) == before
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
    assert sampler.run([isa], shots=10).result()[0].data.meas.num_shots == 10


def test_isa_circuits_are_sent_untouched(provider: VendorProvider, api: MockedApi) -> None:
    backend = provider.get_backend("superconducting_27q")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    isa = generate_preset_pass_manager(backend=backend, optimization_level=0).run(circuit)
    sampler = VendorSampler(backend=backend, options={"optimization_level": 3})
    sampler.run([isa], shots=10).result()
    (program,) = json.loads(api.calls("POST", "/v1/jobs")[-1].request.body)["programs"]
    assert sent_operation_names(program) == [item.operation.name for item in isa.data]


# --------------------------------------------------------------------------- references


def test_distributions_agree_with_aer_sampler(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = layered_circuit(num_qubits=3, layers=2)
    values = np.random.default_rng(11).uniform(0, 2 * math.pi, (4, circuit.num_parameters))
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure_all()
    shots = 4000
    pubs = [(circuit, values), (bell,)]
    ours = VendorSampler(backend=backend, options={"seed_simulator": 21}).run(pubs, shots=shots)
    aer = AerSamplerV2(seed=21).run(pubs, shots=shots)
    for mine, theirs in zip(ours.result(), aer.result(), strict=True):
        assert mine.data.meas.shape == theirs.data.meas.shape
        for index in np.ndindex(mine.data.meas.shape):
            assert_same_distribution(
                mine.data.meas[index].get_counts(), theirs.data.meas[index].get_counts(), shots
            )


def registers_circuit() -> QuantumCircuit:
    """Two named registers, a partial measurement, metadata: what results must keep."""
    qreg = QuantumRegister(3, "q")
    alpha, beta = ClassicalRegister(2, "alpha"), ClassicalRegister(9, "beta")
    circuit = QuantumCircuit(qreg, alpha, beta, name="registers", metadata={"run": 7})
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.x(2)
    circuit.measure(0, alpha[1])
    circuit.measure(2, beta[8])
    circuit.measure(1, beta[0])
    return circuit


@pytest.mark.parametrize("device", ["ideal_simulator", "superconducting_27q"])
def test_results_match_backend_sampler_v2_on_the_same_backend(
    provider: VendorProvider, device: str
) -> None:
    backend = provider.get_backend(device)
    to_isa = generate_preset_pass_manager(backend=backend, optimization_level=1, seed_transpiler=1)
    theta = Parameter("theta")
    swept = QuantumCircuit(2, name="swept")
    swept.ry(theta, 0)
    swept.cx(0, 1)
    swept.measure_all()
    unmeasured = QuantumCircuit(1, 1, name="unmeasured")
    unmeasured.x(0)
    no_clbits = QuantumCircuit(1, name="no_clbits")
    pubs = [
        (to_isa.run(registers_circuit()),),
        (to_isa.run(swept), np.linspace(0, math.pi, 6).reshape(2, 3, 1)),
        (to_isa.run(unmeasured), None, 5),
        (to_isa.run(no_clbits),),
    ]
    options = {"seed_simulator": 5, "default_shots": 64}
    with pytest.warns(UserWarning, match="no output classical registers"):
        ours = VendorSampler(backend=backend, options=options).run(pubs).result()
    with pytest.warns(UserWarning, match="no output classical registers"):
        theirs = BackendSamplerV2(backend=backend, options=options).run(pubs).result()
    assert_metadata_extends(ours.metadata, theirs.metadata)
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs, strict=True):
        assert_metadata_extends(mine.metadata, reference.metadata)
        assert list(mine.data.keys()) == list(reference.data.keys())
        assert mine.data.shape == reference.data.shape
        for name in reference.data:
            a, b = mine.data[name], reference.data[name]
            assert type(a) is type(b)
            assert (a.shape, a.num_bits, a.num_shots) == (b.shape, b.num_bits, b.num_shots)
            assert a.array.dtype == b.array.dtype == np.uint8
            assert a.array.shape == b.array.shape
    # A circuit without parameters goes out exactly as BackendSamplerV2 sends it, with the
    # same seed: the decoded samples must then be identical, bit for bit.
    for name in ("alpha", "beta"):
        assert np.array_equal(ours[0].data[name].array, theirs[0].data[name].array)
    assert ours[0].data.alpha.get_counts().keys() <= {"00", "10"}
    assert ours[2].data.c.get_counts() == {"0": 5}


def test_loose_clbits_and_registers_decode_like_backend_sampler_v2(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend("ideal_simulator")
    loose = Clbit()
    creg = ClassicalRegister(2, "c")
    circuit = QuantumCircuit(QuantumRegister(2, "q"), [loose], creg)
    circuit.x(1)
    circuit.measure(1, loose)
    circuit.measure(1, creg[1])
    circuit.measure(0, creg[0])
    options = {"seed_simulator": 1}
    ours = VendorSampler(backend=backend, options=options).run([circuit], shots=8).result()
    theirs = BackendSamplerV2(backend=backend, options=options).run([circuit], shots=8).result()
    assert ours[0].data.c.get_counts() == theirs[0].data.c.get_counts() == {"10": 8}


class _CannedJob:
    def __init__(self, result: Result) -> None:
        self._result = result

    def result(self) -> Result:
        return self._result


class _CannedBackend(BackendV2):
    """Answers every run with the given per-experiment memory, in order."""

    def __init__(self, num_clbits: int, memory: list[list[str]]) -> None:
        super().__init__(name="canned")
        self._memory = memory
        self._target = Target(num_qubits=1)

    @property
    def target(self) -> Target:
        return self._target

    @property
    def max_circuits(self) -> None:
        return None

    @classmethod
    def _default_options(cls) -> Options:
        return Options(shots=1, memory=True, seed_simulator=None)

    def run(self, run_input: object, **options: object) -> _CannedJob:
        experiments = [
            {"shots": len(rows), "success": True, "data": {"memory": rows}, "header": {}}
            for rows in self._memory
        ]
        return _CannedJob(Result.from_dict({"results": experiments}))


@pytest.mark.parametrize(
    "sizes",
    [(2, 9), (1,), (8, 8), (5, 0, 3), (64,), (30, 40), (70,), (3, 66)],
    ids=[
        "two-regs",
        "one-bit",
        "byte-aligned",
        "empty-reg",
        "64-bits",
        "over-64-bits",
        "one-wide-reg",
        "two-wide-regs",
    ],
)
def test_decoding_is_bit_for_bit_backend_sampler_v2s(sizes: tuple[int, ...]) -> None:
    # BackendSamplerV2 decodes the same memory through its public run(); ours must give
    # the same arrays on the vectorised path (<= 64 clbits) and on the wide one.
    registers = [ClassicalRegister(size, f"r{i}") for i, size in enumerate(sizes)]
    circuit = QuantumCircuit(QuantumRegister(1), *registers)
    circuit.rx(Parameter("a"), 0)
    num_clbits = circuit.num_clbits
    bits = random.Random(sum(sizes))
    shape, shots = (3, 2), 17
    memory = [[hex(bits.getrandbits(num_clbits)) for _ in range(shots)] for _ in range(6)]
    generic = BackendSamplerV2(backend=_CannedBackend(num_clbits, memory))
    values = np.zeros((*shape, 1))
    theirs = generic.run([(circuit, values)], shots=shots).result()[0]
    layout = register_layout(circuit)
    ours = unpack_registers(memory, shape, shots, layout)
    assert [item.name for item in layout] == list(theirs.data.keys())
    for item in layout:
        reference = theirs.data[item.name]
        assert item.num_bits == reference.num_bits
        assert ours[item.name].dtype == reference.array.dtype
        assert np.array_equal(ours[item.name], reference.array)


def test_an_empty_register_beside_wide_ones_decodes_to_no_bytes() -> None:
    # BackendSamplerV2 (Qiskit 2.6) raises a broadcasting ValueError here: an empty
    # register starting at clbit 0 takes every bit of a wider shot. Ours gives no bytes.
    circuit = QuantumCircuit(
        QuantumRegister(1), ClassicalRegister(0, "empty"), ClassicalRegister(66, "wide")
    )
    memory = [[hex((1 << 65) | 5), "0x1"]]
    arrays = unpack_registers(memory, (1,), 2, register_layout(circuit))
    assert arrays["empty"].shape == (1, 2, 0)
    assert arrays["wide"].shape == (1, 2, 9)
    assert arrays["wide"][0, 0, 0] == 2  # bit 65 is bit 1 of the first (top) byte
    assert arrays["wide"][0, 0, -1] == 5
    assert arrays["wide"][0, 1, -1] == 1


def test_a_circuit_wider_than_64_clbits_samples_like_backend_sampler_v2(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend("ideal_simulator")
    wide = ClassicalRegister(70, "wide")
    circuit = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(3, "low"), wide)
    circuit.h(0)
    circuit.x(1)
    circuit.measure(0, 0)
    circuit.measure(1, wide[69])  # the top bit of the shot: beyond 64 bits
    circuit.measure(0, wide[0])
    options = {"seed_simulator": 12}
    ours = VendorSampler(backend=backend, options=options).run([circuit], shots=40).result()[0]
    theirs = BackendSamplerV2(backend=backend, options=options).run([circuit], shots=40).result()
    for name in ("low", "wide"):
        assert ours.data[name].num_bits == theirs[0].data[name].num_bits
        assert np.array_equal(ours.data[name].array, theirs[0].data[name].array)
    assert {key[0] for key in ours.data.wide.get_counts()} == {"1"}  # bit 69 always set


# ------------------------------------------------------------- broadcast without parameters


@pytest.mark.parametrize("level", [2, 3])
def test_a_parameter_the_transpiler_removes_still_gives_one_result_per_binding(
    provider: VendorProvider, api: MockedApi, level: int
) -> None:
    # rz just before a measurement changes nothing the measurement sees: levels 2 and 3
    # remove it, and the circuit to run has no parameters left for its three bindings.
    backend = provider.get_backend("superconducting_27q")
    theta = Parameter("theta")
    circuit = QuantumCircuit(1, 1)  # no barrier before the measurement (measure_all has one)
    circuit.h(0)
    circuit.rz(theta, 0)
    circuit.measure(0, 0)
    values = [[0.1], [0.2], [0.3]]
    shots = 400
    sampler = VendorSampler(
        backend=backend, options={"optimization_level": level, "seed_simulator": 3}
    )
    pub = sampler.run([(circuit, values)], shots=shots).result()[0]
    reference = BackendSamplerV2(backend=AerSimulator(), options={"seed_simulator": 3})
    expected = reference.run([(circuit, values)], shots=shots).result()[0]
    assert pub.data.c.shape == expected.data.c.shape == (3,)
    assert pub.data.c.num_shots == shots
    # Every row went out on the wire (one program, one empty row per binding) and so
    # through the rule book, instead of two rows the server never saw.
    (call,) = api.calls("POST", "/v1/jobs")
    (program,) = json.loads(call.request.body)["programs"]
    assert program.get("parameters", []) == []  # the wire leaves out empty defaults
    assert program["parameter_values"] == [[], [], []]
    for index in range(3):
        counts = pub.data.c[index].get_counts()
        assert abs(counts.get("1", 0) / shots - 0.5) <= sigma_bound(0.5, shots)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (1, 1, 2)])
def test_a_parameter_free_circuit_broadcast_over_a_shape_matches_backend_sampler_v2(
    provider: VendorProvider, shape: tuple[int, ...]
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    shots = 300
    pubs = [(circuit, BindingsArray(shape=shape))]
    ours = VendorSampler(backend=backend, options={"seed_simulator": 8}).run(pubs, shots=shots)
    theirs = BackendSamplerV2(backend=AerSimulator(), options={"seed_simulator": 8})
    mine, reference = ours.result()[0], theirs.run(pubs, shots=shots).result()[0]
    assert mine.data.meas.shape == reference.data.meas.shape == shape
    assert mine.data.meas.array.shape == reference.data.meas.array.shape
    assert_metadata_extends(mine.metadata, reference.metadata)
    for index in np.ndindex(*shape):
        assert_same_distribution(
            mine.data.meas[index].get_counts(), reference.data.meas[index].get_counts(), shots
        )


def test_the_rows_of_a_parameter_free_circuit_count_toward_max_parameter_rows(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    backend._spec = backend.spec.model_copy(
        update={"limits": backend.limits.model_copy(update={"max_parameter_rows": 10})}
    )
    circuit = QuantumCircuit(1)
    circuit.x(0)
    circuit.measure_all()
    result = VendorSampler(backend=backend).run([(circuit, BindingsArray(shape=(25,)))], shots=4)
    pub = result.result()[0]
    (call,) = api.calls("POST", "/v1/jobs")
    programs = json.loads(call.request.body)["programs"]
    assert [len(program["parameter_values"]) for program in programs] == [10, 10, 5]
    assert [pub.data.meas[i].get_counts() for i in range(25)] == [{"1": 4}] * 25


def test_the_estimate_of_a_parameter_free_broadcast_counts_every_binding(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend("trapped_ion_11q")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    sampler = VendorSampler(backend=backend, options={"seed_simulator": 2})
    pubs = [(circuit, BindingsArray(shape=(2, 2)), 50)]
    estimate = sampler.estimate(pubs)
    (program,) = estimate.per_program
    assert program.rows == 4
    sampler.run(pubs).result()
    (job,) = backend.jobs(limit=1)
    assert math.isclose(job.usage() or 0.0, estimate.device_seconds, rel_tol=1e-12)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_non_finite_value_is_refused_even_for_a_parameter_the_transpiler_removes(
    provider: VendorProvider, api: MockedApi, bad: float
) -> None:
    # Found by the differential test: the removed parameter's column was dropped before
    # the values were checked, so NaN ran unseen (Qiskit's references refuse it).
    backend = provider.get_backend("superconducting_27q")
    theta = Parameter("theta")
    circuit = QuantumCircuit(1, 1)
    circuit.h(0)
    circuit.rz(theta, 0)
    circuit.measure(0, 0)
    sampler = VendorSampler(backend=backend, options={"optimization_level": 3})
    with pytest.raises(VendorValidationError, match="PUB 0: the parameter values hold NaN"):
        sampler.run([(circuit, [[0.1], [bad]])]).result()  # run() raises, before any job
    assert not api.calls("POST", "/v1/jobs")
