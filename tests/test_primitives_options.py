"""VendorSampler/VendorEstimator options: validated when set, defaults from the device."""

from __future__ import annotations

import json

import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import PassManager

from qiskit_vendor_provider import VendorProvider, VendorValidationError
from qiskit_vendor_provider.primitives import (
    TRANSPILE_OPTION_NAMES,
    EstimatorOptions,
    SamplerOptions,
    VendorEstimator,
    VendorSampler,
)
from tests.conftest import MockedApi


def bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


def test_defaults_come_from_the_device(provider: VendorProvider) -> None:
    ideal = provider.get_backend("ideal_simulator")
    noisy = provider.get_backend("superconducting_27q")
    assert VendorSampler(backend=ideal).options.default_shots == ideal.limits.default_shots == 1024
    assert VendorSampler(backend=noisy).options.default_shots == noisy.limits.default_shots == 4096
    options = VendorEstimator(backend=noisy).options
    assert options.default_precision == 0.015625  # Qiskit's: 4096 shots fit in one job
    assert options.abelian_grouping is True
    assert options.skip_transpilation is False
    assert options.optimization_level == 1
    assert options.max_jobs == 100


def test_default_precision_never_asks_for_more_shots_than_a_job_allows(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend("ideal_simulator")
    backend._spec = backend.spec.model_copy(
        update={"limits": backend.limits.model_copy(update={"max_shots": 1000})}
    )
    precision = VendorEstimator(backend=backend).options.default_precision
    assert precision == pytest.approx(1000**-0.5, rel=1e-9)
    assert precision**-2 <= 1000


def test_options_as_a_dict_at_construction(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    sampler = VendorSampler(
        backend=backend,
        options={
            "default_shots": 77,
            "seed_simulator": 5,
            "job_name": "sweep",
            "job_tags": ["a", "b"],
            "optimization_level": 3,
            "transpile_options": {"seed_transpiler": 11},
        },
    )
    assert sampler.options.default_shots == 77
    assert sampler.options.seed_simulator == 5
    assert sampler.options.job_tags == ["a", "b"]
    assert sampler.transpile_options == {"seed_transpiler": 11}
    estimator = VendorEstimator(
        backend=backend, options={"default_precision": 0.05, "abelian_grouping": False}
    )
    assert estimator.options.default_precision == 0.05
    assert estimator.options.abelian_grouping is False


def test_options_as_a_model_at_construction(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    given = SamplerOptions(default_shots=9)
    sampler = VendorSampler(backend=backend, options=given)
    assert sampler.options.default_shots == 9
    assert sampler.options is not given  # a copy: changing one leaves the other alone
    with pytest.raises(VendorValidationError, match="options must be a dict or SamplerOptions"):
        VendorSampler(backend=backend, options=EstimatorOptions())  # type: ignore[arg-type]
    with pytest.raises(VendorValidationError, match="options must be a dict"):
        VendorSampler(backend=backend, options=[("default_shots", 3)])  # type: ignore[arg-type]


@pytest.mark.parametrize("primitive", [VendorSampler, VendorEstimator])
def test_unknown_names_list_the_valid_ones(
    provider: VendorProvider, primitive: type[VendorSampler] | type[VendorEstimator]
) -> None:
    backend = provider.get_backend("ideal_simulator")
    with pytest.raises(VendorValidationError) as info:
        primitive(backend=backend, options={"seed": 1})
    message = str(info.value)
    assert "unknown" in message
    assert "'seed' (did you mean 'seed_simulator'?)" in message
    for name in ("seed_simulator", "job_tags", "skip_transpilation", "bound_pass_manager"):
        assert name in message
    instance = primitive(backend=backend)
    with pytest.raises(VendorValidationError, match=r"valid options: .*optimization_level"):
        instance.set_options(optimisation_level=2)
    with pytest.raises(VendorValidationError, match="did you mean 'job_name'"):
        instance.options.jobname = "x"


def test_estimator_and_sampler_options_differ(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    # IBM's Estimator takes default_shots (it overrides default_precision); the
    # resilience options are the Estimator's alone.
    assert VendorEstimator(backend=backend, options={"default_shots": 10}).options.default_shots
    with pytest.raises(VendorValidationError, match=r"valid options: .*default_shots"):
        VendorSampler(backend=backend, options={"resilience_level": 1})
    with pytest.raises(VendorValidationError, match=r"valid options: .*default_shots"):
        VendorSampler(backend=backend, options={"default_precision": 0.1})


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("default_shots", 0, "greater than or equal to 1"),
        ("default_shots", True, "whole number"),
        ("default_shots", "100", "whole number"),
        ("default_shots", 10.5, "whole number"),
        ("seed_simulator", -1, "greater than or equal to 0"),
        ("seed_simulator", 2**63, "less than"),
        ("job_name", 3, "string"),
        ("job_name", "x" * 257, "at most 256"),
        ("job_tags", "calibration", "list"),
        ("job_tags", [""], "at least 1"),
        ("skip_transpilation", "yes", "boolean"),
        ("skip_transpilation", 1, "boolean"),
        ("optimization_level", 4, "less than or equal to 3"),
        ("max_jobs", 0, "greater than or equal to 1"),
        ("bound_pass_manager", "level1", "BasePassManager"),
        (
            "run_options",
            {"shots": 10},
            "valid options: job_name, job_tags, max_execution_time, seed_simulator",
        ),
        ("run_options", {"seed_simulator": -2}, "greater than or equal to 0"),
        ("transpile_options", {"target": None}, "unknown transpile option"),
    ],
)
def test_bad_values_are_refused_when_set(
    provider: VendorProvider, name: str, value: object, fragment: str
) -> None:
    sampler = VendorSampler(backend=provider.get_backend("ideal_simulator"))
    before = sampler.options.model_dump()
    with pytest.raises(VendorValidationError, match=fragment):
        sampler.set_options(**{name: value})
    with pytest.raises(VendorValidationError, match=fragment):
        setattr(sampler.options, name, value)
    with pytest.raises(VendorValidationError, match=fragment):
        VendorSampler(backend=sampler.backend, options={name: value})
    assert sampler.options.model_dump() == before


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (0.0, "greater than 0"),
        (-0.1, "greater than 0"),
        (float("nan"), "finite"),
        ("0.1", "number"),
    ],
)
def test_bad_precision_is_refused_when_set(
    provider: VendorProvider, value: object, fragment: str
) -> None:
    estimator = VendorEstimator(backend=provider.get_backend("ideal_simulator"))
    with pytest.raises(VendorValidationError, match=fragment):
        estimator.set_options(default_precision=value)
    assert estimator.options.default_precision == 0.015625


