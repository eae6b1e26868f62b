"""Rows the primitives pool (twirled randomizations) share the slow noise's draws.

A twirled Estimator PUB is one program whose rows are every binding once per
randomization. Drawing the slow detuning 32 times for each of those rows made a default
(resilience level 1) Estimator run 32 x 32 Aer experiments per binding and basis; the
program's ``row_block`` tells the emulator which rows are pooled, so it spreads the
stratified draws over a block's rows instead: at least 32 strata per block, and a draw
per 125 shots. What each row sees is still a draw from the calibrated distribution.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
import requests
from pydantic import ValidationError
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.api.models import JobSubmission, WireProgram
from qiskit_vendor_provider.api.versions import API_VERSION_HEADER
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, InProcessTransport, create_app
from qiskit_vendor_provider.emulator.simulation import (
    DETUNING_CUTOFF,
    DETUNING_GROUPS,
    JobRunner,
    detuning_draws,
    detuning_groups,
    make_simulator,
    simulate,
)
from qiskit_vendor_provider.primitives import VendorEstimator
from qiskit_vendor_provider.serialization import circuit_to_wire

SC = "superconducting_27q"


class _Recording(InProcessTransport):
    """The in-process transport, keeping each job posted and naming an API version."""

    def __init__(self, app: Any, api_version: str | None = None) -> None:
        super().__init__(app)
        self.posted: list[dict[str, Any]] = []
        self._api_version = api_version

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if request.method == "POST" and urlsplit(request.path_url or "").path.endswith("/v1/jobs"):
            body = request.body
            self.posted.append(json.loads(body if isinstance(body, bytes | str) else b"{}"))
        response = super().send(request, *args, **kwargs)
        if self._api_version is not None:
            response.headers[API_VERSION_HEADER] = self._api_version
        return response


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    running = Emulator(EmulatorConfig(database=":memory:", poll_interval=0.02)).start()
    yield running
    running.stop()


def _provider(transport: _Recording) -> VendorProvider:
    return VendorProvider(transport=transport)


def _bell_estimator_pub(backend: Any) -> tuple[QuantumCircuit, SparsePauliOp]:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    isa = generate_preset_pass_manager(
        backend=backend, optimization_level=1, initial_layout=[0, 1], seed_transpiler=1
    ).run(circuit)
    return isa, SparsePauliOp("ZZ").apply_layout(isa.layout)


def test_a_pooled_block_takes_the_groups_of_one_row() -> None:
    assert detuning_groups(4000) == 32
    assert detuning_groups(64, block=32) == 1  # the 32 rows of the block: 32 strata
    assert detuning_groups(100, block=8) == 4  # 8 rows x 4 groups: 32 strata
    # At least a draw per 125 shots, as a 4,000-shot row alone has: big rows keep theirs.
    assert detuning_groups(1000, block=32) == 8
    assert detuning_groups(4000, block=32) == 32
    assert detuning_groups(3, block=2) == 3  # never more groups than shots


def test_a_blocks_draws_cover_the_strata_once_each_per_qubit() -> None:
    block, groups, rows = 8, 4, 16  # two blocks of 8 rows, 4 groups each: 32 strata
    draws = detuning_draws([1.0, 3.0], rows, groups, np.random.default_rng(5), block=block)
    span = 2 * math.atan(DETUNING_CUTOFF)
    for width, values in zip([1.0, 3.0], draws, strict=True):
        assert len(values) == rows * groups
        quantiles = np.arctan(np.array(values) / width) / span + 0.5
        for first in range(0, rows * groups, block * groups):
            strata = np.floor(quantiles[first : first + block * groups] * block * groups)
            assert sorted(strata.astype(int).tolist()) == list(range(block * groups))
    # The qubits' orders are their own.
    assert abs(np.corrcoef(draws[0], draws[1])[0, 1]) < 0.5


def test_a_row_block_must_divide_the_rows() -> None:
    program = circuit_to_wire(QuantumCircuit(1, 1)).model_copy(
        update={"parameter_values": [[]] * 6, "row_block": 4}
    )
    with pytest.raises(ValidationError, match="row_block=4 does not divide the 6 rows"):
        WireProgram.model_validate(program.model_dump())


def test_the_server_refuses_a_row_block_that_cuts_a_row_table() -> None:
    app = create_app(Emulator(EmulatorConfig(database=":memory:")))
    session = requests.Session()
    session.mount("http://", InProcessTransport(app))
    program = circuit_to_wire(QuantumCircuit(1, 1)).model_dump(mode="json", exclude_defaults=True)
    program.update(parameter_values=[[]] * 6, row_block=4)
    answer = session.post(
        "http://emulator/v1/jobs",
        json={"device": "ideal_simulator", "programs": [program], "shots": 10},
    )
    assert answer.status_code == 422
    assert "row_block" in answer.text


class _CountingSimulator:
    """Aer, counting the experiments each run asks for (a seam of :func:`simulate`)."""

    def __init__(self) -> None:
        self.simulator = make_simulator()
        self.options = self.simulator.options
        self.experiments = 0

    def run(self, circuits: list[QuantumCircuit], **options: Any) -> Any:
        binds = options.get("parameter_binds") or [{}] * len(circuits)
        self.experiments += sum(len(next(iter(b.values()))) if b else 1 for b in binds)
        return self.simulator.run(circuits, **options)


def test_pooled_rows_run_one_experiment_each_instead_of_thirty_two() -> None:
    runner = JobRunner()
    spec = Emulator(EmulatorConfig(database=":memory:")).catalog.spec(SC)
    circuit = QuantumCircuit(2, 2)
    circuit.sx(0)
    circuit.delay(400, 0)
    circuit.sx(0)
    circuit.measure([0, 1], [0, 1])
    program = circuit_to_wire(circuit).model_copy(update={"parameter_values": [[]] * 32})
    circuits = runner.circuits(JobSubmission(device=SC, programs=[program], shots=64), spec)
    device = runner._device(spec)
    counted = {}
    for block in (1, 32):
        submission = JobSubmission(
            device=SC,
            programs=[program.model_copy(update={"row_block": block})],
            shots=64,
            seed_simulator=3,
        )
        simulator = _CountingSimulator()
        results, _ = simulate(simulator, submission, circuits, device.noise, device.prepare)  # type: ignore[arg-type]
        assert [sum(d.counts.values()) for d in results[0].data] == [64] * 32
        counted[block] = simulator.experiments
    assert counted == {1: 32 * DETUNING_GROUPS, 32: 32}


def test_the_estimator_sends_its_randomizations_as_blocks_and_pools_them(
    emulator: Emulator,
) -> None:
    transport = _Recording(create_app(emulator))
    backend = _provider(transport).get_backend(SC)
    isa, observable = _bell_estimator_pub(backend)
    estimator = VendorEstimator(backend=backend, options={"seed_estimator": 11})
    estimator.options.twirling.num_randomizations = 16
    estimator.options.twirling.shots_per_randomization = 256
    value = float(estimator.run([(isa, observable)]).result()[0].data.evs)
    programs = [p for job in transport.posted for p in job["programs"]]
    assert programs and all(p.get("row_block") == 16 for p in programs)
    # TREX-mitigated Bell <ZZ> on good qubits: near the ideal 1, within what 4,096 shots
    # and the unmitigated gate error allow.
    assert value == pytest.approx(1.0, abs=0.1)


def test_a_server_before_api_1_2_gets_no_row_block(emulator: Emulator) -> None:
    transport = _Recording(create_app(emulator), api_version="1.1")
    backend = _provider(transport).get_backend(SC)
    isa, observable = _bell_estimator_pub(backend)
    estimator = VendorEstimator(backend=backend, options={"seed_estimator": 11})
    estimator.options.twirling.num_randomizations = 4
    estimator.options.twirling.shots_per_randomization = 64
    estimator.run([(isa, observable)]).result()
    programs = [p for job in transport.posted for p in job["programs"]]
    assert programs and not any("row_block" in p for p in programs)


def test_the_sampler_sends_its_randomizations_as_blocks(emulator: Emulator) -> None:
    from qiskit_vendor_provider.primitives import VendorSampler

    transport = _Recording(create_app(emulator))
    backend = _provider(transport).get_backend(SC)
    circuit = QuantumCircuit(2)
    circuit.x(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    isa = generate_preset_pass_manager(
        backend=backend, optimization_level=1, initial_layout=[0, 1], seed_transpiler=1
    ).run(circuit)
    sampler = VendorSampler(backend=backend, options={"seed_simulator": 5})
    sampler.options.twirling.enable_measure = True
    sampler.options.twirling.num_randomizations = 8
    sampler.options.twirling.shots_per_randomization = 100
    counts = sampler.run([isa], shots=800).result()[0].data.meas.get_counts()
    programs = [p for job in transport.posted for p in job["programs"]]
    assert programs and all(p.get("row_block") == 8 for p in programs)
    # The flips are undone per row: |11> dominates, up to readout and gate error.
    assert sum(counts.values()) == 800
    assert counts.get("11", 0) > 0.8 * 800


@pytest.mark.parametrize("block", [0, -3, 2, 10**30])
def test_a_row_block_without_whole_rows_is_refused_before_any_simulation(block: int) -> None:
    # A block on a program without a table (or a non-positive one) would otherwise ask
    # the simulator for block x groups draws.
    program = circuit_to_wire(QuantumCircuit(1, 1)).model_dump(mode="json", exclude_defaults=True)
    program["row_block"] = block
    with pytest.raises(ValidationError, match="row_block"):
        WireProgram.model_validate(program)
