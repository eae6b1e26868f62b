"""What a user types reaches the API's models only once checked: a typed error naming the
field and its limit, never pydantic's ``ValidationError`` (finding 2); IBM's listing
arguments and run options are named in the messages that refuse them (finding 16)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.backend import ACCEPTED_RUN_OPTIONS, COMPAT_RUN_OPTIONS
from qiskit_vendor_provider.errors import VendorError, VendorValidationError
from qiskit_vendor_provider.ibm_arguments import IBM_LISTING_ARGUMENTS
from qiskit_vendor_provider.primitives import VendorSampler
from qiskit_vendor_provider.run_options import RUN_OPTION_NAMES
from tests.conftest import MockedApi
from tests.helpers import bell

DEVICE = "ideal_simulator"


def measured(circuit: QuantumCircuit) -> QuantumCircuit:
    circuit.measure(0, 0)
    return circuit


def long_name() -> QuantumCircuit:
    return measured(QuantumCircuit(1, 1, name="x" * 300))


def long_loop_parameter() -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1)
    with circuit.for_loop(range(2), loop_parameter=Parameter("p" * 300)) as angle:
        circuit.rx(angle, 0)
    return measured(circuit)


def huge_loop_index() -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1)
    with circuit.for_loop([2**40, 1]):
        circuit.x(0)
    return measured(circuit)


def wide_register_condition() -> QuantumCircuit:
    register = ClassicalRegister(70, "c")
    circuit = QuantumCircuit(QuantumRegister(1), register)
    circuit.measure(0, 0)
    with circuit.if_test((register, 2**65)):
        circuit.x(0)
    return circuit


def self_containing_metadata() -> QuantumCircuit:
    circuit = measured(QuantumCircuit(1, 1))
    loop: dict[str, Any] = {}
    loop["again"] = loop
    circuit.metadata = {"loop": loop}
    return circuit


CIRCUITS: list[Any] = [
    pytest.param(long_name, ["300 characters", "256", "circuit.name"], id="300-character name"),
    pytest.param(long_loop_parameter, ["loop_parameter", "256"], id="long loop parameter"),
    pytest.param(huge_loop_index, ["indexset", "2147483648"], id="loop index past int32"),
    pytest.param(wide_register_condition, ["width", "64"], id="70-bit register"),
    pytest.param(self_containing_metadata, ["metadata contains itself"], id="circular metadata"),
]


@pytest.mark.parametrize(("make", "words"), CIRCUITS)
def test_run_refuses_with_the_field_and_its_limit_before_any_http(
    provider: VendorProvider,
    api: MockedApi,
    make: Callable[[], QuantumCircuit],
    words: list[str],
) -> None:
    backend = provider.get_backend(DEVICE)
    for attempt in (backend.run, backend.estimate):
        with pytest.raises(VendorValidationError) as caught:
            attempt(make())
        assert not isinstance(caught.value.__cause__, ValidationError)
        for word in words:
            assert word in str(caught.value)
    assert api.calls("POST") == []


def test_a_circuit_name_of_the_most_allowed_length_runs(provider: VendorProvider) -> None:
    circuit = measured(QuantumCircuit(1, 1, name="n" * 256))
    result = provider.get_backend(DEVICE).run(circuit, shots=4, seed_simulator=1).result()
    assert sum(result.get_counts().values()) == 4


def test_metadata_keys_json_cannot_hold_are_sent_as_text(
    provider: VendorProvider, api: MockedApi
) -> None:
    circuit = bell()
    circuit.metadata = {(1, 2): "pair", 3: {frozenset({4}): [5]}}
    job = provider.get_backend(DEVICE).run(circuit, shots=4, seed_simulator=1)
    assert sum(job.result().get_counts().values()) == 4
    sent = json.loads(api.calls("POST", "/v1/jobs")[0].request.body)
    metadata = sent["programs"][0]["header"]["metadata"]
    assert metadata == {"(1, 2)": "pair", "3": {"frozenset({4})": [5]}}


def test_too_many_tags_name_the_option_and_its_limit(provider: VendorProvider) -> None:
    with pytest.raises(VendorValidationError, match="job_tags has 40 tags; the most is 32"):
        provider.get_backend(DEVICE).run(bell(), job_tags=[f"t{i}" for i in range(40)])


def test_the_sampler_refuses_a_long_circuit_name_as_a_vendor_error(
    provider: VendorProvider, api: MockedApi
) -> None:
    sampler = VendorSampler(backend=provider.get_backend(DEVICE))
    with pytest.raises(VendorError) as caught:
        sampler.run([long_name()]).result()
    assert "256" in str(caught.value) and not isinstance(caught.value, ValidationError)
    assert api.calls("POST") == []


# ----------------------------------------------------------------- finding 16


@pytest.mark.parametrize("argument", sorted(IBM_LISTING_ARGUMENTS))
def test_ibm_listing_arguments_are_refused_by_name_with_what_to_use(
    provider: VendorProvider, api: MockedApi, argument: str
) -> None:
    backend = provider.get_backend(DEVICE)
    before = len(api.calls())
    for listing, name in ((provider.jobs, "jobs"), (backend.jobs, "jobs")):
        with pytest.raises(VendorValidationError) as caught:
            listing(**{argument: "x"})
        text = str(caught.value)
        assert f"{name}({argument}=...)" in text and "not supported" in text
        assert IBM_LISTING_ARGUMENTS[argument] in text
    assert len(api.calls()) == before


def test_db_filter_and_experiment_id_say_what_to_use_instead(provider: VendorProvider) -> None:
    with pytest.raises(VendorValidationError, match="start_datetime= and end_datetime="):
        provider.jobs(db_filter={"creationDate": {"gt": "2026-01-01"}})
    with pytest.raises(VendorValidationError, match=r"job_tags=\['my-experiment'\]"):
        provider.get_backend(DEVICE).jobs(limit=5, experiment_id="abc")


def test_another_unknown_listing_argument_lists_the_real_ones(provider: VendorProvider) -> None:
    with pytest.raises(VendorValidationError) as caught:
        provider.jobs(job_tag=["a"])
    text = str(caught.value)
    assert "Did you mean job_tags=?" in text and "start_datetime" in text


def test_the_unknown_run_option_message_lists_every_accepted_option(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend(DEVICE)
    with pytest.raises(VendorValidationError, match="unknown run option") as caught:
        backend.run(bell(), shotz=10)
    listed = str(caught.value).split("valid options: ")[1].split(", ")
    assert listed == list(ACCEPTED_RUN_OPTIONS)
    for name in (*RUN_OPTION_NAMES, *COMPAT_RUN_OPTIONS, "rep_delay", "meas_level"):
        assert name in listed
    assert api.calls("POST") == []


ACCEPTED_VALUES = {
    "shots": 8,
    "memory": True,
    "seed_simulator": 1,
    "job_name": "n",
    "job_tags": ["t"],
    "with_progress_bar": False,
    "meas_level": 2,
    "meas_return": "single",
    "init_qubits": True,
    "session": None,
}


@pytest.mark.parametrize("option", sorted(ACCEPTED_VALUES))
def test_every_listed_option_is_accepted_by_run(provider: VendorProvider, option: str) -> None:
    """rep_delay is left out: the device's range decides it (tests/test_ibm_options.py)."""
    assert option in ACCEPTED_RUN_OPTIONS
    backend = provider.get_backend(DEVICE)
    backend.estimate(bell(), **{option: ACCEPTED_VALUES[option]})  # raises if refused


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ({"min_num_qubits": "3"}, "min_num_qubits='3'"),
        ({"min_num_qubits": -1}, "min_num_qubits=-1"),
        ({"min_num_qubits": True}, "min_num_qubits=True"),
        ({"simulator": "yes"}, "simulator='yes'"),
        ({"operational": 1}, "operational=1"),
        ({"name": 5}, "name=5"),
    ],
)
def test_device_filters_of_the_wrong_type_are_refused_by_name(
    provider: VendorProvider, filters: dict[str, Any], named: str
) -> None:
    for method in (provider.backends, provider.least_busy):
        with pytest.raises(VendorValidationError, match=f"^{named.replace('(', '.')}"):
            method(**filters)
    # A whole number of any integer type is a number of qubits.
    assert provider.backends(min_num_qubits=np.int64(30)) != []