def test_set_options_validates_all_before_changing_any(provider: VendorProvider) -> None:
    sampler = VendorSampler(backend=provider.get_backend("ideal_simulator"))
    with pytest.raises(VendorValidationError):
        sampler.set_options(default_shots=10, seed_simulator=-1)
    assert sampler.options.default_shots == 1024
    sampler.set_options(default_shots=10, seed_simulator=2)
    assert (sampler.options.default_shots, sampler.options.seed_simulator) == (10, 2)
    sampler.options.default_shots = 20  # assignment is validated, and allowed when valid
    assert sampler.options.default_shots == 20


def test_set_transpile_options_merges_and_checks(provider: VendorProvider) -> None:
    sampler = VendorSampler(backend=provider.get_backend("superconducting_27q"))
    sampler.set_transpile_options(seed_transpiler=3)
    sampler.set_transpile_options(layout_method="sabre")
    assert sampler.transpile_options == {"seed_transpiler": 3, "layout_method": "sabre"}
    assert sampler.options.transpile_options == sampler.transpile_options
    with pytest.raises(VendorValidationError) as info:
        sampler.set_transpile_options(seed=3)
    assert "did you mean 'seed_transpiler'" in str(info.value)
    assert all(name in str(info.value) for name in TRANSPILE_OPTION_NAMES)
    # Values are checked by building the pass manager, still at set time.
    with pytest.raises(VendorValidationError, match="Invalid plugin name nope"):
        sampler.set_transpile_options(layout_method="nope")
    with pytest.raises(VendorValidationError, match="seed"):
        sampler.set_transpile_options(seed_transpiler="x")
    assert sampler.transpile_options == {"seed_transpiler": 3, "layout_method": "sabre"}


def test_a_pass_manager_is_accepted_as_bound_pass_manager(provider: VendorProvider) -> None:
    sampler = VendorSampler(backend=provider.get_backend("ideal_simulator"))
    manager = PassManager([])
    sampler.set_options(bound_pass_manager=manager)
    assert sampler.options.bound_pass_manager is manager


def test_job_name_tags_and_run_options_reach_the_job(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    sampler = VendorSampler(
        backend=backend,
        options={"run_options": {"job_tags": ["from-run-options"], "seed_simulator": 4}},
    )
    sampler.run([bell()], shots=10).result()
    body = json.loads(api.calls("POST", "/v1/jobs")[-1].request.body)
    assert body["tags"] == ["from-run-options"]
    assert body["seed_simulator"] == 4
    assert body["memory"] is True
    # The dedicated options win over run_options when both are set.
    sampler.set_options(job_name="named", job_tags=["own"], seed_simulator=6)
    sampler.run([bell()], shots=10).result()
    body = json.loads(api.calls("POST", "/v1/jobs")[-1].request.body)
    assert (body["name"], body["tags"], body["seed_simulator"]) == ("named", ["own"], 6)


def test_the_backend_must_be_a_vendor_backend() -> None:
    from qiskit_aer import AerSimulator

    with pytest.raises(VendorValidationError, match="runs on a VendorBackend"):
        VendorSampler(backend=AerSimulator())  # type: ignore[arg-type]
    with pytest.raises(VendorValidationError, match="runs on a VendorBackend"):
        VendorEstimator(backend=AerSimulator())  # type: ignore[arg-type]


def test_the_backend_reads_its_run_options_from_the_one_model() -> None:
    from qiskit_vendor_provider import backend as backend_module
    from qiskit_vendor_provider.run_options import (
        JOB_SETTING_NAMES,
        RUN_OPTION_NAMES,
        default_run_options,
        run_arguments,
    )

    assert backend_module.RUN_OPTIONS is RUN_OPTION_NAMES
    passed = run_arguments({}, shots=1, memory=False, seed_simulator=None, parameter_binds=None)
    assert set(passed) - {"parameter_binds"} <= set(RUN_OPTION_NAMES)
    assert set(JOB_SETTING_NAMES) < set(RUN_OPTION_NAMES)
    assert backend_module.VendorBackend._default_options().__dict__ == default_run_options()
    with pytest.raises(ValueError, match="not job settings: shots"):
        run_arguments(
            {"shots": 5}, shots=1, memory=False, seed_simulator=None, parameter_binds=None
        )


# --------------------------------------------------------------------------- reproducible runs


def scrambler() -> QuantumCircuit:
    """Five qubits, a cx between every pair: the layout on a heavy-hex device varies a lot
    with the transpiler's seed (unseeded, 12 transpilations gave 8 different circuits)."""
    circuit = QuantumCircuit(5)
    circuit.h(0)
    for a in range(5):
        for b in range(a + 1, 5):
            circuit.cx(a, b)
    circuit.x(1)
    circuit.measure_all()
    return circuit


def sent_programs(api: MockedApi) -> list[object]:
    """The programs of every job sent, without their circuits' names: Qiskit 2.0's
    transpiler names an unnamed circuit's output anew each time ('circuit-169', ...)."""
    jobs = [json.loads(call.request.body)["programs"] for call in api.calls("POST", "/v1/jobs")]
    for programs in jobs:
        for program in programs:
            program["header"].pop("name", None)
    return jobs


def test_seed_simulator_alone_makes_a_transpiling_run_reproducible(
    provider: VendorProvider, api: MockedApi
) -> None:
    # Unseeded, the layout pass picked other qubits each run: P(0101) read 54/54/57/54.
    backend = provider.get_backend("superconducting_27q")
    circuit = scrambler()
    counts = [
        VendorSampler(backend=backend, options={"seed_simulator": 11})
        .run([circuit], shots=1000)
        .result()[0]
        .data.meas.get_counts()
        for _ in range(6)
    ]
    assert all(each == counts[0] for each in counts)
    programs = sent_programs(api)
    assert all(program == programs[0] for program in programs)


def test_the_transpiler_seed_follows_seed_simulator_unless_given(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("superconducting_27q")
    scrambled = scrambler()

    def programs(options: dict[str, object]) -> object:
        VendorSampler(backend=backend, options=options).run([scrambled], shots=10).result()
        return sent_programs(api)[-1]

    from_simulator_seed = programs({"seed_simulator": 5})
    assert from_simulator_seed == programs({"transpile_options": {"seed_transpiler": 5}})
    given = programs({"seed_simulator": 5, "transpile_options": {"seed_transpiler": 8}})
    assert given == programs({"transpile_options": {"seed_transpiler": 8}})
    # Both seeds matter here (else the test above could not tell them apart).
    assert given != from_simulator_seed
    # The estimator shares the preparation: its seeded runs repeat exactly too.
    estimator = VendorEstimator(backend=backend, options={"seed_simulator": 5})
    observable = SparsePauliOp(["ZIZIZ", "IXXII"])
    circuit = scrambled.remove_final_measurements(inplace=False)
    values = {
        float(estimator.run([(circuit, observable)], precision=0.05).result()[0].data.evs)
        for _ in range(3)
    }
    assert len(values) == 1, values
